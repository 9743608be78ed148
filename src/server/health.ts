import { type Database, pendingMigrations, ping } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { errorFields, type Logger } from '../runtime/index.js';
import type { JsonResponse, Route } from '../api/index.js';

/** A readiness probe must answer even when the database hangs (a lost server, a long transaction). */
const READINESS_TIMEOUT_MS = 2000;

/** Liveness: the process is up and its event loop answers. It never touches the database. */
async function liveness(): Promise<JsonResponse> {
  return { status: 200, body: { status: 'ok' } };
}

/**
 * Readiness: the database answers and its schema is the one this code expects. Failures are 503 with
 * a generic message; the cause goes to the log, since a probe endpoint is often public.
 */
async function readiness(database: Database<any>, logger: Logger): Promise<JsonResponse> {
  let pending: number[];
  try {
    pending = await withTimeout(probe(database), READINESS_TIMEOUT_MS);
  } catch (e) {
    logger.warn('readiness probe failed', errorFields(e));
    throw new AppError('database_unavailable', 'the database is not answering');
  }
  if (pending.length > 0) {
    throw new AppError('migrations_pending', `migrations pending: ${pending.join(', ')}; run \`earnest migrate\``);
  }
  return { status: 200, body: { status: 'ready' } };
}

async function probe(database: Database<any>): Promise<number[]> {
  await ping(database.db);
  return pendingMigrations(database.db);
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export const healthRoutes: readonly Route[] = [
  { method: 'GET', path: '/healthz', handle: liveness },
  { method: 'GET', path: '/readyz', handle: ({ database, logger }) => readiness(database, logger) },
];

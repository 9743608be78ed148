import type { IsolationLevel, Kysely, Transaction } from 'kysely';
import { AppError } from '../errors/index.js';

/** SQLSTATEs after which the whole transaction may simply be run again. */
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

/** Thrown inside a transaction to ask for a clean retry (e.g. lost a race on a unique key). */
export class RetryableConflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetryableConflict';
  }
}

export function sqlState(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isRetryable(e: unknown): boolean {
  if (e instanceof RetryableConflict) return true;
  const state = sqlState(e);
  return state !== undefined && RETRYABLE_SQLSTATES.has(state);
}

/**
 * SQLSTATE classes that say the database or its connection failed, not the statement: connection
 * exceptions (08), insufficient resources (53), operator intervention such as a shutdown (57),
 * system errors (58) and internal errors (XX).
 */
const SYSTEMIC_SQLSTATE_CLASSES = new Set(['08', '53', '57', '58', 'XX']);
const SYSTEMIC_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH']);
const SYSTEMIC_APP_CODES = new Set(['database_unavailable', 'contention', 'migrations_pending']);

/**
 * Whether an error is the database's failure rather than one statement's (a bad value, a broken
 * constraint): running the same work again, or a part of it, would fail the same way. Group commits use
 * it to decide whether a failed batch may be split to find the one member at fault.
 */
export function isSystemic(e: unknown): boolean {
  if (e instanceof AppError) return SYSTEMIC_APP_CODES.has(e.code);
  const state = sqlState(e);
  if (state === undefined) return false;
  return SYSTEMIC_NODE_CODES.has(state) || (state.length === 5 && SYSTEMIC_SQLSTATE_CLASSES.has(state.slice(0, 2)));
}

export interface TransactionOptions {
  isolation?: IsolationLevel;
  /** Bounded: contention beyond this is reported, never retried forever. */
  maxAttempts?: number;
}

export const DEFAULT_MAX_ATTEMPTS = 10;

/**
 * Runs `work` in a transaction, running it again from scratch after a serialization failure (40001),
 * a deadlock (40P01) or a RetryableConflict, at most `maxAttempts` times with jittered backoff.
 * `work` must therefore have no effects outside the transaction.
 */
export async function inTransaction<DB, T>(
  db: Kysely<DB>,
  work: (trx: Transaction<DB>) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    try {
      const builder = db.transaction();
      return await (options.isolation ? builder.setIsolationLevel(options.isolation) : builder).execute(work);
    } catch (e) {
      if (!isRetryable(e)) throw e;
      if (attempt >= maxAttempts) {
        throw new AppError('contention', `transaction gave up after ${attempt} attempts: ${(e as Error).message}`, {
          cause: e,
        });
      }
      await sleep(backoffMs(attempt));
    }
  }
}

function backoffMs(attempt: number): number {
  const ceiling = Math.min(100, 2 ** attempt);
  return Math.random() * ceiling;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

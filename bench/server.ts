import type { Kysely } from 'kysely';
import { loadConfig } from '../src/config/index.js';
import { createLogger, startServer } from '../src/server/index.js';
import { withFreshDatabase } from './engines.js';

/** A JSON call to the bench server: throws on an error status (or, with `expectCreated`, anything but 201). */
export type BenchCall = (method: string, path: string, key: string, body?: unknown, expectCreated?: boolean) => Promise<any>;

export function benchClient(base: string): BenchCall {
  return async (method, path, key, body, expectCreated = false) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = await response.json();
    if (response.status >= 400 || (expectCreated && response.status !== 201)) {
      throw new Error(`bench: ${method} ${path} answered ${response.status}: ${JSON.stringify(json)}`);
    }
    return json;
  };
}

export interface BenchServer {
  db: Kysely<any>;
  url: string;
  operatorKey: string;
  call: BenchCall;
}

/**
 * An Earnest server on a fresh schema of the PostgreSQL server, for the HTTP sections (loop, split):
 * no rate limits, no background settlement (the section settles when it measures it), quiet logs.
 * Stopped and its schema dropped afterwards, whatever happens.
 */
export function withBenchServer<T>(serverUrl: string, work: (server: BenchServer) => Promise<T>): Promise<T> {
  return withFreshDatabase(
    'postgres',
    serverUrl,
    async ({ db, engine }) => {
      const config = {
        ...loadConfig({ LOG_LEVEL: 'error', RATE_LIMIT_API_PER_MIN: '0', RATE_LIMIT_CONVERSIONS_PER_MIN: '0', SETTLE_INTERVAL_MS: '86400000' }),
        PORT: 0,
        HOST: '127.0.0.1',
        DB_POOL_SIZE: 20,
      };
      const server = await startServer(config, { database: { db, engine, close: async () => {} }, logger: createLogger('error') });
      try {
        return await work({ db, url: server.url, operatorKey: server.operatorKey as string, call: benchClient(server.url) });
      } finally {
        await server.stop();
      }
    },
    { poolSize: 24 },
  );
}

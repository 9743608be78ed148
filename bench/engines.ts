import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { type Database, dropSchema, type Engine, migrate, openDatabase } from '../src/db/index.js';

export const DEFAULT_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** The server to benchmark: BENCH_DATABASE_URL, or the machine's local PostgreSQL. */
export function serverUrlFromEnv(): string {
  return process.env.BENCH_DATABASE_URL || DEFAULT_SERVER_URL;
}

/** Undefined when the server answers; otherwise why not (the bench then skips the server part). */
export async function serverUnreachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (e) {
    return (e as Error).message || String(e);
  } finally {
    await client.end().catch(() => {});
  }
}

export interface BenchDatabase {
  db: Kysely<any>;
  engine: Engine;
  /** Server only: the throwaway schema's name. */
  where: string;
}

/**
 * Runs `work` on a fresh, migrated database and always cleans up: the embedded engine in a new temp
 * data directory (deleted after), or the server in a new schema (dropped after).
 */
export async function withFreshDatabase<T>(
  engine: Engine,
  serverUrl: string | undefined,
  work: (database: BenchDatabase) => Promise<T>,
  options: { poolSize?: number } = {},
): Promise<T> {
  if (engine === 'pglite') {
    const dataDir = mkdtempSync(join(os.tmpdir(), 'earnest-bench-'));
    let database: Database<any> | undefined;
    try {
      database = await openDatabase<any>({ dataDir });
      await migrate(database.db);
      return await work({ db: database.db, engine, where: dataDir });
    } finally {
      await database?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  if (!serverUrl) throw new Error('no server to benchmark');
  const schema = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  let database: Database<any> | undefined;
  try {
    database = await openDatabase<any>({ url: serverUrl, schema, poolSize: options.poolSize ?? 20 });
    await migrate(database.db);
    return await work({ db: database.db, engine, where: schema });
  } finally {
    await database?.close();
    await dropSchema(serverUrl, schema);
  }
}

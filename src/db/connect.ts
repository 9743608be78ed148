import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { AppError } from '../errors/index.js';
import { lockDataDir } from './lock.js';
import { PGliteDialect } from './pglite-dialect.js';

export type Engine = 'pglite' | 'postgres';

export interface OpenOptions {
  /** postgres://… to use a PostgreSQL server; otherwise the embedded engine. */
  url?: string | undefined;
  /** Embedded engine's data directory; omitted means in memory (tests). */
  dataDir?: string | undefined;
  /** Server only: a schema to create (if missing) and use through search_path (tests isolate in one). */
  schema?: string | undefined;
  /** Server only: connection pool size. */
  poolSize?: number | undefined;
}

export interface Database<DB> {
  readonly db: Kysely<DB>;
  readonly engine: Engine;
  close(): Promise<void>;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** int8 and integral numerics (sum() of int8) come back as bigint, never number. */
function parseNumeric(text: string): bigint | string {
  return /^-?\d+$/.test(text) ? BigInt(text) : text;
}

export async function openDatabase<DB>(options: OpenOptions): Promise<Database<DB>> {
  return options.url ? openServer<DB>(options.url, options) : openEmbedded<DB>(options.dataDir);
}

async function openEmbedded<DB>(dataDir: string | undefined): Promise<Database<DB>> {
  const unlock = dataDir ? lockDataDir(dataDir) : () => {};
  try {
    const pglite = new PGlite({
      ...(dataDir ? { dataDir } : {}),
      parsers: { [pgliteTypes.INT8]: (x: string) => BigInt(x), [pgliteTypes.NUMERIC]: parseNumeric },
    });
    await pglite.waitReady;
    const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
    return {
      db,
      engine: 'pglite',
      async close() {
        await db.destroy();
        unlock();
      },
    };
  } catch (e) {
    unlock();
    throw e;
  }
}

async function openServer<DB>(url: string, options: OpenOptions): Promise<Database<DB>> {
  const typeParsers = {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === INT8_OID) return (x: string) => BigInt(x);
      if (oid === NUMERIC_OID) return parseNumeric;
      return pg.types.getTypeParser(oid, format as 'text');
    },
  } as pg.CustomTypesConfig;
  if (options.schema) await createSchema(url, options.schema, typeParsers);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    types: typeParsers,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it. Queries in flight see their own error.
  });
  try {
    const client = await pool.connect();
    client.release();
  } catch (e) {
    await pool.end();
    throw new AppError('database_unavailable', `cannot connect to PostgreSQL: ${(e as Error).message}`, { cause: e });
  }
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return { db, engine: 'postgres', close: () => db.destroy() };
}

async function createSchema(url: string, schema: string, types: pg.CustomTypesConfig): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new AppError('invalid_config', `invalid schema name ${schema}`);
  const client = new pg.Client({ connectionString: url, types });
  try {
    await client.connect();
  } catch (e) {
    throw new AppError('database_unavailable', `cannot connect to PostgreSQL: ${(e as Error).message}`, { cause: e });
  }
  try {
    await client.query(`create schema if not exists ${schema}`);
  } finally {
    await client.end();
  }
}

/** Drops a server schema made by openDatabase({schema}) — test clean-up. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new AppError('invalid_config', `invalid schema name ${schema}`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}

/** Whether the database answers: one round trip (readiness probes). */
export async function ping(db: Kysely<any>): Promise<void> {
  await sql`select 1`.execute(db);
}

import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { dropSchema, type Engine, migrate, openDatabase } from '../../src/db/index.js';

/**
 * A fresh, migrated database for one test suite: an in-memory PGlite by default, or — when
 * TEST_DATABASE_URL is set — its own schema on that PostgreSQL server, dropped on close.
 */
export interface TestDatabase {
  db: Kysely<any>;
  engine: Engine;
  url: string | undefined;
  schema: string | undefined;
  close(): Promise<void>;
}

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;

export async function openTestDatabase(options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const url = TEST_DATABASE_URL;
  const schema = url ? `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}` : undefined;
  const database = await openDatabase<any>({ url, schema, poolSize: options.poolSize ?? 20 });
  await migrate(database.db);
  return {
    db: database.db,
    engine: database.engine,
    url,
    schema,
    async close() {
      await database.close();
      if (url && schema) await dropSchema(url, schema);
    },
  };
}

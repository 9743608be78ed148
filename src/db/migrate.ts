import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Kysely, sql } from 'kysely';
import { AppError } from '../errors/index.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** Migrations are `NNNN_name.sql` files, applied in version order, each in its own transaction. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
      if (!match) throw new AppError('migration_failed', `badly named migration file ${file}`);
      const text = readFileSync(`${dir}/${file}`, 'utf8');
      return {
        version: Number(match[1]),
        name: match[2] as string,
        sql: text,
        checksum: createHash('sha256').update(text).digest('hex'),
      };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new AppError('migration_failed', `migration versions must run 1..n, found ${m.version}`);
  });
  return migrations;
}

export interface MigrateResult {
  applied: Migration[];
  current: number;
}

/**
 * Applies every pending migration. Each runs in one transaction together with its row in
 * schema_migrations, under an advisory lock, so concurrent starters apply it once and a failing one
 * leaves nothing behind. An applied migration whose file changed is refused.
 */
export async function migrate(db: Kysely<any>, migrations = loadMigrations()): Promise<MigrateResult> {
  const applied: Migration[] = [];
  for (const migration of migrations) {
    const ran = await db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext(current_schema() || '.earnest_migrations'))`.execute(trx);
      await sql`create table if not exists schema_migrations (
        version int primary key,
        name text not null,
        checksum text not null,
        applied_at timestamptz not null default now())`.execute(trx);
      const existing = await sql<{ checksum: string }>`
        select checksum from schema_migrations where version = ${migration.version}`.execute(trx);
      const row = existing.rows[0];
      if (row) {
        if (row.checksum !== migration.checksum) {
          throw new AppError('migration_failed', `migration ${migration.version}_${migration.name} changed after it was applied`);
        }
        return false;
      }
      try {
        await sql.raw(migration.sql).execute(trx);
      } catch (e) {
        throw new AppError('migration_failed', `migration ${migration.version}_${migration.name} failed: ${(e as Error).message}`, {
          cause: e,
        });
      }
      await sql`insert into schema_migrations (version, name, checksum)
        values (${migration.version}, ${migration.name}, ${migration.checksum})`.execute(trx);
      return true;
    });
    if (ran) applied.push(migration);
  }
  return { applied, current: migrations.length };
}

/** Versions known to the code but not yet applied (readiness). */
export async function pendingMigrations(db: Kysely<any>, migrations = loadMigrations()): Promise<number[]> {
  const exists = await sql<{ t: string | null }>`select to_regclass('schema_migrations')::text as t`.execute(db);
  if (!exists.rows[0]?.t) return migrations.map((m) => m.version);
  const rows = await sql<{ version: number }>`select version from schema_migrations`.execute(db);
  const done = new Set(rows.rows.map((r) => r.version));
  return migrations.filter((m) => !done.has(m.version)).map((m) => m.version);
}

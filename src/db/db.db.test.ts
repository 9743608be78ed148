import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { AppError } from '../errors/index.js';
import {
  advanceClock,
  databaseNow,
  inTransaction,
  loadMigrations,
  lockDataDir,
  migrate,
  openDatabase,
  pendingMigrations,
  RetryableConflict,
} from './index.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(async () => {
  await t?.close();
});

describe('types', () => {
  it('int8 and integral numerics come back as bigint, at the extremes too', async () => {
    const r = await sql<{ a: unknown; b: unknown; s: unknown; c: unknown }>`
      select ${9223372036854775807n}::int8 as a, ${-9223372036854775807n}::int8 as b,
             (select sum(x) from (values (9223372036854775807::int8), (1::int8)) v(x)) as s,
             count(*) as c from (values (1)) v(x)`.execute(t.db);
    expect(r.rows[0]).toEqual({ a: 9223372036854775807n, b: -9223372036854775807n, s: 9223372036854775808n, c: 1n });
  });
});

describe('migrations', () => {
  it('are recorded and never run twice', async () => {
    expect(await pendingMigrations(t.db)).toEqual([]);
    const again = await migrate(t.db);
    expect(again.applied).toEqual([]);
    const rows = await sql<{ version: number }>`select version from schema_migrations order by version`.execute(t.db);
    expect(rows.rows.map((r) => r.version)).toEqual(loadMigrations().map((m) => m.version));
  });

  it('a failing migration leaves nothing half-applied, and the next run retries it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'earnest-migrations-'));
    try {
      const known = loadMigrations();
      for (const m of known) writeFileSync(join(dir, `${String(m.version).padStart(4, '0')}_${m.name}.sql`), m.sql);
      const next = String(known.length + 1).padStart(4, '0');
      writeFileSync(join(dir, `${next}_broken.sql`), 'create table half_applied (x int);\nselect 1/0;');
      const err = await migrate(t.db, loadMigrations(dir)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('migration_failed');
      const table = await sql<{ t: string | null }>`select to_regclass('half_applied')::text as t`.execute(t.db);
      expect(table.rows[0]?.t).toBeNull();
      expect(await pendingMigrations(t.db, loadMigrations(dir))).toEqual([known.length + 1]);
      writeFileSync(join(dir, `${next}_broken.sql`), 'create table half_applied (x int);');
      expect((await migrate(t.db, loadMigrations(dir))).applied.map((m) => m.version)).toEqual([known.length + 1]);
      await sql`drop table half_applied`.execute(t.db);
      await sql`delete from schema_migrations where version = ${known.length + 1}`.execute(t.db);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuse an applied migration whose file changed', async () => {
    const changed = loadMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'different' } : m));
    await expect(migrate(t.db, changed)).rejects.toMatchObject({ code: 'migration_failed' });
  });
});

describe('transactions', () => {
  it('retry serialization failures and deadlocks, then succeed', async () => {
    let attempts = 0;
    const result = await inTransaction(t.db, async () => {
      attempts++;
      if (attempts === 1) throw Object.assign(new Error('could not serialize access'), { code: '40001' });
      if (attempts === 2) throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      if (attempts === 3) throw new RetryableConflict('lost a race');
      return 'done';
    });
    expect(result).toBe('done');
    expect(attempts).toBe(4);
  });

  it('give up after a bounded number of attempts with a coded error', async () => {
    let attempts = 0;
    const err = await inTransaction(
      t.db,
      async () => {
        attempts++;
        throw Object.assign(new Error('could not serialize access'), { code: '40001' });
      },
      { maxAttempts: 3 },
    ).catch((e: unknown) => e);
    expect(attempts).toBe(3);
    expect((err as AppError).code).toBe('contention');
  });

  it('do not retry other errors, and roll back', async () => {
    await sql`create table if not exists tx_probe (x int)`.execute(t.db);
    let attempts = 0;
    await expect(
      inTransaction(t.db, async (trx) => {
        attempts++;
        await sql`insert into tx_probe values (1)`.execute(trx);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(attempts).toBe(1);
    const rows = await sql<{ n: bigint }>`select count(*) as n from tx_probe`.execute(t.db);
    expect(rows.rows[0]?.n).toBe(0n);
  });

  it('concurrent read-modify-write transactions lose no update (serialised session or row locks)', async () => {
    await sql`create table if not exists counter (id int primary key, n int not null)`.execute(t.db);
    await sql`insert into counter values (1, 0) on conflict (id) do update set n = 0`.execute(t.db);
    await Promise.all(
      Array.from({ length: 40 }, () =>
        inTransaction(t.db, async (trx) => {
          const r = await sql<{ n: number }>`select n from counter where id = 1 for update`.execute(trx);
          await new Promise((resolve) => setTimeout(resolve, 1));
          await sql`update counter set n = ${(r.rows[0]?.n ?? 0) + 1} where id = 1`.execute(trx);
        }),
      ),
    );
    const r = await sql<{ n: number }>`select n from counter where id = 1`.execute(t.db);
    expect(r.rows[0]?.n).toBe(40);
  });

  it.runIf(Boolean(process.env.TEST_DATABASE_URL))('a real serialization failure on the server is retried', async () => {
    await sql`create table if not exists ser (id int primary key, n int not null)`.execute(t.db);
    await sql`insert into ser values (1, 0) on conflict (id) do update set n = 0`.execute(t.db);
    let attempts = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        inTransaction(
          t.db,
          async (trx) => {
            attempts++;
            const r = await sql<{ n: number }>`select n from ser where id = 1`.execute(trx);
            await new Promise((resolve) => setTimeout(resolve, 5));
            await sql`update ser set n = ${(r.rows[0]?.n ?? 0) + 1} where id = 1`.execute(trx);
          },
          { isolation: 'serializable', maxAttempts: 50 },
        ),
      ),
    );
    const r = await sql<{ n: number }>`select n from ser where id = 1`.execute(t.db);
    expect(r.rows[0]?.n).toBe(8);
    expect(attempts).toBeGreaterThan(8);
  });
});

describe('the database clock', () => {
  it('moves forward by the offset only', async () => {
    const before = await databaseNow(t.db);
    await advanceClock(t.db, 3600);
    const after = await databaseNow(t.db);
    expect(after.getTime() - before.getTime()).toBeGreaterThanOrEqual(3600_000);
    await expect(advanceClock(t.db, -1)).rejects.toThrow();
  });
});

describe('the embedded data directory', () => {
  it('is created if missing and locked against a second opener; the lock goes with close', async () => {
    const root = mkdtempSync(join(tmpdir(), 'earnest-data-'));
    const dir = join(root, 'nested', 'data');
    try {
      const first = await openDatabase({ dataDir: dir });
      await expect(openDatabase({ dataDir: dir })).rejects.toMatchObject({ code: 'data_dir_locked' });
      await first.close();
      const second = await openDatabase({ dataDir: dir });
      await second.close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a lock left by a dead process is taken over', () => {
    const dir = mkdtempSync(join(tmpdir(), 'earnest-lock-'));
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'earnest.lock'), '999999999');
      const unlock = lockDataDir(dir);
      expect(() => lockDataDir(dir)).toThrow(/in use/);
      unlock();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

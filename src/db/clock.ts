import { type Kysely, sql } from 'kysely';
import { assert } from '../errors/index.js';

/** The database clock (see migration 0001): now() plus a forward-only offset. */
export async function databaseNow(db: Kysely<any>): Promise<Date> {
  const result = await sql<{ now: Date }>`select earnest_now() as now`.execute(db);
  const row = result.rows[0];
  assert(row, 'earnest_now() returned no row');
  return row.now;
}

/** Moves the database clock forward (simulations, tests, the demo). It never goes back. */
export async function advanceClock(db: Kysely<any>, seconds: number): Promise<void> {
  assert(Number.isFinite(seconds) && seconds >= 0, 'the clock only moves forward');
  const micros = BigInt(Math.round(seconds * 1_000_000));
  await sql`update earnest_clock set offset_us = offset_us + ${micros}`.execute(db);
}

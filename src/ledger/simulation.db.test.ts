import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { simulate } from './simulation/index.js';

/**
 * The ledger against its reference model: ≥ 20,000 random operations on the embedded engine, a
 * shorter run on the PostgreSQL server (each operation is a network round trip there). A failure
 * names the seed and the operation; rerun with SIM_SEED=<seed> to reproduce it.
 */
let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(async () => {
  await t?.close();
});

const operations = Number(process.env.SIM_OPERATIONS ?? (process.env.TEST_DATABASE_URL ? 4000 : 20000));
const seed = Number(process.env.SIM_SEED ?? Date.now() % 1_000_000);

describe('ledger simulation', () => {
  it(`matches the reference model for ${operations} operations (seed ${seed})`, { timeout: 900_000 }, async () => {
    const report = await simulate(t.db, { seed, operations, fullCheckEvery: 2000 });
    expect(report.operations).toBe(operations);
    // The run exercised what it claims to: successes, idempotent retries, refusals and expiries.
    for (const result of ['ok', 'exists', 'exceeds_credits', 'linked_event_failed', 'pending_transfer_already_posted']) {
      expect(report.results[result] ?? 0, result).toBeGreaterThan(0);
    }
    expect(Object.keys(report.results).filter((r) => r.startsWith('exists_with_different_')).length).toBeGreaterThan(3);
    expect(report.results.pending_transfer_expired ?? 0).toBeGreaterThan(0);
    expect(report.full_checks).toBeGreaterThan(0);
  });
});

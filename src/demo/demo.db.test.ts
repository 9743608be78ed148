import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { type DemoResult, runDemo } from './index.js';
import { checkLedger } from '../ledger/index.js';
import { openTestDatabase, type TestDatabase } from '../../test/support/database.js';

/**
 * The whole loop through the HTTP API, as the demo runs it: deposits, funding, creators joining,
 * clicks with bots and repeats, leads and sales with invalid ones, a brand rejection, settlement
 * after the hold period, campaign end with the money-back guarantee, payouts.
 */
let t: TestDatabase;
let result: DemoResult;

beforeAll(async () => {
  t = await openTestDatabase();
  result = await runDemo({ db: t.db, engine: t.engine, close: async () => {} }, loadConfig({ LOG_LEVEL: 'error' }), { seed: 11 });
}, 300_000);

afterAll(async () => {
  await t?.close();
});

const minor = (x: string) => BigInt(x);

describe('the demo season', () => {
  it('moves every unit of the escrow somewhere: creators, fees, or back to the brand', () => {
    const s = result.totals;
    expect(minor(s.funded)).toBeGreaterThan(0n);
    expect(minor(s.paid_to_creators)).toBeGreaterThan(0n);
    expect(minor(s.funded)).toBe(minor(s.paid_to_creators) + minor(s.platform_fees) + minor(s.unspent_refunded) + minor(s.escrow_balance));
    expect(minor(s.escrow_balance)).toBe(0n);
  });

  it('pays validated results, rejects invalid ones, and refunds fees where the KPI was missed', () => {
    expect(result.results.approved).toBeGreaterThan(10);
    expect(result.results.rejected).toBeGreaterThan(0);
    expect(minor(result.totals.fees_refunded)).toBeGreaterThan(0n);
    expect(result.payouts).toBeGreaterThan(0);
    for (const s of result.statements) expect(s.statement.reconciles).toBe(true);
  });

  it('leaves a ledger whose every balance follows from its journal', async () => {
    const report = await checkLedger(t.db);
    expect(report.problems).toEqual([]);
    expect(report.mismatches).toBe(0);
  });
});

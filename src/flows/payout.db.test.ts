import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { advanceClock, type Database, openDatabase } from '../db/index.js';
import { AccountId, lookupAccounts, lookupTransfers } from '../ledger/index.js';
import { creatorBalance, listPayouts, ManualPayoutProvider, type PayoutBatch, type PayoutProvider, TestPayoutProvider } from '../payouts/index.js';
import { markPayoutCompleted, markPayoutFailed, runPayouts, runSettlement } from './index.js';
import { openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../../test/support/database.js';
import { expectLedgerClean, payableOf, recordLeads, seedCampaign, type Seeded } from '../../test/support/settlement.js';

/** Payouts on the domain level: providers, failures back to payable, operators' confirmations, crashes, races. */
const DAY = 86_400;
let database: TestDatabase;
let db: Kysely<any>;
let dir: string;

beforeEach(async () => {
  database = await openTestDatabase();
  db = database.db;
  dir = mkdtempSync(join(tmpdir(), 'earnest-payouts-'));
});

afterEach(async () => {
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Two creators with validated results: `a` earns 3 × 1.60 = 4.80, `b` 1.60 (2.00 per lead, 20 % fee). */
async function earn(options: { pendingToo?: boolean } = {}): Promise<{ s: Seeded; a: string; b: string }> {
  const s = await seedCampaign(db, { budget: '100.00', rate: '2.00', creators: 2, holdDays: 1 });
  const [a, b] = s.enrolments.map((e) => e.creator_id) as [string, string];
  await recordLeads(db, { ...s, enrolments: [s.enrolments[0], s.enrolments[0], s.enrolments[0], s.enrolments[1]] as Seeded['enrolments'] }, 4);
  await advanceClock(db, DAY + 1);
  expect((await runSettlement(db)).approved).toBe(4);
  if (options.pendingToo) await recordLeads(db, { ...s, enrolments: [s.enrolments[0]] as Seeded['enrolments'] }, 1);
  return { s, a, b };
}

async function transit(): Promise<bigint> {
  const [t] = await lookupAccounts(db, [AccountId.transit('USD')]);
  return t ? t.credits_posted - t.debits_posted : 0n;
}

describe('paying out with the test provider', () => {
  it('pays balances at or above the minimum, at once, and leaves smaller ones', async () => {
    const { a, b } = await earn({ pendingToo: true });
    const provider = new TestPayoutProvider();
    const report = await runPayouts(db, provider, { minimumMinor: 300n });
    expect(report).toMatchObject({ created: 1, completed: 1, failed: 0, sent: 0, pending: 0 });
    expect(report.batches).toHaveLength(1);
    const [payout] = (await listPayouts(db, { creatorId: a }, { limit: 10 })).rows;
    expect(payout).toMatchObject({ status: 'completed', amount: 480n, currency: 'USD', provider: 'test', failure: null });
    expect(payout?.sent_at).not.toBeNull();
    expect(payout?.finished_at).not.toBeNull();
    expect((await listPayouts(db, { creatorId: b }, { limit: 10 })).rows).toEqual([]);
    expect(await creatorBalance(db, a)).toEqual([{ currency: 'USD', available: 0n, pending: 160n, in_transit: 0n, receivable: 0n }]);
    expect(await creatorBalance(db, b)).toEqual([{ currency: 'USD', available: 160n, pending: 0n, in_transit: 0n, receivable: 0n }]);
    const moved = await lookupTransfers(db, [`${payout?.id}.sent`, `${payout?.id}.completed`]);
    expect(moved.map((t) => [t.code, t.amount, t.user_data])).toEqual([
      [501, 480n, payout?.id],
      [502, 480n, payout?.id],
    ]);
    expect(await transit()).toBe(0n);
    expect((await runPayouts(db, provider, { minimumMinor: 300n })).batches).toEqual([]);
    expect(provider.submitted).toHaveLength(1);
    await expectLedgerClean(db);
  });

  it("returns a failed payout's money to the creator's payable, and pays it on a later run", async () => {
    const { a, b } = await earn();
    const provider = new TestPayoutProvider();
    provider.failFor(a, 'account closed');
    const first = await runPayouts(db, provider, { minimumMinor: 100n });
    expect(first).toMatchObject({ completed: 1, failed: 1 });
    const [failed] = (await listPayouts(db, { creatorId: a }, { limit: 10 })).rows;
    expect(failed).toMatchObject({ status: 'failed', failure: 'account closed', amount: 480n });
    expect((await lookupTransfers(db, [`${failed?.id}.failed`]))[0]).toMatchObject({ code: 503, amount: 480n });
    expect(await payableOf(db, a)).toMatchObject({ available: 480n });
    expect((await listPayouts(db, { creatorId: b }, { limit: 10 })).rows[0]).toMatchObject({ status: 'completed', amount: 160n });

    provider.succeedFor(a);
    const second = await runPayouts(db, provider, { minimumMinor: 100n });
    expect(second).toMatchObject({ completed: 1, failed: 0 });
    const payouts = (await listPayouts(db, { creatorId: a }, { limit: 10 })).rows;
    expect(payouts.map((p) => p.status)).toEqual(['completed', 'failed']); // newest first
    expect(await payableOf(db, a)).toMatchObject({ available: 0n });
    expect(await transit()).toBe(0n);
    await expectLedgerClean(db);
  });
});

describe('manual payouts', () => {
  it('write one CSV file per batch and wait for an operator to complete or fail each payout', async () => {
    const { a, b } = await earn();
    const provider = new ManualPayoutProvider(join(dir, 'out'));
    const report = await runPayouts(db, provider, { minimumMinor: 100n });
    expect(report).toMatchObject({ sent: 2, completed: 0, failed: 0 });
    const files = readdirSync(join(dir, 'out'));
    expect(files).toEqual([report.batches[0]]);
    const [pa] = (await listPayouts(db, { creatorId: a }, { limit: 1 })).rows;
    const [pb] = (await listPayouts(db, { creatorId: b }, { limit: 1 })).rows;
    expect(pa).toMatchObject({ status: 'sent', provider: 'manual', provider_reference: files[0] });
    expect(pa?.sent_at).not.toBeNull();
    const lines = readFileSync(join(dir, 'out', files[0] as string), 'utf8').trimEnd().split('\r\n');
    expect(lines[0]).toBe('payee,name,email,amount,currency,reference');
    expect(lines).toHaveLength(3);
    const row = (creator: string) => lines.find((l) => l.startsWith(`${creator},`));
    expect(row(a)).toMatch(new RegExp(`^${a},creator [0-9a-f]{8},[0-9a-f]{8}@creators\\.example,4\\.80,USD,${pa?.id}$`));
    expect(row(b)).toMatch(new RegExp(`^${b},creator [0-9a-f]{8},[0-9a-f]{8}@creators\\.example,1\\.60,USD,${pb?.id}$`));
    expect((await creatorBalance(db, a))[0]).toMatchObject({ available: 0n, in_transit: 480n });
    expect(await transit()).toBe(640n);

    expect(await markPayoutCompleted(db, pa?.id as string)).toMatchObject({ status: 'completed' });
    expect(await markPayoutCompleted(db, pa?.id as string)).toMatchObject({ status: 'completed' });
    await expect(markPayoutFailed(db, pa?.id as string, 'bounced')).rejects.toMatchObject({ code: 'invalid_state' });
    expect(await markPayoutFailed(db, pb?.id as string, 'bounced')).toMatchObject({ status: 'failed', failure: 'bounced' });
    expect(await markPayoutFailed(db, pb?.id as string, 'again')).toMatchObject({ status: 'failed', failure: 'bounced' });
    await expect(markPayoutCompleted(db, pb?.id as string)).rejects.toMatchObject({ code: 'invalid_state' });
    await expect(markPayoutCompleted(db, 'po_nope')).rejects.toMatchObject({ code: 'not_found' });
    expect((await creatorBalance(db, a))[0]).toMatchObject({ available: 0n, in_transit: 0n });
    expect((await creatorBalance(db, b))[0]).toMatchObject({ available: 160n, in_transit: 0n });
    expect(await transit()).toBe(0n);
    await expectLedgerClean(db);
  });
});

/** A provider that takes the batch (a file written, a request accepted) and then dies before answering. */
class DiesAfterSubmitting implements PayoutProvider {
  readonly name: 'manual' | 'test';
  constructor(readonly inner: PayoutProvider) {
    this.name = inner.name;
  }
  batchReference(batchId: string): string {
    return this.inner.batchReference(batchId);
  }
  async submit(batch: PayoutBatch): Promise<never> {
    await this.inner.submit(batch);
    throw new Error('crashed before recording the answer');
  }
}

describe('an interrupted run', () => {
  it('is finished by the next one without a second CSV file or a second payment', async () => {
    const { a } = await earn();
    const out = join(dir, 'out');
    await expect(runPayouts(db, new DiesAfterSubmitting(new ManualPayoutProvider(out)), { minimumMinor: 100n })).rejects.toThrow(/crashed/);
    const stuck = (await listPayouts(db, {}, { limit: 10 })).rows;
    expect(stuck.map((p) => [p.status, p.sent_at])).toEqual([
      ['sent', null],
      ['sent', null],
    ]);
    expect(await transit()).toBe(640n);
    const report = await runPayouts(db, new ManualPayoutProvider(out), { minimumMinor: 100n });
    expect(report).toMatchObject({ sent: 2 });
    expect(readdirSync(out)).toHaveLength(1);
    expect((await listPayouts(db, {}, { limit: 10 })).rows.every((p) => p.sent_at !== null)).toBe(true);
    expect((await creatorBalance(db, a))[0]).toMatchObject({ available: 0n, in_transit: 480n });

    const test = new TestPayoutProvider();
    const more = await earn();
    await expect(runPayouts(db, new DiesAfterSubmitting(test), { minimumMinor: 100n })).rejects.toThrow(/crashed/);
    expect((await runPayouts(db, test, { minimumMinor: 100n })).completed).toBe(2);
    expect(test.submitted.map((i) => i.creator_id).sort()).toEqual([more.a, more.b].sort());
    expect(await payableOf(db, more.a)).toMatchObject({ available: 0n });
    await expectLedgerClean(db);
  });

  it('sends payouts it had only recorded', async () => {
    const { a } = await earn();
    // The state a crash right after recording leaves: a pending payout, its money still in the payable.
    await sql`insert into payouts (id, creator_id, amount, currency, provider, status, provider_reference, created_at)
      values ('po_crashed', ${a}, 480, 'USD', 'test', 'pending', 'test-pob_crashed', earnest_now())`.execute(db);
    const provider = new TestPayoutProvider();
    const report = await runPayouts(db, provider, { minimumMinor: 100n });
    // The recorded batch first; then b's balance, which nothing had recorded yet.
    expect(report).toMatchObject({ created: 1, completed: 2 });
    expect(report.batches[0]).toBe('test-pob_crashed');
    const payouts = (await listPayouts(db, { creatorId: a }, { limit: 10 })).rows;
    expect(payouts.map((p) => [p.id, p.status])).toEqual([['po_crashed', 'completed']]);
    expect(await payableOf(db, a)).toMatchObject({ available: 0n });
    await expectLedgerClean(db);
  });
});

describe.skipIf(!TEST_DATABASE_URL)('concurrent payout runs on the PostgreSQL server', () => {
  it('pay each creator once', async () => {
    const s = await seedCampaign(db, { budget: '1000.00', rate: '2.00', creators: 12, holdDays: 1 });
    await recordLeads(db, s, 120);
    await advanceClock(db, DAY + 1);
    await runSettlement(db);
    const runners: Database<any>[] = [];
    for (let i = 0; i < 3; i++) runners.push(await openDatabase({ url: TEST_DATABASE_URL, schema: database.schema, poolSize: 3 }));
    try {
      const provider = new TestPayoutProvider();
      const reports = await Promise.all(runners.map((r) => runPayouts(r.db, provider, { minimumMinor: 100n, batchSize: 5 })));
      expect(reports.reduce((n, r) => n + r.completed, 0)).toBeGreaterThanOrEqual(12);
    } finally {
      for (const r of runners) await r.close();
    }
    const payouts = (await listPayouts(db, {}, { limit: 100 })).rows;
    expect(payouts).toHaveLength(12);
    expect(new Set(payouts.map((p) => p.creator_id)).size).toBe(12);
    expect(payouts.every((p) => p.status === 'completed' && p.amount === 1_600n)).toBe(true);
    for (const e of s.enrolments) expect(await payableOf(db, e.creator_id)).toMatchObject({ available: 0n, posted: 1_600n });
    expect(await transit()).toBe(0n);
    await expectLedgerClean(db);
  });
});

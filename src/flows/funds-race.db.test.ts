import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activateCampaign, type EnrolmentWithTerms, fundCampaign, getCampaign } from '../campaigns/index.js';
import { type Database, databaseNow, openDatabase } from '../db/index.js';
import { deposit } from '../ledger/index.js';
import { Money } from '../money/index.js';
import type { Result } from '../results/index.js';
import { holdAwaitingFunds, recordResults, resumeCampaign } from './index.js';
import { openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../../test/support/database.js';
import { expectLedgerClean, expectResultsMatchLedger, newCreators, recordLeads, seedCampaign, type Seeded, statusCounts } from '../../test/support/settlement.js';

/**
 * The hold pass after a top-up, racing on the PostgreSQL server (PGlite is one session and cannot
 * race): several processes (each its own connection pool) run the pass over one campaign while
 * others record new results on it. Results must be held in arrival order, none twice, no more than
 * the escrow covers, new results must queue behind the waiting ones, and the ledger stay clean.
 */
const WAITING = 300;
const WRITERS = 4;
const WRITES_PER_WRITER = 15;
const PER_WRITE = 4;

describe.skipIf(!TEST_DATABASE_URL)('the hold pass racing on the PostgreSQL server', () => {
  let database: TestDatabase;
  let db: Kysely<any>;
  const processes: Database<any>[] = [];

  beforeAll(async () => {
    database = await openTestDatabase();
    db = database.db;
    for (let i = 0; i < 3 + WRITERS; i++) processes.push(await openDatabase({ url: TEST_DATABASE_URL, schema: database.schema, poolSize: 3 }));
  });

  afterAll(async () => {
    for (const p of processes) await p.close();
    await database?.close();
  });

  /** A campaign of 1.00 leads whose 10.00 escrow ran out, with WAITING results waiting for funds. */
  async function ranOut(): Promise<{ s: Seeded; waiting: Result[] }> {
    const s = await seedCampaign(db, { budget: '10.00', rate: '1.00', creators: await newCreators(db, 3) });
    await recordLeads(db, s, 10);
    const waiting = await recordLeads(db, s, WAITING);
    expect(waiting.every((r) => r.status === 'awaiting_funds')).toBe(true);
    expect((await getCampaign(db, { kind: 'operator' }, s.campaignId)).paused_reason).toBe('over_budget');
    return { s, waiting };
  }

  async function topUp(s: Seeded, amount: string): Promise<void> {
    const reference = `top-${randomUUID()}`;
    expect((await deposit(db, { id: `dep:${reference}`, orgId: s.orgId, amount: Money.parse(amount, 'USD') })).ok).toBe(true);
    await fundCampaign(db, { orgId: s.orgId, campaignId: s.campaignId, amount, reference });
  }

  /** Writers recording new leads, a few at a time, each through its own pool. */
  function writers(s: Seeded): Promise<Result[]>[] {
    return processes.slice(3).map(async (p, w) => {
      const out: Result[] = [];
      const now = await databaseNow(p.db);
      for (let i = 0; i < WRITES_PER_WRITER; i++) {
        const drafts = Array.from({ length: PER_WRITE }, (_, k) => ({
          kind: 'lead' as const,
          sourceId: `race-${randomUUID()}`,
          enrolment: s.enrolments[(w + i + k) % s.enrolments.length] as EnrolmentWithTerms,
          occurredAt: now,
          customerId: `customer-${randomUUID()}`,
        }));
        out.push(...(await recordResults(p.db, drafts)));
      }
      return out;
    });
  }

  async function inArrivalOrder(campaignId: string, ids: readonly string[]): Promise<Array<{ id: string; status: string }>> {
    const r = await sql<{ id: string; status: string }>`select id, status from results where id = any(${[...ids]}::text[])
      and campaign_id = ${campaignId} order by recorded_at, id`.execute(db);
    return r.rows;
  }

  async function holdsPerResult(campaignId: string): Promise<number[]> {
    const r = await sql<{ legs: bigint }>`select count(*) as legs from ledger_transfers t join results r on t.id in (r.id || '.net', r.id || '.fee')
      where r.campaign_id = ${campaignId} group by r.id`.execute(db);
    return [...new Set(r.rows.map((x) => Number(x.legs)))];
  }

  it('holds the first results in arrival order as far as a partial top-up goes; new results queue behind the rest', async () => {
    const { s, waiting } = await ranOut();
    await topUp(s, '150.00');
    await activateCampaign(db, s.orgId, s.campaignId);
    const [passes, written] = await Promise.all([
      Promise.all(processes.slice(0, 3).map((p) => holdAwaitingFunds(p.db, s.campaignId, { batchSize: 17 }))),
      Promise.all(writers(s)),
    ]);
    expect(passes.reduce((n, p) => n + p.held, 0)).toBe(150);
    expect(passes.filter((p) => p.held > 0).length).toBeGreaterThan(1); // they really shared the work
    const order = await inArrivalOrder(s.campaignId, waiting.map((r) => r.id));
    expect(order.slice(0, 150).every((r) => r.status === 'pending')).toBe(true);
    expect(order.slice(150).every((r) => r.status === 'awaiting_funds')).toBe(true);
    // 150 waiting results are still ahead of them: every new one waits, however its write raced the passes.
    expect(written.flat().every((r) => r.status === 'awaiting_funds')).toBe(true);
    const c = await getCampaign(db, { kind: 'operator' }, s.campaignId);
    expect([c.status, c.paused_reason]).toEqual(['paused', 'over_budget']);
    expect(await statusCounts(db, [s.campaignId])).toEqual({ pending: 160, awaiting_funds: WAITING - 150 + WRITERS * WRITES_PER_WRITER * PER_WRITE });
    expect(await holdsPerResult(s.campaignId)).toEqual([2]);
    await expectResultsMatchLedger(db, [s.campaignId]);
    await expectLedgerClean(db);
  });

  it('holds every waiting result when the top-up covers them, while new results race the passes, never beyond the escrow', async () => {
    const { s, waiting } = await ranOut();
    const newResults = WRITERS * WRITES_PER_WRITER * PER_WRITE; // 240
    await topUp(s, '400.00'); // covers the 300 waiting and 100 of the new ones
    const [resumed, , written] = await Promise.all([
      resumeCampaign(processes[0]!.db, s.orgId, s.campaignId),
      Promise.all(processes.slice(1, 3).map(async (p) => {
        let held = 0;
        for (let i = 0; i < 5; i++) held += (await holdAwaitingFunds(p.db, s.campaignId, { batchSize: 23 })).held;
        return held;
      })),
      Promise.all(writers(s)),
    ]);
    expect(resumed.id).toBe(s.campaignId);
    // Whatever was left waiting behind the passes (results queued during them) the next pass takes, as the settlement run does.
    await holdAwaitingFunds(db, s.campaignId);
    const order = await inArrivalOrder(s.campaignId, waiting.map((r) => r.id));
    expect(order.every((r) => r.status === 'pending')).toBe(true);
    const counts = await statusCounts(db, [s.campaignId]);
    expect(counts).toEqual({ pending: 410, awaiting_funds: newResults - 100 });
    const fresh = await inArrivalOrder(s.campaignId, written.flat().map((r) => r.id));
    expect(fresh.filter((r) => r.status === 'pending')).toHaveLength(100);
    // Once one waits, none after it in arrival order was held by the pass: the waiting ones are the latest.
    const firstWaiting = fresh.findIndex((r) => r.status === 'awaiting_funds');
    const heldAfter = fresh.slice(firstWaiting).filter((r) => r.status === 'pending');
    const heldDirectly = new Set(written.flat().filter((r) => r.status === 'pending').map((r) => r.id));
    // Only a result held as it was recorded (no queue at that moment) may sit after a waiting one: the pass never skips.
    expect(heldAfter.every((r) => heldDirectly.has(r.id))).toBe(true);
    const c = await getCampaign(db, { kind: 'operator' }, s.campaignId);
    expect([c.status, c.paused_reason]).toEqual(['paused', 'over_budget']);
    expect(await holdsPerResult(s.campaignId)).toEqual([2]);
    await expectResultsMatchLedger(db, [s.campaignId]);
    await expectLedgerClean(db);
  });
});

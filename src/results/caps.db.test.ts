import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveAllDue, endCampaignsPastEnd, returnFees, reversePaidResult, runBonuses, runSettlement } from '../flows/index.js';
import { campaignStatement } from '../settlement/index.js';
import { advanceClock, type Database, openDatabase } from '../db/index.js';
import { bonusRows, bonusTransfers, leads, seedIncentiveCampaign } from '../../test/support/bonuses.js';
import { openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../../test/support/database.js';
import { expectLedgerClean, payableOf } from '../../test/support/settlement.js';

/**
 * Caps per creator per period at payment: 10.00 per lead, at most 3 results and 25.00 a period. The
 * first two earn 10.00 each, the third crosses the money cap and earns 5.00 (a partial post of its
 * hold, the rest back to the escrow), the fourth is beyond the results cap and earns nothing (its
 * hold voided). The bonus (10 % at 2 results) is cut to the room left under the cap: none.
 */
const DAY = 86_400;
const caps = { period: 'campaign', caps: { results_per_period: 3, amount_per_period: '25.00' }, tiers: [{ threshold: { results: 2 }, bonus: { bps: 1000 } }] };
const operator = { kind: 'operator' as const };

async function earned(db: Kysely<any>, enrolmentId: string): Promise<Array<{ gross: bigint; paid_gross: bigint | null }>> {
  const r = await sql<{ gross: bigint; paid_gross: bigint | null }>`select gross, paid_gross from results where enrolment_id = ${enrolmentId}
     order by recorded_at, id`.execute(db);
  return r.rows.map((x) => ({ gross: BigInt(x.gross), paid_gross: x.paid_gross === null ? null : BigInt(x.paid_gross) }));
}

describe('caps per creator per period', () => {
  let database: TestDatabase;
  let db: Kysely<any>;
  beforeAll(async () => {
    database = await openTestDatabase();
    db = database.db;
  });
  afterAll(async () => {
    await database?.close();
  });

  it('pay in recording order up to the caps, across settlement batches and within one', async () => {
    const c = await seedIncentiveCampaign(db, { budget: '200.00', rate: '10.00', creators: 2, endsInDays: 10, incentives: caps });
    const [a, b] = c.enrolments;
    await leads(db, a!, 4);
    await advanceClock(db, DAY + 1);
    expect((await approveAllDue(db, { batchSize: 1 })).approved).toBe(4); // one result per transaction
    await leads(db, b!, 4);
    await advanceClock(db, DAY + 1);
    expect((await approveAllDue(db)).approved).toBe(4); // all four in one transaction
    for (const [i, e] of [a!, b!].entries()) {
      expect(await earned(db, e.id)).toEqual([
        { gross: 1000n, paid_gross: null },
        { gross: 1000n, paid_gross: null },
        { gross: 1000n, paid_gross: 500n },
        { gross: 1000n, paid_gross: 0n },
      ]);
      expect((await payableOf(db, c.creators[i]!)).available).toBe(800n + 800n + 400n);
    }
    const s = await campaignStatement(db, operator, c.campaignId);
    expect(s).toMatchObject({ paid_to_creators: 4000n, platform_fees_gross: 1000n, escrow: { held: 0n, available: 20_000n - 5000n }, reconciles: true });
    // at the end: 3 results count and earned the whole cap, so the bonus has no room
    await advanceClock(db, 9 * DAY);
    const run = await runSettlement(db);
    expect(run.bonuses.failures).toEqual([]);
    expect(await bonusRows(db, a!.id)).toMatchObject([{ status: 'released', tier: 0, counted_results: 3, due: 0n, credited: 0n }]);
    expect(run.campaigns_settled.map((x) => x.campaign_id)).toEqual([c.campaignId]);
    expect(run.campaigns_settled[0]!.unspent_refunded).toBe(15_000n);
    await expectLedgerClean(db);
  });

  it('reversing a result the caps cut claws back what the creator was paid for it, not its full net', async () => {
    const c = await seedIncentiveCampaign(db, { budget: '200.00', rate: '10.00', creators: 1, endsInDays: 10, incentives: caps });
    const [a] = c.enrolments;
    await leads(db, a!, 4);
    await advanceClock(db, DAY + 1);
    await approveAllDue(db);
    const ids = await sql<{ id: string }>`select id from results where enrolment_id = ${a!.id} order by recorded_at, id`.execute(db);
    const before = (await payableOf(db, c.creators[0]!)).available;
    expect(before).toBe(2000n);
    // The third earned 5.00 (4.00 net), the fourth nothing.
    await reversePaidResult(db, { resultId: ids.rows[2]!.id, by: 'op', reason: 'fraud', note: 'found later' });
    expect((await payableOf(db, c.creators[0]!)).available).toBe(before - 400n);
    await reversePaidResult(db, { resultId: ids.rows[3]!.id, by: 'op', reason: 'fraud', note: 'found later' });
    expect((await payableOf(db, c.creators[0]!)).available).toBe(before - 400n);
    await reversePaidResult(db, { resultId: ids.rows[0]!.id, by: 'op', reason: 'fraud', note: 'found later' });
    expect((await payableOf(db, c.creators[0]!)).available).toBe(before - 400n - 800n);
    expect((await campaignStatement(db, operator, c.campaignId)).reconciles).toBe(true);
    await expectLedgerClean(db);
  });
});

/**
 * Racing settlers on the PostgreSQL server (PGlite is one session and cannot race): approvals of one
 * creator's results in separate transactions at once still pay up to the caps and no further, and
 * bonus jobs running at once hold, release and pay each bonus exactly once.
 */
describe.skipIf(!TEST_DATABASE_URL)('racing on the PostgreSQL server', () => {
  let database: TestDatabase;
  let db: Kysely<any>;
  const settlers: Database<any>[] = [];
  beforeAll(async () => {
    database = await openTestDatabase();
    db = database.db;
    for (let i = 0; i < 4; i++) settlers.push(await openDatabase({ url: TEST_DATABASE_URL, schema: database.schema, poolSize: 3 }));
  });
  afterAll(async () => {
    for (const s of settlers) await s.close();
    await database?.close();
  });

  it('concurrent approvals respect the caps per enrolment-period', async () => {
    const c = await seedIncentiveCampaign(db, { budget: '500.00', rate: '10.00', creators: 3, endsInDays: 10, incentives: caps });
    for (const e of c.enrolments) await leads(db, e, 8);
    await advanceClock(db, DAY + 1);
    const runs = await Promise.all(settlers.map((s) => approveAllDue(s.db, { batchSize: 1 })));
    expect(runs.reduce((n, r) => n + r.approved, 0)).toBe(24);
    for (const [i, e] of c.enrolments.entries()) {
      const paid = (await earned(db, e.id)).reduce((sum, r) => sum + (r.paid_gross ?? r.gross), 0n);
      expect(paid).toBe(2500n);
      expect((await payableOf(db, c.creators[i]!)).available).toBe(2000n);
    }
    expect((await campaignStatement(db, operator, c.campaignId)).reconciles).toBe(true);
    await expectLedgerClean(db);
  });

  it('concurrent bonus jobs pay each bonus once', async () => {
    const c = await seedIncentiveCampaign(db, {
      budget: '500.00',
      rate: '10.00',
      creators: 6,
      endsInDays: 2,
      incentives: { period: 'campaign', tiers: [{ threshold: { results: 5 }, bonus: { fixed: '10.00' } }] },
    });
    for (const e of c.enrolments) await leads(db, e, 5);
    await advanceClock(db, 3 * DAY);
    await approveAllDue(db);
    await endCampaignsPastEnd(db);
    const reports = await Promise.all(settlers.map((s) => runBonuses(s.db, returnFees)));
    expect(reports.flatMap((r) => r.failures)).toEqual([]);
    const mine = await sql<{ n: bigint }>`select count(*) as n from bonus_movements where campaign_id = ${c.campaignId}`.execute(db);
    expect(Number(mine.rows[0]!.n)).toBe(12); // a hold and a release per creator, once
    expect(await bonusTransfers(db, c.campaignId)).toMatchObject({ net: 6n * 800n, fee: 6n * 200n });
    for (const e of c.enrolments) expect(await bonusRows(db, e.id)).toMatchObject([{ status: 'released', credited: 1000n, steps: 2 }]);
    const run = await runSettlement(db);
    expect(run.campaigns_settled.map((x) => x.campaign_id)).toContain(c.campaignId);
    const s = await campaignStatement(db, operator, c.campaignId);
    expect(s).toMatchObject({ bonuses: { paid: 4800n, fees: 1200n }, unspent_refunded: 50_000n - 30n * 1000n - 6n * 1000n, reconciles: true });
    await expectLedgerClean(db);
  });
});

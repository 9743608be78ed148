import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceClock } from '../db/index.js';
import { isAppError } from '../errors/index.js';
import { transition } from '../campaigns/index.js';
import { rejectResult, reversePaidResult, runSettlement, settleCampaign } from './index.js';
import type { Result } from '../results/index.js';
import { campaignStatement } from '../settlement/index.js';
import { bonusRows, bonusTransfers, type IncentiveCampaign, leads, seedIncentiveCampaign } from '../../test/support/bonuses.js';
import { openTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { expectLedgerClean, payableOf, walletOf } from '../../test/support/settlement.js';

/**
 * A campaign-long incentive period from first result to settlement and after: the bonus held at close
 * as if every undecided result passed, released from approved results only (a rejected one does not
 * count), the escrow closed only once it is released, the rest of the budget back to the brand, a
 * rerun that moves nothing, and a reversal after settlement that lowers the tier and claws back.
 *
 * cpl at 10.00, fee 20 %; target 5: +10 % of base earnings at 100 % (5 results), +20 % at 120 % (6).
 */
const DAY = 86_400;
let database: TestDatabase;
let db: Kysely<any>;
let c: IncentiveCampaign;
let ada: Result[] = [];
let walletBefore = 0n;

const operator = { kind: 'operator' as const };

beforeAll(async () => {
  database = await openTestDatabase();
  db = database.db;
  c = await seedIncentiveCampaign(db, {
    budget: '200.00',
    rate: '10.00',
    creators: 2,
    endsInDays: 10,
    incentives: {
      period: 'campaign',
      target: 5,
      tiers: [
        { threshold: { percent_of_target: 100 }, bonus: { bps: 1000 } },
        { threshold: { percent_of_target: 120 }, bonus: { bps: 2000 } },
      ],
    },
  });
  walletBefore = await walletOf(db, c.orgId);
});
afterAll(async () => {
  await database?.close();
});

describe('a campaign period bonus, from close to settlement', () => {
  it('pays nothing while the period is open', async () => {
    const [adaEnrolment, bobEnrolment] = c.enrolments;
    ada = await leads(db, adaEnrolment!, 5);
    const bob = await leads(db, bobEnrolment!, 5);
    await rejectResult(db, { resultId: bob[4]!.id, orgId: c.orgId, by: 'brand', reason: 'duplicate_lead' });
    await advanceClock(db, 2 * DAY);
    const run = await runSettlement(db);
    expect(run.approved).toBe(9);
    expect(run.bonuses).toMatchObject({ held: 0, released: 0, failures: [] });
    expect(await bonusRows(db, adaEnrolment!.id)).toEqual([]);
  });

  it('at close holds the most the bonus can be, counting results still pending', async () => {
    await advanceClock(db, 7.9 * DAY);
    ada.push(...(await leads(db, c.enrolments[0]!, 1))); // pending past the end: hold until +1 day
    await advanceClock(db, 0.1 * DAY + 1);
    const run = await runSettlement(db);
    expect(run.campaigns_ended).toContain(c.campaignId);
    expect(run.bonuses.failures).toEqual([]);
    expect(run.campaigns_settled).toEqual([]);
    // 6 results (5 approved + 1 pending) reach 120 %: 20 % of 60.00
    expect(await bonusRows(db, c.enrolments[0]!.id)).toMatchObject([{ period_key: 'campaign', status: 'held', tier: 1, due: 1200n, held: 1200n, shortfall: 0n }]);
    // 4 approved results (the rejected one does not count) reach no tier: nothing held, released at once
    expect(await bonusRows(db, c.enrolments[1]!.id)).toMatchObject([{ status: 'released', tier: null, counted_results: 4, due: 0n, credited: 0n }]);
    const s = await campaignStatement(db, operator, c.campaignId);
    expect(s.bonuses).toMatchObject({ held: 1200n, paid: 0n, periods: 2, periods_held: 1 });
    expect(s.escrow.held).toBe(1000n + 1200n); // the pending result and the bonus
    expect(s.reconciles).toBe(true);
  });

  it('releases the bonus over approved results only once every result is decided, then settles the campaign', async () => {
    await rejectResult(db, { resultId: ada[5]!.id, orgId: c.orgId, by: 'brand', reason: 'duplicate_lead' });
    // The escrow must not close while the bonus is held, even if asked directly.
    const early = await settleCampaign(db, c.campaignId).catch((e: unknown) => e);
    expect(isAppError(early) && early.code).toBe('invalid_state');
    const run = await runSettlement(db);
    expect(run.bonuses).toMatchObject({ released: 1, failures: [] });
    // 5 results: exactly at 100 % of target, tier 0: 10 % of 50.00 = 5.00 (net 4.00, fee 1.00); 7.00 of the hold back to escrow
    expect(await bonusRows(db, c.enrolments[0]!.id)).toMatchObject([
      { status: 'released', tier: 0, counted_results: 5, due: 500n, held: 0n, credited: 500n, paid_net: 400n, fees_paid: 100n, shortfall: 0n },
    ]);
    expect(run.campaigns_settled.map((x) => x.campaign_id)).toEqual([c.campaignId]);
    // 200.00 − 9 results × 10.00 − the 5.00 bonus = 105.00 back to the brand
    expect(run.campaigns_settled[0]!.unspent_refunded).toBe(10_500n);
    expect(await walletOf(db, c.orgId)).toBe(walletBefore + 10_500n);
    expect((await payableOf(db, c.creators[0]!)).available).toBe(5n * 800n + 400n);
    const s = await campaignStatement(db, operator, c.campaignId);
    expect(s).toMatchObject({
      funded: 20_000n,
      paid_to_creators: 9n * 800n,
      platform_fees_gross: 9n * 200n + 100n,
      unspent_refunded: 10_500n,
      bonuses: { held: 0n, paid: 400n, fees: 100n, clawed_back: 0n, shortfall: 0n, periods_held: 0 },
      escrow: { held: 0n, available: 0n, closed: true },
      reconciles: true,
    });
    await expectLedgerClean(db);
  });

  it('a rerun moves nothing', async () => {
    const before = await bonusTransfers(db, c.campaignId);
    const run = await runSettlement(db);
    expect(run.bonuses).toMatchObject({ held: 0, released: 0, paid: 0, clawed_back: 0 });
    expect(await bonusTransfers(db, c.campaignId)).toEqual(before);
  });

  it("a result reversed after settlement lowers the tier: the bonus net is clawed back and its fee returned, to the brand's wallet", async () => {
    await reversePaidResult(db, { resultId: ada[0]!.id, by: 'operator', reason: 'fraud_confirmed', note: 'chargeback' });
    const run = await runSettlement(db);
    expect(run.bonuses).toMatchObject({ clawed_back: 1, failures: [] });
    expect(await bonusRows(db, c.enrolments[0]!.id)).toMatchObject([
      { status: 'released', tier: null, counted_results: 4, due: 0n, credited: 0n, paid_net: 400n, fees_paid: 0n, clawed_back: 400n },
    ]);
    // the result's net (8.00) and fee (2.00), the bonus net (4.00) and fee (1.00) went back to the brand's wallet: the escrow is closed
    expect(await walletOf(db, c.orgId)).toBe(walletBefore + 10_500n + 800n + 200n + 400n + 100n);
    expect((await payableOf(db, c.creators[0]!)).available).toBe(4n * 800n);
    const movements = await sql<{ kind: string; net: bigint; fee: bigint; transfer_ids: string[] }>`select kind, net, fee, transfer_ids from bonus_movements
       where enrolment_id = ${c.enrolments[0]!.id} and kind = 'clawback'`.execute(db);
    expect(movements.rows.map((m) => [BigInt(m.net), BigInt(m.fee), m.transfer_ids.filter((id) => id.endsWith('.fee')).length])).toEqual([[400n, 100n, 1]]);
    const s = await campaignStatement(db, operator, c.campaignId);
    expect(s.bonuses).toMatchObject({ paid: 0n, fees: 100n, clawed_back: 400n });
    expect(s).toMatchObject({ platform_fees_gross: 9n * 200n + 100n, fees_returned: 300n, fees_returned_to_brand: 300n, fees_refunded: 0n });
    expect(s.platform_fees_kept).toBe(8n * 200n);
    expect(s.unspent_refunded).toBe(10_500n + 800n + 200n + 400n + 100n);
    expect(s.reconciles).toBe(true);
    // and again: nothing more
    const again = await runSettlement(db);
    expect(again.bonuses).toMatchObject({ clawed_back: 0, paid: 0 });
    await expectLedgerClean(db);
  });
});

describe('a campaign the brand ends early', () => {
  it('closes the period it ended in: the bonus is paid before the escrow settles', async () => {
    const early = await seedIncentiveCampaign(db, {
      budget: '100.00',
      rate: '10.00',
      creators: 1,
      endsInDays: 60,
      incentives: { period: 'campaign', tiers: [{ threshold: { results: 3 }, bonus: { fixed: '5.00' } }] },
    });
    await leads(db, early.enrolments[0]!, 3);
    await advanceClock(db, DAY + 1);
    expect((await runSettlement(db)).bonuses.held).toBe(0); // still running: its only period is open
    await transition(db, early.campaignId, 'ended', { orgId: early.orgId });
    const run = await runSettlement(db);
    expect(run.bonuses).toMatchObject({ held: 1, released: 1, failures: [] });
    expect(await bonusRows(db, early.enrolments[0]!.id)).toMatchObject([{ status: 'released', tier: 0, credited: 500n, paid_net: 400n }]);
    expect(run.campaigns_settled.map((x) => x.campaign_id)).toEqual([early.campaignId]);
    expect(run.campaigns_settled[0]!.unspent_refunded).toBe(10_000n - 3000n - 500n);
    expect((await campaignStatement(db, operator, early.campaignId)).reconciles).toBe(true);
  });
});

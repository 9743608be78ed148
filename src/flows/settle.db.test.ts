import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getCampaign, transition } from '../campaigns/index.js';
import { advanceClock } from '../db/index.js';
import { lookupTransfers, refundFees, settleEscrow } from '../ledger/index.js';
import { Money } from '../money/index.js';
import { recordResults, rejectResult, runSettlement, settleCampaign } from './index.js';
import { campaignStatement } from '../settlement/index.js';
import { openTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { expectLedgerClean, expectResultsMatchLedger, payableOf, recordLeads, seedCampaign, statusCounts, walletOf } from '../../test/support/settlement.js';

/** Settlement on the domain level: approvals past the hold, campaign end, the guarantee, statements, crashes between steps. */
const DAY = 86_400;
let database: TestDatabase;
let db: Kysely<any>;
const operator = { kind: 'operator' } as const;

beforeEach(async () => {
  database = await openTestDatabase();
  db = database.db;
});

afterEach(async () => {
  await database?.close();
});

/** The statement's identity, checked here independently of its own `reconciles`. */
function expectIdentity(s: Awaited<ReturnType<typeof campaignStatement>>): void {
  expect(s.reconciles).toBe(true);
  expect(s.funded).toBe(s.paid_to_creators + s.bonuses.paid + (s.platform_fees_gross - s.fees_returned) + s.unspent_refunded + s.escrow.held + s.escrow.available);
  expect(s.platform_fees_kept).toBe(s.platform_fees_gross - s.fees_returned - s.fees_refunded);
}

describe('approving results', () => {
  it('approves only results past their hold period, never a rejected one, and a rerun approves nothing more', async () => {
    const s = await seedCampaign(db, { budget: '100.00', rate: '2.50', creators: 2, holdDays: 7 });
    const results = await recordLeads(db, s, 4);
    await rejectResult(db, { resultId: results[0]?.id as string, by: 'operator', reason: 'duplicate_order' });
    expect((await runSettlement(db)).approved).toBe(0);
    await advanceClock(db, 7 * DAY - 60);
    expect((await runSettlement(db)).approved).toBe(0);
    await advanceClock(db, 61);
    const run = await runSettlement(db);
    expect(run.approved).toBe(3);
    expect(await statusCounts(db, [s.campaignId])).toEqual({ approved: 3, rejected: 1 });
    expect((await runSettlement(db)).approved).toBe(0);
    await expectResultsMatchLedger(db, [s.campaignId]);
    const [a, b] = s.enrolments.map((e) => e.creator_id) as [string, string];
    // Results alternate between the two creators; the first (creator a's) was rejected.
    expect((await payableOf(db, a)).available).toBe(200n);
    expect((await payableOf(db, b)).available).toBe(400n);

    const st = await campaignStatement(db, operator, s.campaignId);
    expect(st).toMatchObject({ funded: 10_000n, paid_to_creators: 600n, platform_fees_gross: 150n, unspent_refunded: 0n });
    expect(st.escrow).toEqual({ held: 0n, available: 9_250n, closed: false, low: false, low_threshold: null });
    expect(st.results).toEqual(
      expect.arrayContaining([
        { status: 'approved', count: 3, reasons: {} },
        { status: 'rejected', count: 1, reasons: { duplicate_order: 1 } },
      ]),
    );
    expectIdentity(st);
    await expectLedgerClean(db);
  });

  it('runs several settlers at once without approving any result twice', async () => {
    const s = await seedCampaign(db, { budget: '1000.00', rate: '1.00', creators: 3, holdDays: 1 });
    await recordLeads(db, s, 300);
    await advanceClock(db, DAY + 1);
    const runs = await Promise.all([1, 2, 3].map(() => runSettlement(db, { batchSize: 40 })));
    expect(runs.reduce((n, r) => n + r.approved, 0)).toBe(300);
    expect(await statusCounts(db, [s.campaignId])).toEqual({ approved: 300 });
    await expectResultsMatchLedger(db, [s.campaignId]);
    await expectLedgerClean(db);
  });
});

describe('ending and settling a campaign', () => {
  it('ends a campaign at its end date, waits for pending holds, then returns the unspent escrow (KPI met: no refund)', async () => {
    const s = await seedCampaign(db, { budget: '100.00', rate: '2.50', creators: 1, holdDays: 7, endsInDays: 10, kpiTarget: 3 });
    const walletBefore = await walletOf(db, s.orgId);
    await recordLeads(db, s, 2);
    await advanceClock(db, 8 * DAY);
    expect((await runSettlement(db)).approved).toBe(2);
    await recordLeads(db, s, 1); // pending until day 15
    await advanceClock(db, 3 * DAY); // day 11: past the end on day 10
    const ending = await runSettlement(db);
    expect(ending.campaigns_ended).toEqual([s.campaignId]);
    expect(ending.campaigns_settled).toEqual([]);
    expect((await getCampaign(db, operator, s.campaignId)).status).toBe('ended');
    const late = await recordLeads(db, s, 1);
    expect(late[0]).toMatchObject({ status: 'rejected', reasons: ['campaign_ended'] });
    const waiting = await campaignStatement(db, operator, s.campaignId);
    expect(waiting.escrow.held).toBe(250n);
    expect(waiting.guarantee).toMatchObject({ decided: false, applied: false, validated: 2, kpi_target: 3, kpi_met: false });
    expectIdentity(waiting);

    await advanceClock(db, 5 * DAY); // day 16: the last hold is due
    const settling = await runSettlement(db);
    expect(settling.approved).toBe(1);
    expect(settling.campaigns_settled).toEqual([
      expect.objectContaining({ campaign_id: s.campaignId, settled_now: true, unspent_refunded: 9_250n, fees_refunded: 0n, validated: 3 }),
    ]);
    const c = await getCampaign(db, operator, s.campaignId);
    expect(c.status).toBe('settled');
    expect(c.settled_at).not.toBeNull();
    expect(await walletOf(db, s.orgId)).toBe(walletBefore + 9_250n);
    const st = await campaignStatement(db, operator, s.campaignId);
    expect(st).toMatchObject({ funded: 10_000n, paid_to_creators: 600n, platform_fees_gross: 150n, fees_refunded: 0n, unspent_refunded: 9_250n });
    expect(st.escrow).toEqual({ held: 0n, available: 0n, closed: true, low: false, low_threshold: null });
    expect(st.guarantee).toMatchObject({ decided: true, applied: false, kpi_met: true, validated: 3 });
    expectIdentity(st);
    expect((await runSettlement(db)).campaigns_settled).toEqual([]);
    await expectLedgerClean(db);
  });

  it('refunds guarantee_bps of the fees earned (half to even) when validated results miss the KPI target', async () => {
    // 2.50 at 2500 bps: fee 0.625 → 0.62 (half to even), net 1.88. Three results earn 1.86 in fees;
    // 3333 bps of 186 cents is 61.9938 → 62 cents back.
    const s = await seedCampaign(db, { budget: '50.00', rate: '2.50', creators: 2, feeBps: 2500, kpiTarget: 10, guaranteeBps: 3333, holdDays: 3 });
    const walletBefore = await walletOf(db, s.orgId);
    await recordLeads(db, s, 3);
    await transition(db, s.campaignId, 'ended', { orgId: s.orgId }); // the brand ends it early
    expect((await runSettlement(db)).campaigns_settled).toEqual([]); // holds still pending
    await advanceClock(db, 3 * DAY + 1);
    const run = await runSettlement(db);
    expect(run.campaigns_settled).toEqual([
      expect.objectContaining({ campaign_id: s.campaignId, settled_now: true, fees_refunded: 62n, unspent_refunded: 5_000n - 750n, validated: 3 }),
    ]);
    expect(await walletOf(db, s.orgId)).toBe(walletBefore + 4_250n + 62n);
    const [refund] = await lookupTransfers(db, [`guarantee:${s.campaignId}`]);
    expect(refund).toMatchObject({ amount: 62n, code: 401, debit_account_id: 'fees:USD', credit_account_id: `wallet:${s.orgId}:USD` });
    const st = await campaignStatement(db, operator, s.campaignId);
    expect(st).toMatchObject({ paid_to_creators: 564n, platform_fees_gross: 186n, fees_refunded: 62n, platform_fees_kept: 124n });
    expect(st.guarantee).toMatchObject({ decided: true, applied: true, kpi_met: false, validated: 3, kpi_target: 10, guarantee_bps: 3333 });
    expectIdentity(st);
    await expectLedgerClean(db);
  });

  it('finishes a settlement interrupted between its steps, moving nothing twice', async () => {
    const s = await seedCampaign(db, { budget: '20.00', rate: '1.00', creators: 1, kpiTarget: 5, holdDays: 1 });
    const walletBefore = await walletOf(db, s.orgId);
    await recordLeads(db, s, 2); // 2 of 5: the guarantee applies, 0.40 of fees back
    await advanceClock(db, DAY + 1);
    await runSettlement(db);
    await transition(db, s.campaignId, 'ended', { orgId: s.orgId });
    // As if a settler died right after step 1 (escrow swept and closed).
    const swept = await settleEscrow(db, { id: `settle:${s.campaignId}`, orgId: s.orgId, campaignId: s.campaignId, currency: 'USD' });
    expect(swept).toMatchObject({ ok: true, refunded: Money.of(1_800n, 'USD') });
    const first = await runSettlement(db);
    expect(first.campaigns_settled).toEqual([expect.objectContaining({ settled_now: true, unspent_refunded: 1_800n, fees_refunded: 40n })]);
    expect(await walletOf(db, s.orgId)).toBe(walletBefore + 1_840n);
    // And after step 2 too: the next call finds both done and only reports them.
    const again = await settleCampaign(db, s.campaignId);
    expect(again).toMatchObject({ settled_now: false, unspent_refunded: 1_800n, fees_refunded: 40n });
    expect(await walletOf(db, s.orgId)).toBe(walletBefore + 1_840n);
    await expectLedgerClean(db);
  });

  it('marks a campaign settled after a crash that left both money steps done', async () => {
    const s = await seedCampaign(db, { budget: '10.00', rate: '1.00', creators: 1, kpiTarget: 2, holdDays: 1 });
    await recordLeads(db, s, 1);
    await advanceClock(db, DAY + 1);
    await runSettlement(db);
    await transition(db, s.campaignId, 'ended', { orgId: s.orgId });
    const walletBefore = await walletOf(db, s.orgId);
    await settleEscrow(db, { id: `settle:${s.campaignId}`, orgId: s.orgId, campaignId: s.campaignId, currency: 'USD' });
    expect((await refundFees(db, { id: `guarantee:${s.campaignId}`, orgId: s.orgId, amount: Money.of(20n, 'USD') })).ok).toBe(true);
    const run = await runSettlement(db);
    expect(run.campaigns_settled).toEqual([expect.objectContaining({ settled_now: true, fees_refunded: 20n, unspent_refunded: 900n })]);
    expect(await walletOf(db, s.orgId)).toBe(walletBefore + 900n + 20n);
    expect((await getCampaign(db, operator, s.campaignId)).status).toBe('settled');
    await expectLedgerClean(db);
  });

  it('settles a campaign that ended with no results at all, and refuses one still running', async () => {
    const s = await seedCampaign(db, { budget: '10.00', rate: '1.00', creators: 0, kpiTarget: 1, endsInDays: 1 });
    await expect(settleCampaign(db, s.campaignId)).rejects.toMatchObject({ code: 'invalid_state' });
    await advanceClock(db, DAY);
    const run = await runSettlement(db);
    expect(run.campaigns_ended).toEqual([s.campaignId]);
    expect(run.campaigns_settled).toEqual([expect.objectContaining({ unspent_refunded: 1_000n, fees_refunded: 0n, validated: 0 })]);
    expectIdentity(await campaignStatement(db, operator, s.campaignId));
    await expectLedgerClean(db);
  });
});

describe('statements', () => {
  it('are for the brand that owns the campaign, operators and the creators who joined it; other brands and creators get not_found', async () => {
    const s = await seedCampaign(db, { budget: '10.00', rate: '1.00', creators: 1 });
    const other = await seedCampaign(db, { budget: '10.00', rate: '1.00', creators: 1 });
    expect((await campaignStatement(db, { kind: 'organization', id: s.orgId }, s.campaignId)).campaign.id).toBe(s.campaignId);
    await expect(campaignStatement(db, { kind: 'organization', id: other.orgId }, s.campaignId)).rejects.toMatchObject({ code: 'not_found' });
    const creator = s.enrolments[0]?.creator_id as string;
    expect(await campaignStatement(db, { kind: 'creator', id: creator }, s.campaignId)).toMatchObject({ creator_id: creator, campaign: { id: s.campaignId } });
    const stranger = other.enrolments[0]?.creator_id as string;
    await expect(campaignStatement(db, { kind: 'creator', id: stranger }, s.campaignId)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('count results by status with their reason codes', async () => {
    const s = await seedCampaign(db, { budget: '10.00', rate: '1.00', creators: 1 });
    const now = new Date();
    const e = s.enrolments[0];
    if (!e) throw new Error('no enrolment');
    await recordResults(db, [
      { kind: 'lead', sourceId: 'x1', enrolment: e, occurredAt: now, rejectReasons: ['disposable_email'] },
      { kind: 'lead', sourceId: 'x2', enrolment: e, occurredAt: now, rejectReasons: ['disposable_email', 'ctit_too_short'] },
      { kind: 'lead', sourceId: 'x3', enrolment: e, occurredAt: now },
    ]);
    const st = await campaignStatement(db, operator, s.campaignId);
    expect(Object.fromEntries(st.results.map((r) => [r.status, r]))).toEqual({
      rejected: { status: 'rejected', count: 2, reasons: { ctit_too_short: 1, disposable_email: 2 } },
      pending: { status: 'pending', count: 1, reasons: {} },
    });
    expect(st.escrow.held).toBe(100n);
    expectIdentity(st);
  });
});

import { type Kysely, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { transition } from '../campaigns/index.js';
import { advanceClock, type Database, openDatabase } from '../db/index.js';
import { AccountId, lookupAccounts, lookupTransfers, settleEscrow } from '../ledger/index.js';
import type { Result } from '../results/index.js';
import { campaignStatement, type CampaignStatement } from '../settlement/index.js';
import { reversePaidResult, runSettlement } from './index.js';
import { openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../../test/support/database.js';
import { bonusRows, leads, seedIncentiveCampaign } from '../../test/support/bonuses.js';
import { expectLedgerClean, payableOf, recordLeads, seedCampaign, type Seeded, walletOf } from '../../test/support/settlement.js';

/**
 * Fraud never pays anyone, the platform included (issue 11 §3): a reversed result's fee goes back to
 * the brand — into the open escrow, or the brand's wallet once the campaign is settled — and the
 * money-back guarantee follows the results that stand, without paying a fee twice. Every campaign here:
 * 10.00 a lead at 20 %, so each approved result posted 8.00 net and 2.00 fee; hold 0 days, so one
 * settlement run approves what was recorded. Each test has its own database, so `fees:USD` holds only
 * its campaign's fees: the ledger refusing an overdrawn fee account would fail the reversal.
 */
let database: TestDatabase;
let db: Kysely<any>;
const operator = { kind: 'operator' } as const;
const reverse = (r: Result, note = 'chargeback') => reversePaidResult(db, { resultId: r.id, by: 'op_test', reason: 'fraud_confirmed', note });

beforeEach(async () => {
  database = await openTestDatabase();
  db = database.db;
});

afterEach(async () => {
  await database?.close();
});

async function paidCampaign(o: { leads: number; kpiTarget?: number; guaranteeBps?: number }): Promise<{ s: Seeded; results: Result[] }> {
  const s = await seedCampaign(db, { budget: '100.00', rate: '10.00', creators: 1, feeBps: 2000, holdDays: 0, kpiTarget: o.kpiTarget ?? 0, guaranteeBps: o.guaranteeBps ?? 10_000 });
  const results = await recordLeads(db, s, o.leads);
  expect((await runSettlement(db)).approved).toBe(o.leads);
  return { s, results };
}

async function endAndSettle(s: Seeded): Promise<void> {
  await transition(db, s.campaignId, 'ended', { orgId: s.orgId });
  const run = await runSettlement(db);
  expect(run.failures).toEqual([]);
  expect(run.campaigns_settled.map((c) => c.campaign_id)).toEqual([s.campaignId]);
}

/** The statement's identity and fee rule, checked here independently of its own `reconciles`. */
function expectReconciled(st: CampaignStatement): void {
  expect(st.reconciles).toBe(true);
  expect(st.funded).toBe(
    st.paid_to_creators + st.bonuses.paid + (st.platform_fees_gross - st.fees_returned) + st.unspent_refunded + st.escrow.held + st.escrow.available,
  );
  expect(st.platform_fees_kept).toBe(st.platform_fees_gross - st.fees_returned - st.fees_refunded);
  expect(st.platform_fees_kept).toBeGreaterThanOrEqual(0n);
}

async function feeAccount(): Promise<bigint> {
  const [a] = await lookupAccounts(db, [AccountId.fees('USD')]);
  return a ? a.credits_posted - a.debits_posted - a.debits_pending : 0n;
}

/** The journal's size: what a retry must not add to. */
async function journalSize(): Promise<number> {
  const r = await sql<{ n: bigint }>`select count(*) as n from ledger_transfers`.execute(db);
  return Number(r.rows[0]?.n ?? 0n);
}

describe('a reversal while the escrow is open', () => {
  it('returns the fee into the escrow with the net, linked; settlement then sweeps both back to the brand', async () => {
    const { s, results } = await paidCampaign({ leads: 3 });
    const r = results[0]!;
    const walletBefore = await walletOf(db, s.orgId);
    const reversed = await reverse(r);
    expect(reversed.status).toBe('reversed');
    const legs = await lookupTransfers(db, [`${r.id}.reverse.payable`, `${r.id}.reverse.receivable`, `${r.id}.reverse.fee`, `${r.id}.reverse.guarantee`]);
    expect(legs.map((t) => [t.id, t.code, t.debit_account_id, t.credit_account_id, t.amount, t.user_data]).sort()).toEqual([
      [`${r.id}.reverse.fee`, 402, AccountId.fees('USD'), AccountId.escrow(s.campaignId), 200n, r.id],
      [`${r.id}.reverse.payable`, 601, AccountId.payable(s.enrolments[0]!.creator_id, 'USD'), AccountId.escrow(s.campaignId), 800n, r.id],
    ]);
    expect(await walletOf(db, s.orgId)).toBe(walletBefore); // nothing to the wallet yet: the escrow is open
    const open = await campaignStatement(db, operator, s.campaignId);
    expect(open).toMatchObject({
      paid_to_creators: 1_600n,
      clawed_back: 800n,
      platform_fees_gross: 600n,
      fees_returned: 200n,
      fees_returned_to_brand: 0n,
      fees_refunded: 0n,
      platform_fees_kept: 400n,
      escrow: { held: 0n, available: 10_000n - 3_000n + 1_000n, closed: false },
    });
    expectReconciled(open);

    const size = await journalSize();
    expect(await reverse(r, 'again')).toEqual(reversed); // a second reversal answers the same and moves nothing
    expect(await journalSize()).toBe(size);

    await endAndSettle(s);
    // 70.00 unspent + 8.00 net + 2.00 fee back in the escrow: all swept to the brand.
    expect(await walletOf(db, s.orgId)).toBe(walletBefore + 8_000n);
    const settled = await campaignStatement(db, operator, s.campaignId);
    expect(settled).toMatchObject({ unspent_refunded: 8_000n, fees_returned: 200n, fees_refunded: 0n, platform_fees_kept: 400n });
    expect(settled.guarantee).toMatchObject({ decided: true, applied: false, fees_standing: 400n, refund_due: 0n });
    expectReconciled(settled);
    expect(await feeAccount()).toBe(400n);
    await expectLedgerClean(db);
  });

  it('judges the guarantee at settlement on the standing results and fees: a reversal that makes the KPI missed', async () => {
    // 3 of 3 approved, one reversed before the end: 2 of 3 stand, the guarantee (50 %) refunds half of the 4.00 standing fees.
    const { s, results } = await paidCampaign({ leads: 3, kpiTarget: 3, guaranteeBps: 5_000 });
    await reverse(results[1]!);
    const walletBefore = await walletOf(db, s.orgId);
    await endAndSettle(s);
    const [guarantee] = await lookupTransfers(db, [`guarantee:${s.campaignId}`]);
    expect(guarantee).toMatchObject({ amount: 200n, code: 401 });
    expect(await walletOf(db, s.orgId)).toBe(walletBefore + 8_000n + 200n);
    const st = await campaignStatement(db, operator, s.campaignId);
    expect(st).toMatchObject({ platform_fees_gross: 600n, fees_returned: 200n, fees_refunded: 200n, platform_fees_kept: 200n });
    expect(st.guarantee).toMatchObject({ validated: 2, kpi_met: false, applied: true, fees_standing: 400n, refund_due: 200n });
    expectReconciled(st);
    await expectLedgerClean(db);
  });
});

describe('a reversal after the campaign settled', () => {
  it("returns the net and the fee to the brand's wallet (KPI still met: no guarantee), once", async () => {
    const { s, results } = await paidCampaign({ leads: 3, kpiTarget: 2 });
    await endAndSettle(s);
    const walletBefore = await walletOf(db, s.orgId);
    const r = results[2]!;
    const reversed = await reverse(r);
    const [fee] = await lookupTransfers(db, [`${r.id}.reverse.fee`]);
    expect(fee).toMatchObject({ amount: 200n, code: 402, debit_account_id: AccountId.fees('USD'), credit_account_id: AccountId.wallet(s.orgId, 'USD') });
    expect(await lookupTransfers(db, [`${r.id}.reverse.guarantee`])).toEqual([]);
    expect(await walletOf(db, s.orgId)).toBe(walletBefore + 1_000n);
    const size = await journalSize();
    expect(await reverse(r, 'again')).toEqual(reversed);
    expect(await journalSize()).toBe(size);
    expect(await walletOf(db, s.orgId)).toBe(walletBefore + 1_000n);
    const st = await campaignStatement(db, operator, s.campaignId);
    expect(st).toMatchObject({ fees_returned: 200n, fees_returned_to_brand: 200n, clawbacks_refunded: 800n, fees_refunded: 0n, platform_fees_kept: 400n });
    expect(st.unspent_refunded).toBe(7_000n + 800n + 200n);
    expect(st.guarantee).toMatchObject({ validated: 2, kpi_met: true, refund_due: 0n });
    expectReconciled(st);
    await expectLedgerClean(db);
  });

  it('KPI met at settlement, missed after a reversal: the fee back and the guarantee on what stands; a second reversal pays no fee twice', async () => {
    const { s, results } = await paidCampaign({ leads: 3, kpiTarget: 3, guaranteeBps: 10_000 });
    await endAndSettle(s);
    expect(await lookupTransfers(db, [`guarantee:${s.campaignId}`])).toEqual([]); // 3 of 3: met
    const walletBefore = await walletOf(db, s.orgId);
    const [first, second] = [results[0]!, results[1]!];

    await reverse(first);
    // 8.00 net + 2.00 fee + the guarantee now due: 100 % of the 4.00 standing fees (2 of 3 stand).
    const adjust = await lookupTransfers(db, [`${first.id}.reverse.guarantee`]);
    expect(adjust.map((t) => [t.code, t.amount, t.debit_account_id, t.credit_account_id])).toEqual([[401, 400n, AccountId.fees('USD'), AccountId.wallet(s.orgId, 'USD')]]);
    expect(await walletOf(db, s.orgId)).toBe(walletBefore + 800n + 200n + 400n);
    expect(await feeAccount()).toBe(0n); // the platform keeps nothing of this campaign
    const afterFirst = await campaignStatement(db, operator, s.campaignId);
    expect(afterFirst).toMatchObject({ fees_returned: 200n, fees_refunded: 400n, platform_fees_kept: 0n });
    expect(afterFirst.guarantee).toMatchObject({ validated: 2, kpi_met: false, applied: true, fees_standing: 400n, refund_due: 400n });
    expectReconciled(afterFirst);

    // The second result's fee was already refunded by the guarantee: only its net moves; the fee
    // account (empty) is never asked for more. Guarantee due now 2.00 on 2.00 standing; the brand has
    // 2.00 + 4.00 back = the two reversed fees + that guarantee.
    await reverse(second);
    expect(await lookupTransfers(db, [`${second.id}.reverse.fee`, `${second.id}.reverse.guarantee`])).toEqual([]);
    expect(await walletOf(db, s.orgId)).toBe(walletBefore + 1_400n + 800n);
    const afterSecond = await campaignStatement(db, operator, s.campaignId);
    expect(afterSecond).toMatchObject({ fees_returned: 200n, fees_refunded: 400n, platform_fees_kept: 0n });
    expect(afterSecond.guarantee).toMatchObject({ validated: 1, fees_standing: 200n, refund_due: 200n });
    expect(afterSecond.fees_returned + afterSecond.fees_refunded).toBe(400n + afterSecond.guarantee.refund_due);
    expectReconciled(afterSecond);
    expect(await feeAccount()).toBe(0n);
    await expectLedgerClean(db);
  });

  it('KPI missed at settlement (50 %): the reversed fee comes back less the part the guarantee already refunded', async () => {
    const { s, results } = await paidCampaign({ leads: 2, kpiTarget: 5, guaranteeBps: 5_000 });
    await endAndSettle(s);
    const [guarantee] = await lookupTransfers(db, [`guarantee:${s.campaignId}`]);
    expect(guarantee?.amount).toBe(200n); // 50 % of 4.00
    const walletBefore = await walletOf(db, s.orgId);
    await reverse(results[0]!);
    // Standing: 2.00 of fees, guarantee 1.00. The brand is owed its 2.00 fee + 1.00 = 3.00 and had 2.00: 1.00 more.
    const [fee] = await lookupTransfers(db, [`${results[0]!.id}.reverse.fee`]);
    expect(fee).toMatchObject({ amount: 100n, code: 402 });
    expect(await lookupTransfers(db, [`${results[0]!.id}.reverse.guarantee`])).toEqual([]);
    expect(await walletOf(db, s.orgId)).toBe(walletBefore + 800n + 100n);
    const st = await campaignStatement(db, operator, s.campaignId);
    expect(st).toMatchObject({ platform_fees_gross: 400n, fees_returned: 100n, fees_refunded: 200n, platform_fees_kept: 100n });
    expect(st.guarantee).toMatchObject({ fees_standing: 200n, refund_due: 100n });
    expectReconciled(st);
    expect(await feeAccount()).toBe(100n); // 50 % of the standing 2.00
    await expectLedgerClean(db);
  });

  it('a reversal between the escrow closing and the guarantee step: the guarantee is paid once, by whichever comes first', async () => {
    const { s, results } = await paidCampaign({ leads: 3, kpiTarget: 3, guaranteeBps: 10_000 });
    await transition(db, s.campaignId, 'ended', { orgId: s.orgId });
    // As if a settler died right after step 1 (escrow swept and closed), before the guarantee.
    expect(await settleEscrow(db, { id: `settle:${s.campaignId}`, orgId: s.orgId, campaignId: s.campaignId, currency: 'USD' })).toMatchObject({ ok: true });
    const walletBefore = await walletOf(db, s.orgId);
    await reverse(results[0]!);
    expect(await walletOf(db, s.orgId)).toBe(walletBefore + 800n + 200n + 400n);
    const run = await runSettlement(db);
    expect(run.campaigns_settled).toEqual([expect.objectContaining({ campaign_id: s.campaignId, settled_now: true, fees_refunded: 0n })]);
    expect(await lookupTransfers(db, [`guarantee:${s.campaignId}`])).toEqual([]);
    expect(await walletOf(db, s.orgId)).toBe(walletBefore + 1_400n);
    const st = await campaignStatement(db, operator, s.campaignId);
    expect(st).toMatchObject({ fees_refunded: 400n, platform_fees_kept: 0n });
    expect(st.guarantee).toMatchObject({ decided: true, applied: true, refund_due: 400n });
    expectReconciled(st);
    await expectLedgerClean(db);
  });

  it('the clawback and the fee return are one linked chain', async () => {
    const { s, results } = await paidCampaign({ leads: 1 });
    await endAndSettle(s);
    const creator = s.enrolments[0]!.creator_id;
    expect((await payableOf(db, creator)).available).toBe(800n);
    await reverse(results[0]!);
    const legs = await lookupTransfers(db, [`${results[0]!.id}.reverse.payable`, `${results[0]!.id}.reverse.fee`]);
    expect(legs.map((t) => [t.code, t.amount])).toEqual([
      [601, 800n],
      [402, 200n],
    ]);
    expect((legs[0]!.flags & 1) !== 0).toBe(true); // linked with the fee leg: one chain
    expectReconciled(await campaignStatement(db, operator, s.campaignId));
    await expectLedgerClean(db);
  });
});

describe('a bonus lowered by a reversal', () => {
  it('returns its fee part with its net into the open escrow; settlement sweeps both to the brand', async () => {
    const DAY = 86_400;
    // One tier: 3 results → a fixed 5.00 bonus (4.00 net, 1.00 fee at 20 %).
    const c = await seedIncentiveCampaign(db, {
      budget: '100.00',
      rate: '10.00',
      creators: 2,
      endsInDays: 10,
      incentives: { period: 'campaign', tiers: [{ threshold: { results: 3 }, bonus: { fixed: '5.00' } }] },
    });
    const [ada, bob] = c.enrolments;
    const adaResults = await leads(db, ada!, 3);
    await advanceClock(db, 9.9 * DAY);
    await leads(db, bob!, 1); // still pending at the end: the escrow stays open
    await advanceClock(db, 0.1 * DAY + 1);
    const first = await runSettlement(db);
    expect(first.bonuses.failures).toEqual([]);
    expect(first.campaigns_settled).toEqual([]);
    expect(await bonusRows(db, ada!.id)).toMatchObject([{ status: 'released', credited: 500n, paid_net: 400n, fees_paid: 100n }]);

    await reverse(adaResults[0]!);
    const second = await runSettlement(db);
    expect(second.bonuses).toMatchObject({ clawed_back: 1, failures: [] });
    expect(await bonusRows(db, ada!.id)).toMatchObject([{ due: 0n, credited: 0n, clawed_back: 400n, fees_paid: 0n }]);
    const fee = await sql<{ id: string; amount: bigint; code: number; credit_account_id: string }>`
      select t.id, t.amount, t.code, t.credit_account_id from bonus_movements m cross join lateral unnest(m.transfer_ids) as x(id)
        join ledger_transfers t on t.id = x.id where m.enrolment_id = ${ada!.id} and m.kind = 'clawback' and t.code = 402`.execute(db);
    expect(fee.rows.map((t) => [BigInt(t.amount), t.credit_account_id])).toEqual([[100n, AccountId.escrow(c.campaignId)]]);
    const open = await campaignStatement(db, operator, c.campaignId);
    // posted: ada's 3 × 2.00 fees + the bonus fee 1.00 (bob's is still held); back: the reversed result's 2.00 and the bonus's 1.00
    expect(open).toMatchObject({ platform_fees_gross: 700n, fees_returned: 300n, bonuses: { paid: 0n, fees: 100n, clawed_back: 400n } });
    expectReconciled(open);

    await advanceClock(db, DAY);
    const last = await runSettlement(db);
    expect(last.campaigns_settled.map((x) => x.campaign_id)).toEqual([c.campaignId]);
    const settled = await campaignStatement(db, operator, c.campaignId);
    // 100.00 − 3 results still standing × 10.00 = 70.00 back (the reversed net and fee and the bonus's came back into the escrow)
    expect(settled).toMatchObject({ unspent_refunded: 7_000n, platform_fees_gross: 900n, fees_returned: 300n, platform_fees_kept: 600n, escrow: { closed: true } });
    expectReconciled(settled);
    await expectLedgerClean(db);
  });
});

describe.skipIf(!TEST_DATABASE_URL)('reversals racing on the PostgreSQL server', () => {
  const others: Database<any>[] = [];
  afterEach(async () => {
    for (const o of others.splice(0)) await o.close();
  });

  it('two reversals of one settled campaign at once: each fee and the guarantee are paid exactly once', async () => {
    const { s, results } = await paidCampaign({ leads: 4, kpiTarget: 4, guaranteeBps: 10_000 });
    await endAndSettle(s);
    const walletBefore = await walletOf(db, s.orgId);
    for (let i = 0; i < 3; i++) others.push(await openDatabase({ url: TEST_DATABASE_URL, schema: database.schema, poolSize: 2 }));
    await Promise.all(
      [results[0]!, results[1]!, results[2]!].map((r, i) =>
        reversePaidResult(others[i]!.db, { resultId: r.id, by: 'op_test', reason: 'fraud_confirmed', note: 'race' }),
      ),
    );
    // 1 of 4 stands: the brand has the three nets, and fees = three reversed fees + the guarantee (100 % of 2.00 standing) = all 8.00.
    expect(await walletOf(db, s.orgId)).toBe(walletBefore + 3n * 800n + 800n);
    expect(await feeAccount()).toBe(0n);
    const st = await campaignStatement(db, operator, s.campaignId);
    expect(st.fees_returned + st.fees_refunded).toBe(3n * 200n + st.guarantee.refund_due);
    expect(st.guarantee).toMatchObject({ validated: 1, fees_standing: 200n, refund_due: 200n });
    expectReconciled(st);
    await expectLedgerClean(db);
  });
});

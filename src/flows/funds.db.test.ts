import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceClock } from '../db/index.js';
import { checkLedger } from '../ledger/index.js';
import { newId } from '../ids/index.js';
import { type ApiResponse, startTestApi, type TestApi } from '../../test/support/api.js';
import {
  BROWSER_AGENT,
  createBrand,
  createCreator,
  enrolCreators,
  expectError,
  insertClick,
  type Launched,
  launchCampaign,
  type Party,
} from '../../test/support/conversions.js';

/**
 * Running out of budget through the API (issue #10 §4): a result the escrow cannot cover waits for
 * funds instead of being lost; a top-up holds the waiting results in arrival order as far as the
 * escrow covers them; the rest stay waiting, and become over_budget when their grace period ends.
 * The settlement job runs only when a test asks (`POST /v1/settlement/run`).
 */
const DAY = 86_400;
let api: TestApi;
let brand: Party;
let ada: Party;
let bea: Party;
let deposits = 0;

beforeAll(async () => {
  api = await startTestApi({ SETTLE_INTERVAL_MS: '86400000', CLICK_FLUSH_INTERVAL_MS: '60000', TRUST_PROXY: 'true' });
  brand = await createBrand(api, 'Budget Brand');
  ada = await createCreator(api, 'ada@budget.example');
  bea = await createCreator(api, 'bea@budget.example');
});

afterAll(async () => {
  await api?.close();
});

async function lead(c: Launched, creator: Party, options: { clickAgeMs?: number } = {}): Promise<ApiResponse> {
  const click = await insertClick(api, c, creator, options.clickAgeMs === undefined ? {} : { at: await clockMinus(options.clickAgeMs) });
  const r = await api.call('POST', '/v1/conversions', {
    key: brand.key,
    body: { external_id: newId('cnv'), type: 'lead', click_id: click.id, customer: { id: `cus-${newId('cnv')}` } },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r;
}

async function clockMinus(ms: number): Promise<Date> {
  const r = await sql<{ now: Date }>`select earnest_now() as now`.execute(api.database.db);
  return new Date((r.rows[0]?.now as Date).getTime() - ms);
}

async function topUp(campaignId: string, amount: string): Promise<ApiResponse> {
  const ref = `top-${++deposits}`;
  expect((await api.call('POST', '/v1/deposits', { key: brand.key, body: { amount, currency: 'USD', reference: ref } })).status).toBe(201);
  return api.call('POST', `/v1/campaigns/${campaignId}/fund`, { key: brand.key, body: { amount, reference: ref } });
}

async function campaign(key: string, id: string) {
  const r = await api.call('GET', `/v1/campaigns/${id}`, { key });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

async function result(id: string) {
  const r = await api.call('GET', `/v1/results/${id}`, { key: brand.key });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

async function settle() {
  const r = await api.call('POST', '/v1/settlement/run', { key: api.operatorKey, body: {} });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

async function statement(id: string) {
  const r = await api.call('GET', `/v1/campaigns/${id}/statement`, { key: brand.key });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

async function expectLedgerClean(): Promise<void> {
  const report = await checkLedger(api.database.db);
  expect(report.problems).toEqual([]);
  expect(report.mismatches).toBe(0);
}

/** Every result's hold legs, by result: nothing may be held twice, nothing held without its result being held. */
async function holdLegsOf(campaignId: string): Promise<Map<string, number>> {
  const r = await sql<{ id: string; legs: bigint }>`select r.id, count(t.id) as legs from results r
      left join ledger_transfers t on t.id in (r.id || '.net', r.id || '.fee')
     where r.campaign_id = ${campaignId} group by r.id`.execute(api.database.db);
  return new Map(r.rows.map((x) => [x.id, Number(x.legs)]));
}

describe('a campaign that runs out of budget', () => {
  it('keeps later results waiting, holds them in arrival order after a top-up, and makes the rest over_budget after the grace period', async () => {
    // 10.00 a lead, 25.00 escrowed: two leads fit, the third does not.
    const c = await launchCampaign(api, brand, ada, { objective: 'cpl', rate: '10.00', budget: '25.00', hold_days: 14 });
    const beaCampaign = { ...c, enrolmentId: (await enrolCreators(api, brand, c.id, [bea])).get(bea.id) as string };
    const held = [await lead(c, ada), await lead(c, ada)];
    expect(held.map((r) => r.body.result.status)).toEqual(['pending', 'pending']);

    const third = await lead(c, ada);
    expect(third.body).toMatchObject({ status: 'attributed', result: { status: 'awaiting_funds', reasons: ['over_budget'], hold_until: null } });
    expect(await campaign(brand.key, c.id)).toMatchObject({ status: 'paused', paused_reason: 'over_budget' });
    // While paused for budget, results are still recorded (201), waiting — never rejected campaign_paused.
    const later = [await lead(beaCampaign, bea), await lead(c, ada)];
    expect(later.map((r) => [r.status, r.body.status, r.body.result.status])).toEqual([
      [201, 'attributed', 'awaiting_funds'],
      [201, 'attributed', 'awaiting_funds'],
    ]);
    const waiting = [third, ...later].map((r) => r.body.result.id as string);

    // The brand and the creators see the state and why.
    const seen = await campaign(brand.key, c.id);
    expect(seen.awaiting_funds).toMatchObject({ results: 3, amount: { amount: '30.00', currency: 'USD' } });
    expect(Date.parse(seen.awaiting_funds.first_expires_at) - Date.parse(third.body.result.recorded_at)).toBe(7 * DAY * 1000);
    expect(seen.terms.budget_grace_days).toBe(7);
    expect((await campaign(ada.key, c.id)).awaiting_funds).toMatchObject({ results: 2, amount: { amount: '20.00' } });
    expect(await campaign(bea.key, c.id)).toMatchObject({ status: 'paused', paused_reason: 'over_budget', awaiting_funds: { results: 1 } });
    const listed = await api.call('GET', `/v1/results?campaign_id=${c.id}&status=awaiting_funds`, { key: brand.key });
    expect(listed.body.data.map((r: { id: string }) => r.id).sort()).toEqual([...waiting].sort());
    const mine = await api.call('GET', `/v1/results?status=awaiting_funds&campaign_id=${c.id}`, { key: bea.key });
    expect(mine.body.data.map((r: { id: string }) => r.id)).toEqual([later[0]?.body.result.id]);
    const before = await statement(c.id);
    expect(before.awaiting_funds).toMatchObject({ results: 3, amount: { amount: '30.00' } });
    expect(before.results.awaiting_funds).toEqual({ count: 3, reasons: { over_budget: 3 } });
    expect(before.creators.find((x: { creator_id: string }) => x.creator_id === ada.id).awaiting_funds.amount).toBe('20.00');
    expect(before.reconciles).toBe(true);

    // A top-up of 15.00 leaves 20.00 available: it resumes the campaign and holds the first two waiting, in arrival order.
    const funded = await topUp(c.id, '15.00');
    expect(funded.status, JSON.stringify(funded.body)).toBe(200);
    expect(funded.body).toMatchObject({ status: 'paused', paused_reason: 'over_budget', awaiting_funds: { results: 1 } });
    expect(funded.body.escrow.available.amount).toBe('0.00');
    const after = await Promise.all(waiting.map(result));
    expect(after.map((r) => r.status)).toEqual(['pending', 'pending', 'awaiting_funds']);
    expect(after[0].reasons).toEqual([]);
    // Their hold period starts when they were held: the brand keeps its whole window to reject.
    const heldAt = await clockMinus(0);
    expect(Date.parse(after[0].hold_until)).toBeGreaterThanOrEqual(Date.parse(third.body.result.recorded_at) + 14 * DAY * 1000);
    expect(Date.parse(after[0].hold_until)).toBeLessThanOrEqual(heldAt.getTime() + 14 * DAY * 1000);
    expect(after[0].awaiting_funds_until).toBe(third.body.result.awaiting_funds_until);
    const legs = await holdLegsOf(c.id);
    expect(waiting.map((id) => legs.get(id))).toEqual([2, 2, 0]);

    // The grace period ends: the one still waiting becomes final over_budget.
    await advanceClock(api.database.db, 7 * DAY + 1);
    const run = await settle();
    expect(run.awaiting_funds).toEqual({ held: 0, expired: 1 });
    const last = await result(waiting[2] as string);
    expect(last).toMatchObject({ status: 'over_budget', reasons: ['over_budget', 'budget_grace_expired'] });
    expect((await campaign(brand.key, c.id)).awaiting_funds.results).toBe(0);
    // Another top-up holds nothing more: over_budget is final.
    expect((await topUp(c.id, '10.00')).body.status).toBe('active');
    expect((await result(waiting[2] as string)).status).toBe('over_budget');
    const decisions = await sql<{ result_id: string; from_status: string; to_status: string; actor_id: string }>`
      select result_id, from_status, to_status, actor_id from result_decisions where result_id = any(${waiting}::text[]) order by id`.execute(api.database.db);
    expect(decisions.rows.filter((d) => d.result_id === waiting[2]).map((d) => `${d.from_status}>${d.to_status}`)).toEqual([
      'new>awaiting_funds',
      'awaiting_funds>over_budget',
    ]);
    expect(decisions.rows.filter((d) => d.result_id === waiting[0]).map((d) => `${d.from_status}>${d.to_status}:${d.actor_id}`)).toEqual([
      'new>awaiting_funds:budget',
      'awaiting_funds>pending:budget',
    ]);
    expect((await statement(c.id)).reconciles).toBe(true);
    await expectLedgerClean();
  });

  it('refuses to resume while the escrow cannot cover the first waiting result, and a brand pause keeps refusing results', async () => {
    const c = await launchCampaign(api, brand, ada, { objective: 'cpl', rate: '10.00', budget: '10.00' });
    await lead(c, ada);
    const waiting = await lead(c, ada);
    expect(waiting.body.result.status).toBe('awaiting_funds');
    // 5.00 more is one result short: funding does not resume, and activate says why.
    expect((await topUp(c.id, '5.00')).body).toMatchObject({ status: 'paused', paused_reason: 'over_budget' });
    const refused = await api.call('POST', `/v1/campaigns/${c.id}/activate`, { key: brand.key, body: {} });
    expectError(refused, 409, 'insufficient_funds');
    expect(refused.body.error.message).toMatch(/1 results await funds; the first needs 10\.00 USD/);

    // The brand makes the pause its own: new results are refused as before, the waiting one keeps waiting.
    expectError(await api.call('POST', `/v1/campaigns/${c.id}/pause`, { key: brand.key, body: { reason: 'over_budget' } }), 400, 'invalid_request', 'reason');
    const paused = await api.call('POST', `/v1/campaigns/${c.id}/pause`, { key: brand.key, body: { reason: 'new creative' } });
    expect(paused.body).toMatchObject({ status: 'paused', paused_reason: 'new creative', awaiting_funds: { results: 1 } });
    const refusedLead = await lead(c, ada);
    expect(refusedLead.body).toMatchObject({ status: 'rejected', result: { status: 'rejected', reasons: ['campaign_paused'] } });
    // Funding no longer resumes a brand's pause; activating does, and holds the waiting result first.
    expect((await topUp(c.id, '5.00')).body).toMatchObject({ status: 'paused', paused_reason: 'new creative' });
    const resumed = await api.call('POST', `/v1/campaigns/${c.id}/activate`, { key: brand.key, body: {} });
    expect(resumed.body).toMatchObject({ status: 'active', paused_reason: null, awaiting_funds: { results: 0 } });
    expect((await result(waiting.body.result.id)).status).toBe('pending');
    await expectLedgerClean();
  });

  it('lets the brand reject a waiting result (nothing to void), and sends a review verdict to review once held', async () => {
    const c = await launchCampaign(api, brand, ada, { objective: 'cpl', rate: '10.00', budget: '10.00' });
    await lead(c, ada);
    const plain = await lead(c, ada);
    const doubtful = await lead(c, ada, { clickAgeMs: 12_000 }); // 12 s after its click: review (ctit_short)
    expect(doubtful.body.result).toMatchObject({ status: 'awaiting_funds', reasons: expect.arrayContaining(['ctit_short', 'over_budget']) });
    const rejected = await api.call('POST', `/v1/results/${plain.body.result.id}/reject`, { key: brand.key, body: { reason: 'duplicate_order' } });
    expect(rejected.body).toMatchObject({ status: 'rejected', reasons: ['duplicate_order'] });
    expect((await topUp(c.id, '10.00')).body.status).toBe('active');
    const review = await result(doubtful.body.result.id);
    expect(review.status).toBe('review');
    expect(review.reasons).toContain('ctit_short');
    expect(review.reasons).not.toContain('over_budget');
    const queue = await api.call('GET', `/v1/review?campaign_id=${c.id}`, { key: api.operatorKey });
    expect(queue.body.data.map((r: { id: string }) => r.id)).toEqual([doubtful.body.result.id]);
    await expectLedgerClean();
  });

  it('records results as over_budget at once when the terms give no grace', async () => {
    const c = await launchCampaign(api, brand, ada, { objective: 'cpl', rate: '10.00', budget: '10.00', budget_grace_days: 0 });
    await lead(c, ada);
    const over = await lead(c, ada);
    expect(over.body).toMatchObject({ status: 'over_budget', result: { status: 'over_budget', reasons: ['over_budget'], awaiting_funds_until: null } });
    const paused = await lead(c, ada);
    expect(paused.body.result.status).toBe('over_budget');
    expect((await campaign(brand.key, c.id)).awaiting_funds.results).toBe(0);
  });

  it('waits to settle an ended campaign while results await funds; a top-up after the end still holds them', async () => {
    const c = await launchCampaign(api, brand, ada, { objective: 'cpl', rate: '10.00', budget: '10.00', hold_days: 0 });
    await lead(c, ada);
    const waiting = await lead(c, ada);
    expect((await api.call('POST', `/v1/campaigns/${c.id}/end`, { key: brand.key, body: {} })).body.status).toBe('ended');
    const run = await settle();
    expect(run.campaigns_settled.map((s: { campaign_id: string }) => s.campaign_id)).not.toContain(c.id);
    expect((await campaign(brand.key, c.id)).status).toBe('ended');
    // An ended campaign takes money only because a result waits: the top-up holds it.
    const funded = await topUp(c.id, '10.00');
    expect(funded.status, JSON.stringify(funded.body)).toBe(200);
    expect(funded.body).toMatchObject({ status: 'ended', awaiting_funds: { results: 0 } });
    expect((await result(waiting.body.result.id)).status).toBe('pending');
    await settle(); // approves both (no hold period), then settles
    expect((await campaign(brand.key, c.id)).status).toBe('settled');
    expect((await result(waiting.body.result.id)).status).toBe('approved');
    expectError(await topUp(c.id, '1.00'), 409, 'invalid_state');
    await expectLedgerClean();
  });

  it('settles an ended campaign once its waiting results expire', async () => {
    const c = await launchCampaign(api, brand, ada, { objective: 'cpl', rate: '10.00', budget: '10.00', hold_days: 0, budget_grace_days: 2 });
    await lead(c, ada);
    const waiting = await lead(c, ada);
    expect((await api.call('POST', `/v1/campaigns/${c.id}/end`, { key: brand.key, body: {} })).body.status).toBe('ended');
    expect((await settle()).campaigns_settled.map((s: { campaign_id: string }) => s.campaign_id)).not.toContain(c.id);
    await advanceClock(api.database.db, 2 * DAY + 1);
    const run = await settle();
    expect(run.campaigns_settled.map((s: { campaign_id: string }) => s.campaign_id)).toContain(c.id);
    expect((await result(waiting.body.result.id)).status).toBe('over_budget');
    await expectLedgerClean();
  });
});

describe('CPC clicks', () => {
  it('wait for funds like conversions, and are held in arrival order after a top-up', async () => {
    const c = await launchCampaign(api, brand, ada, { objective: 'cpc', rate: '0.40', budget: '1.00' });
    const link = (await api.call('GET', `/v1/campaigns/${c.id}/enrolments`, { key: ada.key })).body.data[0].link_code as string;
    for (let i = 0; i < 5; i++) {
      const r = await api.call('GET', `/c/${link}`, { headers: { 'x-forwarded-for': `198.51.100.${80 + i}`, 'user-agent': BROWSER_AGENT } });
      expect(r.status).toBe(302);
      await api.services.tracker?.flush(); // one click per batch: arrival order is the clicks' order
    }
    const byOrder = async () => {
      const r = await sql<{ status: string }>`select r.status from results r join clicks k on k.result_id = r.id
        where r.campaign_id = ${c.id} order by k.occurred_at, k.id`.execute(api.database.db);
      return r.rows.map((x) => x.status);
    };
    expect(await byOrder()).toEqual(['pending', 'pending', 'awaiting_funds', 'awaiting_funds', 'awaiting_funds']);
    expect(await campaign(brand.key, c.id)).toMatchObject({ status: 'paused', paused_reason: 'over_budget' });
    // 0.20 left + 0.70 = 0.90: two more clicks (0.80), the fifth still waits.
    await topUp(c.id, '0.70');
    expect(await byOrder()).toEqual(['pending', 'pending', 'pending', 'pending', 'awaiting_funds']);
    expect(await campaign(brand.key, c.id)).toMatchObject({ status: 'paused', awaiting_funds: { results: 1, amount: { amount: '0.40' } } });
    await expectLedgerClean();
  });
});

describe('low escrow', () => {
  it('flags the escrow low at or below the brand’s threshold, on GET and on the statement', async () => {
    const c = await launchCampaign(api, brand, ada, { objective: 'cpl', rate: '10.00', budget: '30.00' });
    expect((await campaign(brand.key, c.id)).escrow).toMatchObject({ low: false, low_threshold: null });
    const set = await api.call('PATCH', `/v1/campaigns/${c.id}`, { key: brand.key, body: { low_escrow_threshold: '10.00' } });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.escrow).toMatchObject({ low: false, low_threshold: { amount: '10.00', currency: 'USD' } });
    await lead(c, ada);
    expect((await campaign(brand.key, c.id)).escrow.low).toBe(false); // 20.00 available
    await lead(c, ada);
    expect((await campaign(brand.key, c.id)).escrow).toMatchObject({ available: { amount: '10.00' }, low: true }); // at the threshold
    expect((await statement(c.id)).escrow).toMatchObject({ low: true, low_threshold: { amount: '10.00' } });
    // The threshold is the brand's setting, not a term: no new terms version.
    const cleared = await api.call('PATCH', `/v1/campaigns/${c.id}`, { key: brand.key, body: { low_escrow_threshold: null } });
    expect(cleared.body).toMatchObject({ terms_version: 1, escrow: { low: false, low_threshold: null } });
    expectError(await api.call('PATCH', `/v1/campaigns/${c.id}`, { key: brand.key, body: { low_escrow_threshold: '1.001' } }), 400, 'inexact_amount', 'low_escrow_threshold');
    expectError(await api.call('PATCH', `/v1/campaigns/${c.id}`, { key: ada.key, body: { name: 'mine' } }), 403, 'forbidden');
  });

  it('takes a threshold at creation', async () => {
    const terms = {
      objective: 'cpl', rate: '1.00', currency: 'USD', budget: '5.00', destination_url: 'https://shop.example/',
      starts_at: '2026-01-01T00:00:00Z', ends_at: '2030-01-01T00:00:00Z', kpi_target: 1,
    };
    const created = await api.call('POST', '/v1/campaigns', { key: brand.key, body: { name: 'thresholded', terms, low_escrow_threshold: '2.50' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.escrow).toMatchObject({ available: { amount: '0.00' }, low: true, low_threshold: { amount: '2.50' } });
    expect(created.body.terms.budget_grace_days).toBe(7);
  });
});

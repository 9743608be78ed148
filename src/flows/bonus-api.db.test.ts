import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceClock } from '../db/index.js';
import { createBrand, createCreator, expectError, insertClick, type Launched, launchCampaign, type Party } from '../../test/support/conversions.js';
import { startTestApi, type TestApi } from '../../test/support/api.js';

/**
 * Bonuses over the API: per-enrolment targets set by the brand and seen by the creator, the maximum
 * bonus exposure shown when funding, and a bonus the escrow cannot cover — paid as far as it goes,
 * the shortfall shown to brand and creator, and paid once the brand tops the escrow up.
 */
const DAY = 86_400;
let api: TestApi;
let brand: Party;
let ada: Party;
let seq = 0;

async function lead(c: Launched, creator: Party): Promise<void> {
  const click = await insertClick(api, c, creator);
  const n = ++seq;
  const r = await api.call('POST', '/v1/conversions', {
    key: brand.key,
    body: { external_id: `bonus-${n}`, type: 'lead', click_id: click.id, customer: { id: `c-${n}`, email: `person.${n}@shop.example` } },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  expect(r.body.result.status).toBe('pending');
}

async function settle(): Promise<any> {
  const r = await api.call('POST', '/v1/settlement/run', { key: api.operatorKey, body: {} });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body.bonuses.failures).toEqual([]);
  return r.body;
}

beforeAll(async () => {
  api = await startTestApi({ SETTLE_INTERVAL_MS: '86400000' });
  brand = await createBrand(api, 'Bonus brand');
  ada = await createCreator(api, 'ada@creators.example');
});
afterAll(async () => {
  await api?.close();
});

describe('per-enrolment targets', () => {
  let c: Launched;
  beforeAll(async () => {
    c = await launchCampaign(api, brand, ada, {
      objective: 'cpl',
      rate: '10.00',
      budget: '500.00',
      hold_days: 1,
      kpi_target: 0,
      incentives: { period: 'campaign', target: 10, tiers: [{ threshold: { percent_of_target: 100 }, bonus: { bps: 1000 } }] },
    });
  });

  it('the brand sets a creator their own target; the creator is measured against it', async () => {
    const before = await api.call('GET', `/v1/me/campaigns/${c.id}/progress`, { key: ada.key });
    expect(before.body).toMatchObject({ target: 10, next_tier: { threshold: 10 } });
    const set = await api.call('PATCH', `/v1/campaigns/${c.id}/enrolments/${c.enrolmentId}`, { key: brand.key, body: { target: 2 } });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({ id: c.enrolmentId, target: 2 });
    await lead(c, ada);
    await lead(c, ada);
    await advanceClock(api.database.db, DAY + 1);
    await settle();
    const after = await api.call('GET', `/v1/me/campaigns/${c.id}/progress`, { key: ada.key });
    expect(after.body).toMatchObject({ target: 2, validated_results: 2, tier: 0, percent_of_target: 100, bonus_if_closed_now: { amount: '2.00' } });
    const listed = await api.call('GET', `/v1/campaigns/${c.id}/enrolments`, { key: ada.key });
    expect(listed.body.data[0].target).toBe(2);
  });

  it('clears it with null, and refuses others and bad targets', async () => {
    const cleared = await api.call('PATCH', `/v1/campaigns/${c.id}/enrolments/${c.enrolmentId}`, { key: brand.key, body: { target: null } });
    expect(cleared.body.target).toBeNull();
    expect((await api.call('GET', `/v1/me/campaigns/${c.id}/progress`, { key: ada.key })).body).toMatchObject({ target: 10, tier: null });
    const other = await createBrand(api, 'Other brand');
    expectError(await api.call('PATCH', `/v1/campaigns/${c.id}/enrolments/${c.enrolmentId}`, { key: other.key, body: { target: 3 } }), 404, 'not_found');
    expectError(await api.call('PATCH', `/v1/campaigns/${c.id}/enrolments/enr_nope`, { key: brand.key, body: { target: 3 } }), 404, 'not_found');
    expectError(await api.call('PATCH', `/v1/campaigns/${c.id}/enrolments/${c.enrolmentId}`, { key: ada.key, body: { target: 3 } }), 403, 'forbidden');
    expectError(await api.call('PATCH', `/v1/campaigns/${c.id}/enrolments/${c.enrolmentId}`, { key: brand.key, body: { target: 0 } }), 400, 'invalid_request', 'target');
  });
});

describe('maximum bonus exposure', () => {
  it('bps tiers: the top tier of the budget', async () => {
    const c = await launchCampaign(api, brand, ada, {
      objective: 'cpl',
      rate: '10.00',
      budget: '500.00',
      incentives: { tiers: [{ threshold: { results: 5 }, bonus: { bps: 1000 } }, { threshold: { results: 9 }, bonus: { bps: 2000 } }] },
    });
    const view = await api.call('GET', `/v1/campaigns/${c.id}`, { key: brand.key });
    expect(view.body.bonus_exposure).toMatchObject({ amount: { amount: '100.00', currency: 'USD' }, basis: 'bps_of_budget', top_bps: 2000 });
  });

  it('fixed tiers: the top bonus per creator per period, shown when funding', async () => {
    const terms = {
      objective: 'cpl',
      rate: '10.00',
      currency: 'USD',
      budget: '500.00',
      destination_url: 'https://shop.example/',
      starts_at: '2026-01-01T00:00:00Z',
      ends_at: '2030-01-01T00:00:00Z',
      kpi_target: 0,
      incentives: { period: 'month', tiers: [{ threshold: { results: 5 }, bonus: { fixed: '5.00' } }, { threshold: { results: 9 }, bonus: { fixed: '10.00' } }] },
    };
    const created = await api.call('POST', '/v1/campaigns', { key: brand.key, body: { name: 'fixed', terms } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.bonus_exposure).toMatchObject({ amount: { amount: '0.00' }, creators: 0, periods: 48 });
    await api.call('POST', '/v1/deposits', { key: brand.key, body: { amount: '500.00', currency: 'USD', reference: 'exposure' } });
    const funded = await api.call('POST', `/v1/campaigns/${created.body.id}/fund`, { key: brand.key, body: { reference: 'exposure' } });
    expect(funded.status, JSON.stringify(funded.body)).toBe(200);
    expect(funded.body.bonus_exposure).toMatchObject({ basis: 'fixed_per_creator_period', top_fixed: { amount: '10.00' }, periods: 48 });
    await api.call('POST', `/v1/campaigns/${created.body.id}/activate`, { key: brand.key, body: {} });
    for (const email of ['one@creators.example', 'two@creators.example']) {
      const creator = await createCreator(api, email);
      const joined = await api.call('POST', `/v1/campaigns/${created.body.id}/enrolments`, {
        key: creator.key,
        body: { terms_version: created.body.terms_version, terms_sha256: created.body.terms_sha256 },
      });
      expect(joined.status).toBe(201);
    }
    const view = await api.call('GET', `/v1/campaigns/${created.body.id}`, { key: brand.key });
    // 10.00 × 2 creators × 48 months
    expect(view.body.bonus_exposure).toMatchObject({ amount: { amount: '960.00' }, creators: 2, periods: 48 });
  });
});

describe('a bonus the escrow cannot cover', () => {
  let c: Launched;
  let bea: Party;
  beforeAll(async () => {
    bea = await createCreator(api, 'bea@creators.example');
    // 5 leads at 10.00 take the whole 50.00 budget; 5 results in a week earn a fixed 10.00 (fee 20 %)
    c = await launchCampaign(api, brand, bea, {
      objective: 'cpl',
      rate: '10.00',
      budget: '50.00',
      hold_days: 1,
      kpi_target: 0,
      fee_bps: 2000,
      incentives: { period: 'week', tiers: [{ threshold: { results: 5 }, bonus: { fixed: '10.00' } }] },
    });
    for (let i = 0; i < 5; i++) await lead(c, bea);
  });

  it('records the shortfall and shows it to the brand and the creator', async () => {
    await advanceClock(api.database.db, 8 * DAY);
    await settle();
    const brandView = await api.call('GET', `/v1/campaigns/${c.id}/bonuses`, { key: brand.key });
    expect(brandView.status, JSON.stringify(brandView.body)).toBe(200);
    expect(brandView.body.data).toMatchObject([
      { enrolment_id: c.enrolmentId, status: 'released', tier: 0, counted_results: 5, bonus_due: { amount: '10.00' }, paid_net: { amount: '0.00' }, shortfall: { amount: '10.00' } },
    ]);
    const mine = await api.call('GET', `/v1/me/campaigns/${c.id}/bonuses`, { key: bea.key });
    expect(mine.body.data).toEqual(brandView.body.data);
    expectError(await api.call('GET', `/v1/me/campaigns/${c.id}/bonuses`, { key: ada.key }), 404, 'not_found');
    expectError(await api.call('GET', `/v1/campaigns/${c.id}/bonuses`, { key: (await createBrand(api, 'Stranger')).key }), 404, 'not_found');
    const statement = await api.call('GET', `/v1/campaigns/${c.id}/statement`, { key: brand.key });
    expect(statement.body).toMatchObject({ bonuses: { shortfall: { amount: '10.00' }, paid: { amount: '0.00' } }, reconciles: true });
  });

  it('pays what a top-up covers, then the rest', async () => {
    expect((await api.call('POST', '/v1/deposits', { key: brand.key, body: { amount: '20.00', currency: 'USD', reference: 'top-up' } })).status).toBe(201);
    const topUp = await api.call('POST', `/v1/campaigns/${c.id}/fund`, { key: brand.key, body: { amount: '6.00', reference: 'top-up-1' } });
    expect(topUp.status, JSON.stringify(topUp.body)).toBe(200);
    await settle();
    let mine = await api.call('GET', `/v1/me/campaigns/${c.id}/bonuses`, { key: bea.key });
    // 6.00 of the 10.00: net 4.80, fee 1.20
    expect(mine.body.data).toMatchObject([{ paid_net: { amount: '4.80' }, fees: { amount: '1.20' }, shortfall: { amount: '4.00' } }]);
    await api.call('POST', `/v1/campaigns/${c.id}/fund`, { key: brand.key, body: { amount: '10.00', reference: 'top-up-2' } });
    await settle();
    mine = await api.call('GET', `/v1/me/campaigns/${c.id}/bonuses`, { key: bea.key });
    // the whole 10.00 now: net 8.00, fee 2.00 — the fee on the total
    expect(mine.body.data).toMatchObject([{ paid_net: { amount: '8.00' }, fees: { amount: '2.00' }, kept_net: { amount: '8.00' }, shortfall: { amount: '0.00' } }]);
    const statement = await api.call('GET', `/v1/campaigns/${c.id}/statement`, { key: brand.key });
    expect(statement.body).toMatchObject({
      funded: { amount: '66.00' },
      bonuses: { paid: { amount: '8.00' }, fees: { amount: '2.00' }, shortfall: { amount: '0.00' } },
      escrow: { available: { amount: '6.00' } },
      reconciles: true,
    });
    const balance = await api.call('GET', '/v1/me/balance', { key: bea.key });
    // 5 results (net 8.00 each) and the bonus net
    expect(balance.body.data).toMatchObject([{ currency: 'USD', available: { amount: '48.00' }, pending: { amount: '0.00' } }]);
  });
});

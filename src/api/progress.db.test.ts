import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceClock } from '../db/index.js';
import { createBrand, createCreator, expectError, insertClick, type Launched, launchCampaign, type Party } from '../../test/support/conversions.js';
import { startTestApi, type TestApi } from '../../test/support/api.js';

/**
 * Incentives in the campaign terms (validated, canonical, part of what a creator accepts) and the
 * creator's progress in the current period: validated results only, the tier reached and the next.
 */
const DAY = 86_400;
let api: TestApi;
let brand: Party;
let ada: Party;
let campaign: Launched;
let seq = 0;

const incentives = {
  period: 'campaign',
  target: 4,
  tiers: [
    { threshold: { percent_of_target: 120 }, bonus: { bps: 1000 } }, // 5 results
    { threshold: { percent_of_target: 150 }, bonus: { bps: 2000 } }, // 6 results
  ],
  caps: { amount_per_period: '100.00' },
};

async function lead(): Promise<string> {
  const click = await insertClick(api, campaign, ada, { at: new Date(Date.now() - 3_600_000) });
  const n = ++seq;
  const r = await api.call('POST', '/v1/conversions', {
    key: brand.key,
    body: { external_id: `inc-${n}`, type: 'lead', click_id: click.id, customer: { id: `c-${n}`, email: `person.${n}@shop.example` } },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.result.id;
}

beforeAll(async () => {
  api = await startTestApi({ SETTLE_INTERVAL_MS: '86400000' });
  brand = await createBrand(api, 'Bonus brand');
  ada = await createCreator(api, 'ada@creators.example');
  campaign = await launchCampaign(api, brand, ada, { objective: 'cpl', rate: '10.00', budget: '500.00', hold_days: 7, kpi_target: 0, incentives });
});
afterAll(async () => {
  await api?.close();
});

describe('incentives in the terms', () => {
  it('are stored in their canonical form with the terms the creator accepts', async () => {
    const c = await api.call('GET', `/v1/campaigns/${campaign.id}`, { key: ada.key });
    expect(c.body.terms.incentives).toMatchObject({
      period: 'campaign',
      time_zone: 'UTC',
      target: 4,
      tiers: [{ threshold: { percent_of_target: 120 } }, { threshold: { percent_of_target: 150 } }],
      caps: { amount_per_period: '100.00' },
    });
  });

  it('refuse amounts the currency cannot hold and thresholds that do not increase, naming the field', async () => {
    const base = { objective: 'cpl', rate: '1.00', currency: 'USD', budget: '10.00', destination_url: 'https://shop.example/', starts_at: '2026-01-01T00:00:00Z', ends_at: '2030-01-01T00:00:00Z', kpi_target: 1 };
    const inexact = await api.call('POST', '/v1/campaigns', { key: brand.key, body: { name: 'x', terms: { ...base, incentives: { tiers: [{ threshold: { results: 5 }, bonus: { fixed: '1.005' } }] } } } });
    expectError(inexact, 400, 'inexact_amount', 'incentives.tiers.0.bonus.fixed');
    const flat = await api.call('POST', '/v1/campaigns', {
      key: brand.key,
      body: { name: 'x', terms: { ...base, incentives: { tiers: [{ threshold: { results: 5 }, bonus: { bps: 100 } }, { threshold: { results: 5 }, bonus: { bps: 200 } }] } } },
    });
    expect(flat.status).toBe(400);
    expect(flat.body.error.code).toBe('invalid_request');
  });
});

describe('GET /v1/me/campaigns/{id}/progress', () => {
  it('counts validated results only, shows the next tier, and the bonus the period would pay now', async () => {
    for (let i = 0; i < 5; i++) await lead();
    const held = await api.call('GET', `/v1/me/campaigns/${campaign.id}/progress`, { key: ada.key });
    expect(held.status, JSON.stringify(held.body)).toBe(200);
    expect(held.body).toMatchObject({ validated_results: 0, held_results: 5, tier: null, next_tier: { index: 0, threshold: 5, remaining: 5 } });
    await advanceClock(api.database.db, 8 * DAY);
    expect((await api.call('POST', '/v1/settlement/run', { key: api.operatorKey, body: {} })).body.approved).toBe(5);
    const paid = await api.call('GET', `/v1/me/campaigns/${campaign.id}/progress`, { key: ada.key });
    expect(paid.body).toMatchObject({
      period: { key: 'campaign' },
      validated_results: 5,
      held_results: 0,
      base_earnings: { amount: '50.00', currency: 'USD' },
      tier: 0,
      next_tier: { index: 1, threshold: 6, remaining: 1 },
      percent_of_target: 125,
      bonus_if_closed_now: { amount: '5.00', currency: 'USD' },
    });
  });

  it('is for creators who joined; others get 404, brands 403', async () => {
    const bob = await createCreator(api, 'bob@creators.example');
    expectError(await api.call('GET', `/v1/me/campaigns/${campaign.id}/progress`, { key: bob.key }), 404, 'not_found');
    expectError(await api.call('GET', `/v1/me/campaigns/${campaign.id}/progress`, { key: brand.key }), 403, 'forbidden');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceClock, databaseNow } from '../db/index.js';
import { checkLedger } from '../ledger/index.js';
import { createBrand, createCreator, insertClick, type Launched, launchCampaign, type Party } from '../../test/support/conversions.js';
import { startTestApi, type TestApi } from '../../test/support/api.js';

/**
 * The release re-check compares a creator's conversion rate with the campaign's other creators',
 * whose traffic it takes as counts (the campaign baseline): a creator whose clicks almost never
 * convert while the others' do has their due results held for review, not paid; the others are paid.
 */
const DAY = 86_400;
let api: TestApi;
let brand: Party;
let good: Party;
let low: Party;
let campaign: Launched;
let lowEnrolment: Launched;
let seq = 0;

async function convertedLeads(c: Launched, creator: Party, clicks: number, conversions: number): Promise<string[]> {
  const now = await databaseNow(api.database.db);
  const results: string[] = [];
  for (let i = 0; i < clicks; i++) {
    // Clicks spread over the last day; the first `conversions` of them convert 5 minutes later, 3 minutes apart.
    const at = new Date(now.getTime() - (i + 1) * 20 * 60_000);
    const click = await insertClick(api, c, creator, { at });
    if (i >= conversions) continue;
    const n = ++seq;
    const r = await api.call('POST', '/v1/conversions', {
      key: brand.key,
      body: {
        external_id: `rate-${n}`,
        type: 'lead',
        click_id: click.id,
        occurred_at: new Date(at.getTime() + 5 * 60_000).toISOString(),
        customer: { id: `rate-customer-${n}`, email: `person.${n}@shop.example` },
      },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.result.status, JSON.stringify(r.body.result)).toBe('pending');
    results.push(r.body.result.id);
  }
  return results;
}

beforeAll(async () => {
  api = await startTestApi({ SETTLE_INTERVAL_MS: '86400000' });
  brand = await createBrand(api, 'Rates');
  good = await createCreator(api, 'good@creators.example');
  low = await createCreator(api, 'low@creators.example');
  campaign = await launchCampaign(api, brand, good, { objective: 'cpl', rate: '1.00', budget: '500.00', hold_days: 7, kpi_target: 0 });
  const current = (await api.call('GET', `/v1/campaigns/${campaign.id}`, { key: brand.key })).body;
  const joined = await api.call('POST', `/v1/campaigns/${campaign.id}/enrolments`, {
    key: low.key,
    body: { terms_version: current.terms_version, terms_sha256: current.terms_sha256 },
  });
  expect(joined.status, JSON.stringify(joined.body)).toBe(201);
  lowEnrolment = { id: campaign.id, enrolmentId: joined.body.id, promoCode: joined.body.promo_code };
});

afterAll(async () => {
  await api?.close();
});

describe('the conversion-rate comparison at release', () => {
  it("holds for review the results of a creator converting far below the campaign's other creators, and pays the others", async () => {
    const goodResults = await convertedLeads(campaign, good, 90, 36); // 40 %
    const lowResults = await convertedLeads(lowEnrolment, low, 150, 2); // 1.3 %, where 60 were expected
    await advanceClock(api.database.db, 8 * DAY);
    const run = await api.call('POST', '/v1/settlement/run', { key: api.operatorKey, body: {} });
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    expect(run.body).toMatchObject({ approved: 36, reviewed: 2 });
    for (const id of lowResults) {
      const r = await api.call('GET', `/v1/results/${id}`, { key: api.operatorKey });
      expect(r.body.status).toBe('review');
      expect(r.body.reasons).toContain('conversion_rate_low');
    }
    const paid = await api.call('GET', `/v1/results/${goodResults[0]}`, { key: api.operatorKey });
    expect(paid.body.status).toBe('approved');
    expect((await checkLedger(api.database.db)).mismatches).toBe(0);
  });
});

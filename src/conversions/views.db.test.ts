import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger } from '../ledger/index.js';
import { CREATOR_EMAIL, createBrand, createCreator, escrowHeld, expectError, type Launched, launchCampaign, type Party } from '../../test/support/conversions.js';
import { startTestApi, type TestApi } from '../../test/support/api.js';

/** Verified views (CPM) over real HTTP: report, confirm (idempotent, held), reject — on both engines. */
let api: TestApi;
let brand: Party;
let otherBrand: Party;
let creator: Party;
let outsider: Party;
let cpm: Launched;
let cpl: Launched;

beforeAll(async () => {
  api = await startTestApi();
  brand = await createBrand(api, 'Acme');
  otherBrand = await createBrand(api, 'Other');
  creator = await createCreator(api, CREATOR_EMAIL);
  outsider = await createCreator(api, 'eve@creators.example');
  cpm = await launchCampaign(api, brand, creator, { objective: 'cpm', rate: '2.50', budget: '100.00' });
  cpl = await launchCampaign(api, brand, creator, { objective: 'cpl', rate: '2.50', budget: '100.00' });
});

afterAll(async () => {
  await api?.close();
});

function report(views: number, key = creator.key, campaignId = cpm.id) {
  return api.call('POST', '/v1/views', { key, body: { campaign_id: campaignId, views, evidence_url: 'https://social.example/p/123' } });
}

describe('view reports', () => {
  it('are submitted by an enrolled creator, holding nothing yet', async () => {
    const r = await report(1002);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ campaign_id: cpm.id, views: 1002, status: 'submitted', result_id: null, evidence_url: 'https://social.example/p/123' });
    expect(r.body.id).toMatch(/^vr_/);
    expect(await escrowHeld(api, brand, cpm.id)).toBe('0.00');
  });

  it.each([
    [1002, '2.50'], // 2.505 → 250.5 cents → 250 (half to even)
    [1006, '2.52'], // 251.5 → 252
    [1000, '2.50'],
    [1, '0.00'], // 0.25 cents → 0: nothing to pay, rejected as no_payout
  ])('are confirmed by the brand: %i views pay %s at 2.50 per 1,000', async (views, payout) => {
    const before = Number(await escrowHeld(api, brand, cpm.id));
    const r = await report(views);
    const confirmed = await api.call('POST', `/v1/views/${r.body.id}/confirm`, { key: brand.key });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    expect(confirmed.body).toMatchObject({ id: r.body.id, status: 'confirmed', result: { kind: 'views', source_id: r.body.id, payout: { amount: payout } } });
    expect(confirmed.body.result_id).toBe(confirmed.body.result.id);
    const held = payout === '0.00' ? 0 : Number(payout);
    expect(confirmed.body.result.status).toBe(held > 0 ? 'pending' : 'rejected');
    expect(Number(await escrowHeld(api, brand, cpm.id))).toBeCloseTo(before + held, 10);
  });

  it('answer a second confirmation with the same result and hold nothing more', async () => {
    const r = await report(4000);
    const first = await api.call('POST', `/v1/views/${r.body.id}/confirm`, { key: brand.key });
    const held = await escrowHeld(api, brand, cpm.id);
    const again = await api.call('POST', `/v1/views/${r.body.id}/confirm`, { key: brand.key });
    expect(again.status).toBe(200);
    expect(again.body.result).toEqual(first.body.result);
    expect(await escrowHeld(api, brand, cpm.id)).toBe(held);
    expectError(await api.call('POST', `/v1/views/${r.body.id}/reject`, { key: brand.key, body: { reason: 'fake' } }), 409, 'invalid_state');
  });

  it('confirm once under concurrent confirmations', async () => {
    const r = await report(8000);
    const before = Number(await escrowHeld(api, brand, cpm.id));
    const answers = await Promise.all(Array.from({ length: 10 }, () => api.call('POST', `/v1/views/${r.body.id}/confirm`, { key: brand.key })));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(new Set(answers.map((a) => a.body.result.id)).size).toBe(1);
    expect(Number(await escrowHeld(api, brand, cpm.id))).toBeCloseTo(before + 20, 10);
  });

  it('are rejected with a reason code, holding nothing; then cannot be confirmed', async () => {
    const r = await report(5000);
    const held = await escrowHeld(api, brand, cpm.id);
    const rejected = await api.call('POST', `/v1/views/${r.body.id}/reject`, { key: brand.key, body: { reason: 'evidence_unclear', note: 'the screenshot is cropped' } });
    expect(rejected.status, JSON.stringify(rejected.body)).toBe(200);
    expect(rejected.body).toMatchObject({ status: 'rejected', decision_reason: 'evidence_unclear', decision_note: 'the screenshot is cropped', result_id: null });
    expect(await escrowHeld(api, brand, cpm.id)).toBe(held);
    const again = await api.call('POST', `/v1/views/${r.body.id}/reject`, { key: brand.key, body: { reason: 'evidence_unclear' } });
    expect(again.body).toEqual(rejected.body);
    expectError(await api.call('POST', `/v1/views/${r.body.id}/confirm`, { key: brand.key }), 409, 'invalid_state');
    expectError(await api.call('POST', `/v1/views/${r.body.id}/reject`, { key: brand.key, body: { reason: 'Not a code!' } }), 400, 'invalid_request');
  });

  it('are listed for the creator (own) and the brand (its campaigns’), and hidden from others', async () => {
    const mine = await api.call('GET', '/v1/views?limit=100', { key: creator.key });
    const brands = await api.call('GET', `/v1/views?campaign_id=${cpm.id}&limit=100`, { key: brand.key });
    expect(mine.body.data.length).toBeGreaterThan(5);
    expect(brands.body.data.map((v: { id: string }) => v.id)).toEqual(mine.body.data.map((v: { id: string }) => v.id));
    const submitted = await api.call('GET', '/v1/views?status=rejected', { key: brand.key });
    expect(submitted.body.data.every((v: { status: string }) => v.status === 'rejected')).toBe(true);
    expect((await api.call('GET', '/v1/views', { key: otherBrand.key })).body.data).toEqual([]);
    expect((await api.call('GET', '/v1/views', { key: outsider.key })).body.data).toEqual([]);
    const one = mine.body.data[0].id;
    expectError(await api.call('GET', `/v1/views/${one}`, { key: otherBrand.key }), 404, 'not_found');
    expectError(await api.call('POST', `/v1/views/${one}/confirm`, { key: otherBrand.key }), 404, 'not_found');
    expectError(await api.call('POST', `/v1/views/${one}/reject`, { key: otherBrand.key, body: { reason: 'nope' } }), 404, 'not_found');
    expect((await api.call('GET', `/v1/views/${one}`, { key: brand.key })).status).toBe(200);
  });
});

describe('refusals', () => {
  it('take view reports only on cpm campaigns (409 invalid_state)', async () => {
    expectError(await report(1000, creator.key, cpl.id), 409, 'invalid_state');
  });

  it('take them only from enrolled creators', async () => {
    expectError(await report(1000, outsider.key), 403, 'forbidden');
    expectError(await report(1000, creator.key, 'cmp_unknown'), 404, 'not_found');
    expectError(await report(1000, brand.key), 403, 'forbidden');
  });

  it.each([
    [{ views: 0 }],
    [{ views: -5 }],
    [{ views: 1.5 }],
    [{ views: '1000' }],
    [{ evidence_url: 'http://social.example/p/1' }],
    [{ evidence_url: 'javascript:alert(1)' }],
    [{ evidence_url: 'not a url' }],
    [{ extra: true }],
    [{ campaign_id: undefined }],
  ])('refuse bad bodies %o with 400', async (change) => {
    const body = { campaign_id: cpm.id, views: 1000, evidence_url: 'https://social.example/p/1', ...change };
    expectError(await api.call('POST', '/v1/views', { key: creator.key, body }), 400, 'invalid_request');
  });

  it('let only the brand decide', async () => {
    const r = await report(1000);
    expectError(await api.call('POST', `/v1/views/${r.body.id}/confirm`, { key: creator.key }), 403, 'forbidden');
    expectError(await api.call('POST', '/v1/views/vr_unknown/confirm', { key: brand.key }), 404, 'not_found');
  });
});

describe('the ledger', () => {
  it('is clean after everything above', async () => {
    const check = await checkLedger(api.database.db);
    expect(check.problems).toEqual([]);
    expect(check.mismatches).toBe(0);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBrand, createCreator, launchCampaign, type Party } from '../../test/support/conversions.js';
import { startTestApi, type TestApi } from '../../test/support/api.js';

/**
 * What reaches the database cannot fail there: strings, times and shapes a client sends are checked
 * at the edge, once, and refused with a coded 400 naming the field — on both engines (PostgreSQL
 * refuses NUL in text, lone surrogates in json and years it cannot store; PGlite is PostgreSQL).
 */
let api: TestApi;
let brand: Party;
let creator: Party;
let campaignId: string;

beforeAll(async () => {
  api = await startTestApi();
  brand = await createBrand(api, 'Edge Brand');
  creator = await createCreator(api, 'edge@creators.example');
  campaignId = (await launchCampaign(api, brand, creator, { objective: 'cpl', rate: '2.00', budget: '100.00' })).id;
});
afterAll(() => api?.close());

function lead(overrides: Record<string, unknown> = {}, customer: Record<string, unknown> = {}) {
  return { external_id: `e-${Math.random().toString(36).slice(2)}`, type: 'lead', customer: { id: 'u1', ...customer }, ...overrides };
}

function expectRefused(r: { status: number; body: any }, field?: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(400);
  expect(r.body.error.code).toBe('invalid_request');
  expect(typeof r.body.error.message).toBe('string');
  if (field !== undefined) expect(r.body.error.field).toBe(field);
}

describe('strings at the edge', () => {
  it.each([
    ['NUL in a customer id', lead({}, { id: 'u\u0000x' }), 'customer.id'],
    ['a lone surrogate pair reversed in a promo code', lead({ promo_code: '\udfff\ud800' }), 'promo_code'],
    ['a lone high surrogate in an external id', lead({ external_id: 'a\ud800' }), 'external_id'],
    ['an escape character in the user agent', lead({}, { user_agent: 'Mozilla\u001b[31m' }), 'customer.user_agent'],
    ['a NUL in a field name', { ...lead(), 'x\u0000': 1 }, 'body'],
  ])('refuses %s, naming the field', async (_name, body, field) => {
    expectRefused(await api.call('POST', '/v1/conversions', { key: brand.key, body }), field);
  });

  it('refuses NUL in names, references and terms, never a 500', async () => {
    expectRefused(await api.call('POST', '/v1/organizations', { key: api.operatorKey, body: { name: 'Bad\u0000Name' } }), 'name');
    expectRefused(await api.call('POST', '/v1/deposits', { key: brand.key, body: { amount: '1.00', currency: 'USD', reference: 'r\u0000' } }), 'reference');
    const terms = { objective: 'cpl', rate: '1.00', budget: '10.00', currency: 'USD', destination_url: 'https://x.example/\u0000', starts_at: '2026-01-01T00:00:00Z', ends_at: '2027-01-01T00:00:00Z', kpi_target: 1 };
    expectRefused(await api.call('POST', '/v1/campaigns', { key: brand.key, body: { name: 'n', terms } }), 'terms.destination_url');
  });

  it('refuses a body that is not UTF-8 rather than rewriting it to U+FFFD', async () => {
    const bytes = Buffer.concat([Buffer.from('{"name":"Caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
    const r = await fetch(`${api.url}/v1/organizations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.operatorKey}`, 'content-type': 'application/json' },
      body: bytes,
    });
    const body = (await r.json()) as any;
    expect(r.status).toBe(400);
    expect(body.error).toMatchObject({ code: 'invalid_request', field: 'body' });
  });

  it('takes emoji, accents and line breaks as they are', async () => {
    const r = await api.call('POST', '/v1/organizations', { key: api.operatorKey, body: { name: 'Zoë’s Café 😀\nBerlin' } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(JSON.stringify(r.body)).toContain('Zoë’s Café 😀\\nBerlin');
  });

  it('refuses NUL and malformed escapes in path and query, and repeated query names', async () => {
    expectRefused(await api.call('GET', '/v1/campaigns/cmp_%00', { key: brand.key }), 'id');
    expectRefused(await api.call('GET', '/v1/conversions?campaign_id=%00', { key: brand.key }), 'campaign_id');
    expectRefused(await api.call('GET', '/v1/conversions?campaign_id=%FF', { key: brand.key }), 'campaign_id');
    expectRefused(await api.call('GET', '/v1/conversions?limit=1&limit=2', { key: brand.key }), 'limit');
    expectRefused(await api.call('GET', '/v1/wallet?x=1', { key: brand.key }));
  });

  it('refuses deep nesting', async () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 40; i++) deep = { a: deep };
    expectRefused(await api.call('POST', '/v1/conversions', { key: brand.key, body: lead({ sku: deep }) }));
  });
});

describe('times at the edge', () => {
  it.each(['0000-01-01T00:00:00Z', '1970-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2026-02-30T00:00:00Z', '2026-12-04T12:00:00'])(
    'refuses occurred_at %s with invalid_request naming it',
    async (occurredAt) => {
      expectRefused(await api.call('POST', '/v1/conversions', { key: brand.key, body: lead({ occurred_at: occurredAt }) }), 'occurred_at');
    },
  );

  it('refuses terms whose dates PostgreSQL cannot store', async () => {
    const terms = { objective: 'cpl', rate: '1.00', budget: '10.00', currency: 'USD', destination_url: 'https://x.example/', starts_at: '0000-01-01T00:00:00Z', ends_at: '2027-01-01T00:00:00Z', kpi_target: 1 };
    expectRefused(await api.call('POST', '/v1/campaigns', { key: brand.key, body: { name: 'n', terms } }), 'terms.starts_at');
  });
});

describe('bodies where none is taken', () => {
  it('accepts none, an empty body or {}, and refuses anything else', async () => {
    const path = '/v1/views/vr_nothing/confirm';
    for (const body of [undefined, '', '{}']) {
      const r = await api.call('POST', path, { key: brand.key, ...(body === undefined ? {} : { body }) });
      expect(r.status, `body ${JSON.stringify(body)}`).toBe(404);
    }
    for (const body of ['{"surprise":true}', '[]', 'null', '"text"']) expectRefused(await api.call('POST', path, { key: brand.key, body }), 'body');
  });
});

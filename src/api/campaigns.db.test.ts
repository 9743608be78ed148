import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiResponse, startTestApi, type TestApi } from '../../test/support/api.js';

/** Brands, creators, keys, wallets and campaigns over real HTTP, with every refusal coded. */
let api: TestApi;
let brand: string;
let otherBrand: string;
let creator: string;
let campaignId: string;

const terms = {
  objective: 'cpl',
  rate: '2.50',
  currency: 'USD',
  budget: '100.00',
  destination_url: 'https://shop.example/landing?utm_source=earnest',
  starts_at: '2026-01-01T00:00:00Z',
  ends_at: '2030-01-01T00:00:00Z',
  kpi_target: 10,
  hold_days: 14,
  fee_bps: 2000,
};

function expectError(r: ApiResponse, status: number, code: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body.error.code).toBe(code);
  expect(typeof r.body.error.message).toBe('string');
}

beforeAll(async () => {
  api = await startTestApi();
  const org = await api.call('POST', '/v1/organizations', { key: api.operatorKey, body: { name: 'Acme Shoes' } });
  expect(org.status).toBe(201);
  brand = org.body.api_key;
  otherBrand = (await api.call('POST', '/v1/organizations', { key: api.operatorKey, body: { name: 'Other' } })).body.api_key;
  const cr = await api.call('POST', '/v1/creators', { key: api.operatorKey, body: { name: 'Ada', email: 'ada@creators.example' } });
  expect(cr.status).toBe(201);
  creator = cr.body.api_key;
});

afterAll(async () => {
  await api?.close();
});

describe('keys', () => {
  it('are prefixed and scoped: a key for one kind of owner cannot use another kind’s endpoints', async () => {
    expect(brand).toMatch(/^ek_[0-9a-z]{26}_[0-9a-z]{43}$/);
    expectError(await api.call('POST', '/v1/organizations', { key: brand, body: { name: 'x' } }), 403, 'forbidden');
    expectError(await api.call('GET', '/v1/organizations'), 401, 'unauthorized');
    expectError(await api.call('GET', '/v1/me', { key: `${brand.slice(0, -1)}${brand.endsWith('x') ? 'y' : 'x'}` }), 401, 'unauthorized');
    expectError(await api.call('GET', '/v1/me', { key: 'ek_nonsense' }), 401, 'unauthorized');
    expect((await api.call('GET', '/v1/me', { key: creator })).body.kind).toBe('creator');
  });
});

describe('creates answer the object itself', () => {
  const KEY = /^ek_[0-9a-z]{26}_[0-9a-z]{43}$/;
  const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

  it('an organization, with its first API key embedded as api_key', async () => {
    const r = await api.call('POST', '/v1/organizations', { key: api.operatorKey, body: { name: 'Shape Co.' } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(Object.keys(r.body).sort()).toEqual(['api_key', 'created_at', 'id', 'name']);
    expect(r.body).toMatchObject({ id: expect.stringMatching(/^org_/), name: 'Shape Co.', created_at: expect.stringMatching(TIME), api_key: expect.stringMatching(KEY) });
    const { api_key: _key, ...organization } = r.body;
    expect((await api.call('GET', `/v1/organizations/${r.body.id}`, { key: r.body.api_key })).body).toEqual(organization);
  });

  it('a creator, with their first API key embedded as api_key', async () => {
    const r = await api.call('POST', '/v1/creators', { key: api.operatorKey, body: { name: 'Cai', email: 'cai@shape.example' } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(Object.keys(r.body).sort()).toEqual(['api_key', 'created_at', 'email', 'id', 'name', 'phone']);
    expect(r.body).toMatchObject({ id: expect.stringMatching(/^cr_/), name: 'Cai', email: 'cai@shape.example', phone: null, api_key: expect.stringMatching(KEY) });
    const { api_key: _key, ...creator } = r.body;
    expect((await api.call('GET', '/v1/me', { key: r.body.api_key })).body).toEqual({ kind: 'creator', creator });
  });

  it('a key, with its owner, label and the secret as api_key', async () => {
    const org = (await api.call('POST', '/v1/organizations', { key: api.operatorKey, body: { name: 'Two keys' } })).body;
    const r = await api.call('POST', '/v1/keys', { key: api.operatorKey, body: { owner: { kind: 'organization', id: org.id }, label: 'ci' } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toEqual({
      id: expect.stringMatching(/^key_/),
      owner: { kind: 'organization', id: org.id },
      label: 'ci',
      created_at: expect.stringMatching(TIME),
      api_key: expect.stringMatching(KEY),
    });
    expect(r.body.api_key).not.toBe(org.api_key);
    expect(r.body.api_key.slice(3, 29)).toBe(r.body.id.slice(4));
    expect((await api.call('GET', '/v1/me', { key: r.body.api_key })).body).toMatchObject({ kind: 'organization', organization: { id: org.id } });
    const operator = await api.call('POST', '/v1/keys', { key: api.operatorKey, body: { owner: { kind: 'operator' } } });
    expect(operator.body).toMatchObject({ owner: { kind: 'operator' }, label: null });
  });

  it('a replay with the same Idempotency-Key answers the same object and the same key', async () => {
    const send = () =>
      api.call('POST', '/v1/organizations', { key: api.operatorKey, body: { name: 'Retry Co.' }, headers: { 'idempotency-key': 'org-retry-1' } });
    const first = await send();
    const again = await send();
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect((await api.call('GET', '/v1/me', { key: again.body.api_key })).body.organization.id).toBe(first.body.id);
    const named = (await api.call('GET', '/v1/organizations?limit=100', { key: api.operatorKey })).body.data.filter((o: { name: string }) => o.name === 'Retry Co.');
    expect(named).toHaveLength(1);
  });
});

describe('wallet', () => {
  it('takes a deposit through the provider, idempotent on the reference', async () => {
    const first = await api.call('POST', '/v1/deposits', { key: brand, body: { amount: '150.00', currency: 'USD', reference: 'inv-1' } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'succeeded', amount: '150.00', currency: 'USD' });
    const again = await api.call('POST', '/v1/deposits', { key: brand, body: { amount: '150.00', currency: 'USD', reference: 'inv-1' } });
    expect(again.body.id).toBe(first.body.id);
    const wallet = await api.call('GET', '/v1/wallet', { key: brand });
    expect(wallet.body.data).toEqual([{ balance: { amount: '150.00', currency: 'USD' }, held: { amount: '0.00', currency: 'USD' } }]);
  });

  it.each([
    [{ amount: '1.001', currency: 'USD', reference: 'a' }, 400, 'inexact_amount'],
    [{ amount: '-5', currency: 'USD', reference: 'b' }, 400, 'invalid_request'],
    [{ amount: '5', currency: 'usd', reference: 'c' }, 400, 'invalid_request'],
    [{ amount: 5, currency: 'USD', reference: 'd' }, 400, 'invalid_request'],
    [{ amount: '5', currency: 'USD', reference: 'e', extra: true }, 400, 'invalid_request'],
    [{ amount: '150.01', currency: 'USD', reference: 'inv-1' }, 409, 'idempotency_conflict'],
  ])('refuses %o with %i %s', async (body, status, code) => {
    expectError(await api.call('POST', '/v1/deposits', { key: brand, body }), status, code);
  });

  it('refuses bodies that are not JSON, too large, or of the wrong type', async () => {
    expectError(await api.call('POST', '/v1/deposits', { key: brand, body: '{"amount":' }), 400, 'invalid_request');
    expectError(
      await api.call('POST', '/v1/deposits', { key: brand, body: 'amount=5', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      415,
      'unsupported_media_type',
    );
    expectError(await api.call('POST', '/v1/deposits', { key: brand, body: { reference: 'x'.repeat(70_000) } }), 413, 'payload_too_large');
  });

  it('refuses a withdrawal beyond the balance', async () => {
    expectError(await api.call('POST', '/v1/withdrawals', { key: brand, body: { amount: '1000.00', currency: 'USD', reference: 'w1' } }), 409, 'insufficient_funds');
  });
});

describe('campaigns', () => {
  it('are created as drafts with versioned, hashed terms', async () => {
    const r = await api.call('POST', '/v1/campaigns', { key: brand, body: { name: 'Spring leads', terms } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ status: 'draft', currency: 'USD', terms_version: 1, terms: { rate: '2.50', budget: '100.00', hold_days: 14 } });
    expect(r.body.terms_sha256).toMatch(/^[0-9a-f]{64}$/);
    campaignId = r.body.id;
  });

  it.each([
    [{ ...terms, rate: '2.505' }, 'inexact_amount'],
    [{ ...terms, objective: 'cpa_percent' }, 'invalid_request'],
    [{ ...terms, ends_at: '2025-01-01T00:00:00Z' }, 'invalid_request'],
    [{ ...terms, destination_url: 'javascript:alert(1)' }, 'invalid_request'],
    [{ ...terms, fee_bps: 10_001 }, 'invalid_request'],
    [{ ...terms, surprise: 1 }, 'invalid_request'],
  ])('refuse bad terms %#', async (bad, code) => {
    expectError(await api.call('POST', '/v1/campaigns', { key: brand, body: { name: 'x', terms: bad } }), 400, code);
  });

  it('cannot be activated before funding, nor funded beyond the wallet', async () => {
    expectError(await api.call('POST', `/v1/campaigns/${campaignId}/activate`, { key: brand, body: {} }), 409, 'insufficient_funds');
    expectError(
      await api.call('POST', `/v1/campaigns/${campaignId}/fund`, { key: brand, body: { amount: '500.00', reference: 'f0' } }),
      409,
      'insufficient_funds',
    );
  });

  it('are funded from the wallet into escrow, then activated', async () => {
    const funded = await api.call('POST', `/v1/campaigns/${campaignId}/fund`, { key: brand, body: { reference: 'f1' } });
    expect(funded.status, JSON.stringify(funded.body)).toBe(200);
    expect(funded.body).toMatchObject({ status: 'funded', escrow: { funded: { amount: '100.00', currency: 'USD' }, available: { amount: '100.00' } } });
    const active = await api.call('POST', `/v1/campaigns/${campaignId}/activate`, { key: brand, body: {} });
    expect(active.body.status).toBe('active');
    const wallet = await api.call('GET', '/v1/wallet', { key: brand });
    expect(wallet.body.data[0].balance.amount).toBe('50.00');
  });

  it('refuse illegal transitions with invalid_state', async () => {
    expectError(await api.call('POST', `/v1/campaigns/${campaignId}/activate`, { key: brand, body: {} }), 409, 'invalid_state');
  });

  it("answer 404 for another tenant's campaign, exactly as for an unknown one", async () => {
    expectError(await api.call('GET', `/v1/campaigns/${campaignId}`, { key: otherBrand }), 404, 'not_found');
    expectError(await api.call('POST', `/v1/campaigns/${campaignId}/pause`, { key: otherBrand, body: {} }), 404, 'not_found');
    expectError(await api.call('GET', '/v1/campaigns/cmp_nope', { key: brand }), 404, 'not_found');
  });

  it('are joined by creators who accept the exact terms and get a link and a promo code', async () => {
    const seen = await api.call('GET', `/v1/campaigns/${campaignId}`, { key: creator });
    expect(seen.status).toBe(200);
    const wrong = await api.call('POST', `/v1/campaigns/${campaignId}/enrolments`, {
      key: creator,
      body: { terms_version: 1, terms_sha256: '0'.repeat(64) },
    });
    expectError(wrong, 409, 'conflict');
    const joined = await api.call('POST', `/v1/campaigns/${campaignId}/enrolments`, {
      key: creator,
      body: { terms_version: seen.body.terms_version, terms_sha256: seen.body.terms_sha256 },
    });
    expect(joined.status, JSON.stringify(joined.body)).toBe(201);
    expect(joined.body.link_code).toMatch(/^[a-z2-9]{8}$/);
    expect(joined.body.promo_code).toMatch(/^[A-Z2-9]{8}$/);
    // The link is whole, on the server's public URL (PUBLIC_URL; by default the address it listens on).
    expect(joined.body.tracking_url).toBe(`${api.url}/c/${joined.body.link_code}`);
    expect((await fetch(joined.body.tracking_url, { redirect: 'manual' })).status).toBe(302);
    const listed = await api.call('GET', `/v1/campaigns/${campaignId}/enrolments`, { key: brand });
    expect(listed.body.data[0].tracking_url).toBe(joined.body.tracking_url);
  });

  it('answer tracking links on PUBLIC_URL', async () => {
    const behindProxy = await startTestApi({ PUBLIC_URL: 'https://track.example.com/' });
    try {
      const org = await behindProxy.call('POST', '/v1/organizations', { key: behindProxy.operatorKey, body: { name: 'Proxied' } });
      const cr = await behindProxy.call('POST', '/v1/creators', { key: behindProxy.operatorKey, body: { name: 'Bo', email: 'bo@creators.example' } });
      const brandKey = org.body.api_key as string;
      await behindProxy.call('POST', '/v1/deposits', { key: brandKey, body: { amount: '10.00', currency: 'USD', reference: 'p1' } });
      const c = await behindProxy.call('POST', '/v1/campaigns', { key: brandKey, body: { name: 'proxied', terms: { ...terms, budget: '10.00' } } });
      expect(c.status, JSON.stringify(c.body)).toBe(201);
      expect((await behindProxy.call('POST', `/v1/campaigns/${c.body.id}/fund`, { key: brandKey, body: { reference: 'p1' } })).status).toBe(200);
      expect((await behindProxy.call('POST', `/v1/campaigns/${c.body.id}/activate`, { key: brandKey, body: {} })).status).toBe(200);
      const joined = await behindProxy.call('POST', `/v1/campaigns/${c.body.id}/enrolments`, {
        key: cr.body.api_key,
        body: { terms_version: c.body.terms_version, terms_sha256: c.body.terms_sha256 },
      });
      expect(joined.status, JSON.stringify(joined.body)).toBe(201);
      expect(joined.body.tracking_url).toBe(`https://track.example.com/c/${joined.body.link_code}`);
    } finally {
      await behindProxy.close();
    }
  }, 30_000);

  it('change terms only by a new version', async () => {
    const r = await api.call('PUT', `/v1/campaigns/${campaignId}/terms`, { key: brand, body: { ...terms, rate: '3.00' } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.terms_version).toBe(2);
    expectError(await api.call('PUT', `/v1/campaigns/${campaignId}/terms`, { key: brand, body: { ...terms, currency: 'EUR' } }), 400, 'invalid_request');
  });

  it('are described in the OpenAPI document', async () => {
    const doc = await api.call('GET', '/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    expect(doc.body.servers).toEqual([{ url: api.url, description: expect.any(String) }]);
    expect(Object.keys(doc.body.paths)).toContain('/v1/campaigns/{id}/fund');
    expect(doc.body.paths['/v1/campaigns'].post.requestBody.content['application/json'].schema.properties.terms).toBeDefined();
  });
});

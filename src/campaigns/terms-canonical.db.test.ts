import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAmount } from '../money/index.js';
import { baseTerms, createBrand, createCreator, type Party } from '../../test/support/conversions.js';
import { startTestApi, type TestApi } from '../../test/support/api.js';

/**
 * `terms_canonical` is the exact text `terms_sha256` covers (docs/api-conventions.md#terms-and-their-hash):
 * a creator recomputes the hash from what the API shows, and the text parses back to the terms shown.
 */
let api: TestApi;
let brand: Party;
let creator: Party;

beforeAll(async () => {
  api = await startTestApi();
  brand = await createBrand(api, 'Canonical shop');
  creator = await createCreator(api, 'cleo@creators.example');
  expect((await api.call('POST', '/v1/deposits', { key: brand.key, body: { amount: '1000.00', currency: 'USD', reference: 'float' } })).status).toBe(201);
});

afterAll(async () => {
  await api?.close();
});

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** An independent canonicaliser (RFC 8785 for JSON values): sorted keys at every level, no whitespace. */
function jcs(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(jcs).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${jcs((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The stored (hashed) form as people are shown it: minor-unit strings back to decimal amounts. */
function shown(canonical: string): Record<string, unknown> {
  const { rate_minor, budget_minor, ...rest } = JSON.parse(canonical);
  return { ...rest, rate: rate_minor === null ? null : formatAmount(BigInt(rate_minor), rest.currency), budget: formatAmount(BigInt(budget_minor), rest.currency) };
}

function expectVerifiable(view: { terms_sha256: string; terms_canonical: string }): void {
  expect(typeof view.terms_canonical).toBe('string');
  expect(sha256(view.terms_canonical)).toBe(view.terms_sha256);
  expect(jcs(JSON.parse(view.terms_canonical))).toBe(view.terms_canonical);
}

const terms = {
  ...baseTerms,
  objective: 'cpl',
  rate: '2.5',
  budget: '300',
  starts_at: '2026-01-01T00:00:00+02:00',
  destination_url: 'https://shop.example/landing?ref=crème&x="q"',
  validation: { min_ctit_seconds: 5, target_countries: ['US', 'DE'], age_min: 18, required_fields: ['email'], min_lead_score: 62.5 },
  incentives: { period: 'month', tiers: [{ threshold: { results: 5 }, bonus: { fixed: '5' } }] },
  attribution: { model: 'time_decay', half_life_days: 3.5 },
};

describe('terms_canonical', () => {
  it('hashes to terms_sha256 and parses back to the terms shown, on every view of a campaign and an enrolment', async () => {
    const created = await api.call('POST', '/v1/campaigns', { key: brand.key, body: { name: 'canonical', terms } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const c = created.body;
    expectVerifiable(c);
    expect(shown(c.terms_canonical)).toEqual(c.terms);
    // Amounts are minor-unit strings in the hashed text; times are normalised to UTC.
    expect(JSON.parse(c.terms_canonical)).toMatchObject({ rate_minor: '250', budget_minor: '30000', starts_at: '2025-12-31T22:00:00.000Z' });
    expect(c.terms_canonical).not.toMatch(/\s/);

    expect((await api.call('POST', `/v1/campaigns/${c.id}/fund`, { key: brand.key, body: { reference: 'f1' } })).status).toBe(200);
    expect((await api.call('POST', `/v1/campaigns/${c.id}/activate`, { key: brand.key, body: {} })).status).toBe(200);

    // The creator sees the same text and hash before accepting, and checks them itself.
    const seen = await api.call('GET', `/v1/campaigns/${c.id}`, { key: creator.key });
    expect(seen.status).toBe(200);
    expect(seen.body.terms_canonical).toBe(c.terms_canonical);
    expectVerifiable(seen.body);
    const listed = await api.call('GET', '/v1/campaigns', { key: creator.key });
    expectVerifiable(listed.body.data.find((x: { id: string }) => x.id === c.id));

    const joined = await api.call('POST', `/v1/campaigns/${c.id}/enrolments`, { key: creator.key, body: { terms_version: 1, terms_sha256: sha256(seen.body.terms_canonical) } });
    expect(joined.status, JSON.stringify(joined.body)).toBe(201);
    expect(joined.body.terms_canonical).toBe(c.terms_canonical);
    expectVerifiable(joined.body);

    // A new version: the campaign shows it; the enrolment keeps the text it accepted.
    const changed = await api.call('PUT', `/v1/campaigns/${c.id}/terms`, { key: brand.key, body: { ...terms, rate: '3.00' } });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body.terms_version).toBe(2);
    expectVerifiable(changed.body);
    expect(JSON.parse(changed.body.terms_canonical).rate_minor).toBe('300');
    for (const key of [creator.key, brand.key]) {
      const enrolments = await api.call('GET', `/v1/campaigns/${c.id}/enrolments`, { key });
      expect(enrolments.status).toBe(200);
      expect(enrolments.body.data).toHaveLength(1);
      expect(enrolments.body.data[0]).toMatchObject({ terms_version: 1, terms_sha256: c.terms_sha256, terms_canonical: c.terms_canonical });
    }
    const patched = await api.call('PATCH', `/v1/campaigns/${c.id}/enrolments/${joined.body.id}`, { key: brand.key, body: { target: 7 } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ target: 7, terms_canonical: c.terms_canonical });
  });

  it('terms stored without the later terms (no attribution, no grace days) keep their text and hash; the defaults are shown', async () => {
    const created = await api.call('POST', '/v1/campaigns', { key: brand.key, body: { name: 'old terms', terms: { ...baseTerms, objective: 'cpc', rate: '0.10', budget: '10.00' } } });
    expect(created.status).toBe(201);
    // As a campaign written before attribution and budget_grace_days existed is stored: its hash over the text without them.
    const old = { ...(await sql<{ terms: Record<string, unknown> }>`select terms from campaign_terms where campaign_id = ${created.body.id}`.execute(api.database.db)).rows[0]?.terms };
    delete old.attribution;
    delete old.budget_grace_days;
    delete old.incentives;
    await sql`update campaign_terms set terms = ${JSON.stringify(old)}::jsonb, terms_sha256 = ${sha256(jcs(old))} where campaign_id = ${created.body.id}`.execute(api.database.db);
    const c = (await api.call('GET', `/v1/campaigns/${created.body.id}`, { key: brand.key })).body;
    expectVerifiable(c);
    expect(JSON.parse(c.terms_canonical)).not.toHaveProperty('attribution');
    expect(c.terms).toMatchObject({ attribution: { model: 'last_click' }, budget_grace_days: 7 });
  });

  it('every stored version hashes to its stored terms_sha256', async () => {
    const rows = await sql<{ terms: unknown; terms_sha256: string }>`select terms, terms_sha256 from campaign_terms`.execute(api.database.db);
    expect(rows.rows.length).toBeGreaterThanOrEqual(3);
    for (const r of rows.rows) expect(sha256(jcs(r.terms))).toBe(r.terms_sha256);
  });
});

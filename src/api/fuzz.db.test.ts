import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BROWSER_AGENT, baseTerms, createBrand, createCreator, launchCampaign, type Party } from '../../test/support/conversions.js';
import { startTestApi, type TestApi } from '../../test/support/api.js';
import { ERROR_STATUS } from '../errors/index.js';
import { checkLedger } from '../ledger/index.js';
import { type JsonSchema, mutate, mutation, ODD_STRINGS, rawBody, type RawBody, valid } from './fuzz/arbitraries.js';
import { allEndpoints } from './index.js';
import type { Endpoint } from './endpoint.js';

/**
 * The API fuzz suite: for every operation, bodies generated from the operation's own schema and then
 * mutated (wrong types, missing and extra fields, odd strings and numbers, deep nesting), whole bodies
 * that are not JSON, of the wrong type or too large, odd path parameters and query strings — sent to a
 * real server. Whatever comes in: never a 5xx, every refusal a coded 4xx `{error:{code,message}}` whose
 * status is its code's, and the ledger balanced afterwards. Seeded: FUZZ_SEED and FUZZ_RUNS (runs per
 * operation) replay or deepen a run; a failure prints its seed and the shrunk request.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261204);
const RUNS = Number(process.env.FUZZ_RUNS ?? 40);

let api: TestApi;
let keys: Record<'operator' | 'organization' | 'creator' | 'other_brand', string>;
let ids: string[];
/** Requests known to be good in this world, by operation: mutating them reaches deep into the handlers. */
let examples: Record<string, unknown[]>;

beforeAll(async () => {
  api = await startTestApi({ RATE_LIMIT_API_PER_MIN: '0', RATE_LIMIT_CONVERSIONS_PER_MIN: '0', RATE_LIMIT_CLICKS_PER_MIN: '0' });
  const brand = await createBrand(api, 'Fuzz Brand');
  const other = await createBrand(api, 'Other Brand');
  const creator: Party = await createCreator(api, 'fuzz@creators.example');
  const cpl = await launchCampaign(api, brand, creator, { objective: 'cpl', rate: '1.00', budget: '1000.00' });
  const cpm = await launchCampaign(api, brand, creator, { objective: 'cpm', rate: '5.00', budget: '1000.00' });
  const conversion = await api.call('POST', '/v1/conversions', {
    key: brand.key,
    body: { external_id: 'fuzz-seed', type: 'lead', promo_code: cpl.promoCode, customer: { id: 'fz', email: 'fz@example.com' } },
  });
  const view = await api.call('POST', '/v1/views', { key: creator.key, body: { campaign_id: cpm.id, views: 1000, evidence_url: 'https://social.example/p/1' } });
  const enrolment = await api.call('GET', `/v1/campaigns/${cpl.id}/enrolments`, { key: brand.key });
  keys = { operator: api.operatorKey, organization: brand.key, creator: creator.key, other_brand: other.key };
  const terms = { ...baseTerms, objective: 'cpl', rate: '1.00', budget: '50.00', incentives: undefined };
  const customer = { id: 'fz-2', email: 'ok@example.com', phone: '+14155550100', country: 'US', age: 30, ip: '203.0.113.9', user_agent: BROWSER_AGENT };
  examples = {
    'POST /v1/organizations': [{ name: 'Brand' }],
    'POST /v1/creators': [{ name: 'Zoë', email: 'zoe@creators.example', phone: '+14155550101' }],
    'POST /v1/campaigns': [{ name: 'Spring', terms }, { name: 'Sale', terms: { ...terms, objective: 'cpa_percent', rate: undefined, rate_bps: 1000 } }],
    'PUT /v1/campaigns/{id}/terms': [terms],
    'POST /v1/campaigns/{id}/fund': [{ amount: '1.00', reference: 'fz-fund' }, { reference: 'fz-fund-all' }],
    'POST /v1/deposits': [{ amount: '10.00', currency: 'USD', reference: 'fz-dep' }],
    'POST /v1/withdrawals': [{ amount: '1.00', currency: 'USD', reference: 'fz-wd' }],
    'POST /v1/conversions': [
      { external_id: 'fz-lead', type: 'lead', promo_code: cpl.promoCode, customer },
      { external_id: 'fz-sale', type: 'sale', click_ids: ['clk_x', 'clk_y'], sku: 'SKU-1', customer, amount: '12.50', currency: 'USD', occurred_at: new Date().toISOString() },
    ],
    'POST /v1/views': [{ campaign_id: cpm.id, views: 2000, evidence_url: 'https://social.example/p/2' }],
    'POST /v1/views/{id}/reject': [{ reason: 'evidence_unclear', note: 'blurry' }],
    'POST /v1/results/{id}/reject': [{ reason: 'duplicate_order', note: 'seen before' }],
    'POST /v1/results/{id}/reverse': [{ reason: 'chargeback', note: 'bank' }],
    'POST /v1/campaigns/{id}/enrolments': [{ terms_version: 1, terms_sha256: 'a'.repeat(64) }],
    'PATCH /v1/campaigns/{id}/enrolments/{enrolment_id}': [{ target: 5 }, { target: null }],
    'POST /v1/keys': [{ owner: { kind: 'creator', id: creator.id }, label: 'ci' }],
  };
  ids = [
    brand.id,
    creator.id,
    cpl.id,
    cpm.id,
    cpl.enrolmentId,
    conversion.body?.id,
    conversion.body?.result?.id,
    view.body?.id,
    enrolment.body?.data?.[0]?.link_code,
  ].filter((x): x is string => typeof x === 'string');
});
afterAll(() => api?.close());

/** Destructive operations last, so the others are fuzzed against a running campaign. */
const LAST = /\/(end|pause|reverse|revoke|keys)\b|\/fail$/;
const endpoints = allEndpoints().sort((a, b) => Number(LAST.test(a.path)) - Number(LAST.test(b.path)));

interface FuzzRequest {
  idempotencyKey: string | null;
  path: string;
  key: string | null;
  body: { json: unknown } | { raw: RawBody } | null;
  query: string;
}

function schemaOf(schema: z.ZodType | undefined): JsonSchema | undefined {
  return schema ? (z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema) : undefined;
}

/** Percent-encodes bytes as a browser would, lone surrogates included (as U+FFFD). */
function encode(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`)).join('');
}

function requestFor(e: Endpoint<any, any, any>): fc.Arbitrary<FuzzRequest> {
  const names = [...e.path.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1] as string);
  const param = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ids) }, { weight: 2, arbitrary: fc.constantFrom(...ODD_STRINGS) }, fc.string({ maxLength: 30, unit: 'binary' }));
  const params = fc.tuple(...names.map(() => param));
  const ownKey = e.access.includes('organization') ? keys.organization : e.access.includes('creator') ? keys.creator : e.access.includes('operator') ? keys.operator : null;
  const key = fc.oneof({ weight: 8, arbitrary: fc.constant(ownKey) }, fc.constantFrom(null, keys.operator, keys.creator, keys.other_brand, 'Bearer nonsense', 'ek_00000000000000000000000000_0000000000000000000000000000000000000000000'));
  const bodySchema = schemaOf(e.body);
  const known = examples[`${e.method} ${e.path}`] ?? [];
  const generated = bodySchema ? valid(bodySchema) : fc.constantFrom<unknown>(undefined, {});
  const json = known.length ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: generated }) : generated;
  const body: fc.Arbitrary<FuzzRequest['body']> = fc.oneof(
    { weight: 3, arbitrary: json.map((j) => (j === undefined ? null : { json: j })) },
    { weight: 5, arbitrary: fc.tuple(json, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([j, ms]) => ({ json: ms.reduce((b, m) => mutate(b, m), j) })) },
    { weight: 2, arbitrary: rawBody.map((raw) => ({ raw })) },
  );
  const querySchema = schemaOf(e.query);
  const query = querySchema
    ? fc.tuple(valid(querySchema), fc.option(mutation, { nil: undefined })).map(([q, m]) => queryString(m ? mutate(q, m) : q))
    : fc.constantFrom('', '', '?x=1', '?limit=%FF', '?a=%00');
  const idempotencyKey = fc.oneof(
    { weight: 6, arbitrary: fc.constant(null) },
    fc.constantFrom('fz-key-1', 'fz-key-2', '', ' ', 'a b', 'x'.repeat(300), 'é', '%00'),
    fc.uuid(),
  );
  return fc.record({ params, key, body, query, idempotencyKey }).map(({ params, key, body, query, idempotencyKey }) => ({
    idempotencyKey,
    path: names.reduce((p, name, i) => p.replace(`{${name}}`, encode(String(params[i]))), e.path),
    key,
    body,
    query,
  }));
}

function queryString(q: unknown): string {
  if (!q || typeof q !== 'object' || Array.isArray(q)) return `?q=${encode(String(q))}`;
  const parts = Object.entries(q).map(([k, v]) => `${encode(k)}=${encode(typeof v === 'string' ? v : JSON.stringify(v) ?? '')}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

async function send(e: Endpoint<any, any, any>, r: FuzzRequest): Promise<{ status: number; text: string; contentType: string | null }> {
  const headers: Record<string, string> = { 'user-agent': BROWSER_AGENT };
  if (r.idempotencyKey !== null) headers['idempotency-key'] = r.idempotencyKey;
  if (r.key) headers.authorization = r.key.startsWith('Bearer') ? r.key : `Bearer ${r.key}`;
  let payload: string | Buffer | undefined;
  if (r.body && 'json' in r.body) {
    payload = JSON.stringify(r.body.json) ?? '';
    headers['content-type'] = 'application/json';
  } else if (r.body && 'raw' in r.body) {
    payload = r.body.raw.text;
    if (r.body.raw.contentType) headers['content-type'] = r.body.raw.contentType;
  }
  const method = e.method;
  const response = await fetch(`${api.url}${r.path}${r.query}`, {
    method,
    headers,
    redirect: 'manual',
    ...(payload !== undefined && method !== 'GET' ? { body: payload } : {}),
  });
  return { status: response.status, text: await response.text(), contentType: response.headers.get('content-type') };
}

function check(e: Endpoint<any, any, any>, r: FuzzRequest, a: { status: number; text: string; contentType: string | null }): void {
  const where = `${e.method} ${r.path}${r.query} → ${a.status} ${a.text.slice(0, 300)}`;
  expect(a.status, where).toBeLessThan(500);
  if (a.status < 400) return;
  expect(a.contentType ?? '', where).toMatch(/^application\/json/);
  const body = JSON.parse(a.text) as { error?: { code?: unknown; message?: unknown } };
  expect(typeof body.error?.code, where).toBe('string');
  expect(typeof body.error?.message, where).toBe('string');
  const code = body.error?.code as keyof typeof ERROR_STATUS;
  expect(Object.hasOwn(ERROR_STATUS, code), `${where}: unknown code`).toBe(true);
  if (![405, 408, 431].includes(a.status)) expect(ERROR_STATUS[code], `${where}: status is not its code's`).toBe(a.status);
}

describe('API fuzz', () => {
  for (const e of endpoints) {
    it(`${e.method} ${e.path}: never a 5xx, every refusal a coded 4xx`, async () => {
      await fc.assert(
        fc.asyncProperty(requestFor(e), async (r) => check(e, r, await send(e, r))),
        { seed: SEED, numRuns: e.method === 'GET' ? Math.ceil(RUNS / 2) : RUNS, endOnFailure: true },
      );
    });
  }

  it('leaves the ledger balanced', async () => {
    const report = await checkLedger(api.database.db);
    expect(report.mismatches, JSON.stringify(report)).toBe(0);
  });
});

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allEndpoints } from './index.js';
import { encodeCursor } from './page.js';
import type { PaymentProvider } from '../payments/index.js';
import { type ApiResponse, startTestApi, type TestApi } from '../../test/support/api.js';

/**
 * Every list keeps one rule (docs/api-conventions.md, "Lists"): `{data, has_more, next_after}`,
 * newest first by the list's time then id, keyset pages that visit every row once, date ranges on
 * the same time, and a coded 400 for a cursor that is not one.
 */
let api: TestApi;
let brand: { id: string; key: string };
let otherBrand: { id: string; key: string };
let ada: { id: string; key: string };
let bob: { id: string; key: string };
/** Two campaigns of `brand` and one of `otherBrand`, each joined by ada and bob. */
const campaigns: Array<{ id: string; org: string; enrolments: Record<string, string> }> = [];

const terms = {
  objective: 'cpl',
  rate: '2.50',
  currency: 'USD',
  budget: '100.00',
  destination_url: 'https://shop.example/landing',
  starts_at: '2026-01-01T00:00:00Z',
  ends_at: '2030-01-01T00:00:00Z',
  kpi_target: 10,
  hold_days: 14,
  fee_bps: 2000,
};

function ok(r: ApiResponse) {
  expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
  return r.body;
}

function expectError(r: ApiResponse, status: number, code: string, field?: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body.error.code).toBe(code);
  if (field) expect(r.body.error.field).toBe(field);
}

async function party(path: '/v1/organizations' | '/v1/creators', body: object) {
  const r = ok(await api.call('POST', path, { key: api.operatorKey, body }));
  return { id: r.id as string, key: r.api_key as string };
}

async function campaignOf(org: { id: string; key: string }, n: number) {
  ok(await api.call('POST', '/v1/deposits', { key: org.key, body: { amount: '100.00', currency: 'USD', reference: `dep-${n}` } }));
  const c = ok(await api.call('POST', '/v1/campaigns', { key: org.key, body: { name: `Campaign ${n}`, terms } }));
  ok(await api.call('POST', `/v1/campaigns/${c.id}/fund`, { key: org.key, body: { reference: `fund-${n}` } }));
  ok(await api.call('POST', `/v1/campaigns/${c.id}/activate`, { key: org.key, body: {} }));
  const enrolments: Record<string, string> = {};
  for (const creator of [ada, bob]) {
    const e = ok(await api.call('POST', `/v1/campaigns/${c.id}/enrolments`, { key: creator.key, body: { terms_version: c.terms_version, terms_sha256: c.terms_sha256 } }));
    enrolments[creator.id] = e.id;
  }
  campaigns.push({ id: c.id, org: org.id, enrolments });
}

beforeAll(async () => {
  api = await startTestApi();
  brand = await party('/v1/organizations', { name: 'Acme' });
  otherBrand = await party('/v1/organizations', { name: 'Other' });
  ada = await party('/v1/creators', { name: 'Ada', email: 'ada@creators.example' });
  bob = await party('/v1/creators', { name: 'Bob', email: 'bob@creators.example' });
  await campaignOf(brand, 1);
  await campaignOf(brand, 2);
  await campaignOf(otherBrand, 3);
});

afterAll(async () => {
  await api?.close();
});

/** Every page of a list from the first, with the cursors the API gave. */
async function allPages(path: string, key: string, limit: number): Promise<{ ids: string[]; pages: Array<{ size: number; has_more: boolean }> }> {
  const ids: string[] = [];
  const pages: Array<{ size: number; has_more: boolean }> = [];
  let after: string | null = null;
  for (let i = 0; i < 100; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const body = ok(await api.call('GET', `${path}${sep}limit=${limit}${after ? `&after=${after}` : ''}`, { key }));
    ids.push(...body.data.map((x: { id: string }) => x.id));
    pages.push({ size: body.data.length, has_more: body.has_more });
    expect(body.next_after === null).toBe(!body.has_more);
    if (!body.has_more) return { ids, pages };
    after = body.next_after;
  }
  throw new Error('a list that never ends');
}

/** Newest first by time, then id descending: the order every list keeps (times to the microsecond). */
function newestFirst<T extends { id: string }>(rows: T[], time: (r: T) => string): string[] {
  const us = (t: string) => BigInt(Date.parse(t)) * 1000n + BigInt((/\.(\d+)/.exec(t)?.[1] ?? '').padEnd(6, '0').slice(3, 6));
  const key = (r: T) => us(time(r));
  return [...rows].sort((a, b) => (key(a) !== key(b) ? (key(b) > key(a) ? 1 : -1) : a.id < b.id ? 1 : -1)).map((r) => r.id);
}

describe('every list endpoint', () => {
  const lists = allEndpoints().filter((e) => e.method === 'GET' && e.query && 'shape' in e.query && 'after' in (e.query as { shape: object }).shape);

  function caller(access: readonly string[], path: string) {
    if (path.startsWith('/v1/me/')) return ada.key;
    if (access.includes('organization')) return brand.key;
    if (access.includes('creator')) return ada.key;
    return api.operatorKey;
  }

  it('are found: every GET that answers a list takes the page query', () => {
    expect(lists.map((e) => e.path).sort()).toEqual(
      [
        '/v1/organizations',
        '/v1/creators',
        '/v1/campaigns',
        '/v1/campaigns/{id}/enrolments',
        '/v1/campaigns/{id}/bonuses',
        '/v1/me/campaigns/{id}/bonuses',
        '/v1/wallet/movements',
        '/v1/clicks',
        '/v1/conversions',
        '/v1/views',
        '/v1/results',
        '/v1/review',
        '/v1/payouts',
      ].sort(),
    );
  });

  it('answer {data, has_more, next_after} and say their order', async () => {
    for (const e of lists) {
      const path = e.path.replace('{id}', campaigns[0]!.id);
      const body = ok(await api.call('GET', path, { key: caller(e.access, e.path) }));
      expect(Object.keys(body).sort(), e.path).toEqual(['data', 'has_more', 'next_after']);
      expect(Array.isArray(body.data)).toBe(true);
      expect(body.has_more).toBe(false);
      expect(body.next_after).toBeNull();
      expect(e.summary, e.path).toMatch(/newest (period )?first/);
    }
  });

  it('answer a bounded list (one row per currency) in the same shape, never paged', async () => {
    for (const [path, key] of [['/v1/wallet', brand.key], ['/v1/me/balance', ada.key]] as const) {
      const body = ok(await api.call('GET', path, { key }));
      expect(body).toMatchObject({ has_more: false, next_after: null });
      expect(body.data).toHaveLength(1);
    }
  });

  it.each([
    ['not base64url', 'after=nope!', 'after'],
    ['base64url of nothing we wrote', `after=${Buffer.from('hello').toString('base64url')}`, 'after'],
    ['a cursor with a NUL', `after=${Buffer.from(JSON.stringify(['2026-12-04T00:00:00.000000Z', 'x\u0000'])).toString('base64url')}`, 'after'],
    ['a bad time', 'created_from=yesterday', 'created_from'],
    ['an unencoded + in an offset', 'created_to=2026-12-04T15:25:17+01:00', 'created_to'],
    ['a limit of 0', 'limit=0', 'limit'],
    ['a limit over 100', 'limit=101', 'limit'],
  ])('refuse %s with 400 invalid_request naming the field', async (_name, query, field) => {
    for (const e of lists) {
      const path = e.path.replace('{id}', campaigns[0]!.id);
      expectError(await api.call('GET', `${path}?${query}`, { key: caller(e.access, e.path) }), 400, 'invalid_request', field);
    }
  });

  it('refuse an empty date range and a cursor of another list', async () => {
    expectError(await api.call('GET', '/v1/results?created_from=2026-12-02T00:00:00Z&created_to=2026-12-01T00:00:00Z', { key: brand.key }), 400, 'invalid_request', 'created_to');
    const bonusCursor = encodeCursor({ time: '2026-12-04T00:00:00.000000Z', keys: ['enr_x', '2026-W49'] });
    expectError(await api.call('GET', `/v1/results?after=${bonusCursor}`, { key: brand.key }), 400, 'invalid_request', 'after');
  });
});

describe('order and pages', () => {
  it('put rows of the same time in id order, and a cursor keeps microseconds apart', async () => {
    // Five organizations inside one millisecond: three at the very same microsecond.
    const at = (us: string) => `2026-03-01T00:00:00.000${us}Z`;
    const rows = [
      ['org_tie_a', at('500')],
      ['org_tie_c', at('500')],
      ['org_tie_b', at('500')],
      ['org_tie_early', at('100')],
      ['org_tie_late', at('900')],
    ];
    for (const [id, time] of rows) await sql`insert into organizations (id, name, created_at) values (${id}, ${id}, ${time}::timestamptz)`.execute(api.database.db);
    const expected = ['org_tie_late', 'org_tie_c', 'org_tie_b', 'org_tie_a', 'org_tie_early'];
    const range = 'created_from=2026-03-01T00:00:00Z&created_to=2026-03-01T00:00:01Z';
    expect(ok(await api.call('GET', `/v1/organizations?${range}`, { key: api.operatorKey })).data.map((o: { id: string }) => o.id)).toEqual(expected);
    const paged = await allPages(`/v1/organizations?${range}`, api.operatorKey, 1);
    expect(paged.ids).toEqual(expected);
    expect(paged.pages.map((p) => p.has_more)).toEqual([true, true, true, true, false]);
  });

  it('list clicks newest first by occurred_at, a brand’s campaigns merged, every row once in pages', async () => {
    const [c1, c2, c3] = campaigns as [(typeof campaigns)[0], (typeof campaigns)[0], (typeof campaigns)[0]];
    // Interleaved over the brand's two campaigns, with ties; the other brand's clicks in between.
    const plan: Array<[typeof c1, string, string, string]> = [
      [c1, ada.id, '2026-11-01T10:00:00.000001Z', 'valid'],
      [c2, ada.id, '2026-11-01T10:00:00.000002Z', 'valid'],
      [c1, bob.id, '2026-11-01T10:00:00.000002Z', 'bot'],
      [c3, ada.id, '2026-11-01T10:00:00.000003Z', 'valid'],
      [c2, bob.id, '2026-11-02T09:00:00Z', 'valid'],
      [c1, ada.id, '2026-11-02T09:00:00Z', 'repeat'],
      [c1, ada.id, '2026-11-03T00:00:00Z', 'valid'],
      [c3, bob.id, '2026-11-03T00:00:00Z', 'valid'],
      [c2, ada.id, '2026-11-04T12:00:00Z', 'valid'],
    ];
    const inserted = plan.map(([c, creator, time, status], i) => ({ id: `clk_list_${String(i).padStart(2, '0')}`, c, creator, time, status }));
    for (const k of inserted) {
      await sql`insert into clicks (id, enrolment_id, campaign_id, creator_id, occurred_at, ip_hash, status)
        values (${k.id}, ${k.c.enrolments[k.creator]}, ${k.c.id}, ${k.creator}, ${k.time}::timestamptz, 'h', ${k.status})`.execute(api.database.db);
    }
    const expect_ = (keep: (k: (typeof inserted)[0]) => boolean) => newestFirst(inserted.filter(keep), (k) => k.time);
    const brands = expect_((k) => k.c.org === brand.id);
    expect(ok(await api.call('GET', '/v1/clicks', { key: brand.key })).data.map((x: { id: string }) => x.id)).toEqual(brands);
    for (const limit of [1, 2, 4]) {
      const paged = await allPages('/v1/clicks', brand.key, limit);
      expect(paged.ids).toEqual(brands);
      expect(paged.pages.slice(0, -1).every((p) => p.size === limit && p.has_more)).toBe(true);
    }
    expect((await allPages('/v1/clicks', api.operatorKey, 3)).ids).toEqual(expect_(() => true));
    expect((await allPages('/v1/clicks', ada.key, 2)).ids).toEqual(expect_((k) => k.creator === ada.id));
    expect((await allPages(`/v1/clicks?campaign_id=${c1.id}`, brand.key, 1)).ids).toEqual(expect_((k) => k.c === c1));
    expect((await allPages(`/v1/clicks?campaign_id=${c3.id}`, brand.key, 1)).ids).toEqual([]);
    expect((await allPages('/v1/clicks?status=valid', brand.key, 2)).ids).toEqual(expect_((k) => k.c.org === brand.id && k.status === 'valid'));
    // A range on the click's own time, with an offset: [2026-11-02T09:00Z, 2026-11-04T12:00Z).
    const range = 'created_from=2026-11-02T10:00:00%2B01:00&created_to=2026-11-04T12:00:00Z';
    const inRange = (k: (typeof inserted)[0]) => k.time >= '2026-11-02T09:00:00Z' && k.time < '2026-11-04T12:00:00Z';
    expect((await allPages(`/v1/clicks?${range}`, brand.key, 1)).ids).toEqual(expect_((k) => k.c.org === brand.id && inRange(k)));
    expect((await allPages(`/v1/clicks?${range}`, api.operatorKey, 2)).ids).toEqual(expect_(inRange));
  });

  it('list results and the review queue newest first by recorded_at, every row once in pages', async () => {
    const [c1, c2, c3] = campaigns as [(typeof campaigns)[0], (typeof campaigns)[0], (typeof campaigns)[0]];
    const plan: Array<[typeof c1, string, string, string]> = [
      [c2, ada.id, '2026-11-10T00:00:00.000100Z', 'review'],
      [c1, bob.id, '2026-11-10T00:00:00.000100Z', 'pending'],
      [c1, ada.id, '2026-11-09T00:00:00Z', 'review'],
      [c3, bob.id, '2026-11-11T00:00:00Z', 'review'],
      [c2, bob.id, '2026-11-12T00:00:00Z', 'pending'],
      [c1, ada.id, '2026-11-12T00:00:00Z', 'review'],
    ];
    const inserted = plan.map(([c, creator, time, status], i) => ({ id: `res_list_${i}`, c, creator, time, status }));
    for (const r of inserted) {
      await sql`insert into results (id, campaign_id, enrolment_id, creator_id, kind, source_id, status, currency, gross, fee,
          occurred_at, recorded_at, hold_until)
        values (${r.id}, ${r.c.id}, ${r.c.enrolments[r.creator]}, ${r.creator}, 'lead', ${`cnv_list_${r.id}`}, ${r.status}, 'USD', 250, 50,
          ${r.time}::timestamptz - interval '1 day', ${r.time}::timestamptz, ${r.time}::timestamptz + interval '14 days')`.execute(api.database.db);
    }
    const expect_ = (keep: (r: (typeof inserted)[0]) => boolean) => newestFirst(inserted.filter(keep), (r) => r.time);
    expect((await allPages('/v1/results', brand.key, 1)).ids).toEqual(expect_((r) => r.c.org === brand.id));
    expect((await allPages('/v1/results', bob.key, 1)).ids).toEqual(expect_((r) => r.creator === bob.id));
    expect((await allPages(`/v1/results?campaign_id=${c2.id}&status=pending`, brand.key, 1)).ids).toEqual(expect_((r) => r.c === c2 && r.status === 'pending'));
    expect((await allPages('/v1/review', api.operatorKey, 2)).ids).toEqual(expect_((r) => r.status === 'review'));
    expect((await allPages(`/v1/review?campaign_id=${c1.id}`, api.operatorKey, 1)).ids).toEqual(expect_((r) => r.c === c1 && r.status === 'review'));
    const range = 'created_from=2026-11-10T00:00:00.0001Z&created_to=2026-11-12T00:00:00Z';
    expect((await allPages(`/v1/results?${range}`, api.operatorKey, 1)).ids).toEqual(['res_list_3', 'res_list_1', 'res_list_0']);
  });
});

describe('wallet movements', () => {
  it('list deposits and withdrawals in time order, a refused one failed with its reason', async () => {
    const shop = await party('/v1/organizations', { name: 'Wallet shop' });
    const move = (kind: 'deposits' | 'withdrawals', amount: string, reference: string) =>
      api.call('POST', `/v1/${kind}`, { key: shop.key, body: { amount, currency: 'USD', reference } });
    const d1 = ok(await move('deposits', '100.00', 'd1'));
    const w1 = ok(await move('withdrawals', '30.00', 'w1'));
    const refused = await move('withdrawals', '500.00', 'w2');
    expectError(refused, 409, 'insufficient_funds');
    expect(refused.body.error.message).toMatch(/70\.00/);
    const d2 = ok(await move('deposits', '20.00', 'd2'));

    const listed = ok(await api.call('GET', '/v1/wallet/movements', { key: shop.key }));
    expect(listed.data.map((m: { kind: string; status: string; amount: string }) => [m.kind, m.status, m.amount])).toEqual([
      ['deposit', 'succeeded', '20.00'],
      ['withdrawal', 'failed', '500.00'],
      ['withdrawal', 'succeeded', '30.00'],
      ['deposit', 'succeeded', '100.00'],
    ]);
    expect(listed.data.map((m: { id: string }) => m.id)).toEqual([d2.id, listed.data[1].id, w1.id, d1.id]);
    expect(listed.data[1]).toMatchObject({ reference: 'w2', failure_code: 'insufficient_funds', failure: expect.stringMatching(/70\.00/) });
    expect(listed.data.filter((m: { status: string }) => m.status === 'pending')).toEqual([]);

    // The refusal is final: its reference answers the same refusal, and nothing is listed twice.
    expectError(await move('withdrawals', '500.00', 'w2'), 409, 'insufficient_funds');
    expect(ok(await api.call('GET', '/v1/wallet/movements', { key: shop.key })).data).toHaveLength(4);
    expect(ok(await api.call('GET', '/v1/wallet', { key: shop.key })).data[0].balance.amount).toBe('90.00');
    expect((await allPages('/v1/wallet/movements', shop.key, 1)).ids).toEqual(listed.data.map((m: { id: string }) => m.id));
  });

  it('list a deposit the provider refused as failed with its reason; the call is a 409 conflict', async () => {
    const shop = await party('/v1/organizations', { name: 'Refused shop' });
    const original = api.services.payments;
    const refusing: PaymentProvider = {
      name: 'refusing',
      charge: async () => ({ status: 'failed', provider_reference: 'ref-1', failure: 'card declined' }),
      refund: original.refund,
    };
    Object.assign(api.services, { payments: refusing });
    try {
      expectError(await api.call('POST', '/v1/deposits', { key: shop.key, body: { amount: '10.00', currency: 'USD', reference: 'd1' } }), 409, 'conflict');
    } finally {
      Object.assign(api.services, { payments: original });
    }
    expectError(await api.call('POST', '/v1/deposits', { key: shop.key, body: { amount: '10.00', currency: 'USD', reference: 'd1' } }), 409, 'conflict');
    const listed = ok(await api.call('GET', '/v1/wallet/movements', { key: shop.key }));
    expect(listed.data).toEqual([
      expect.objectContaining({ kind: 'deposit', status: 'failed', failure_code: 'provider_refused', failure: 'card declined', provider: 'refusing' }),
    ]);
  });
});

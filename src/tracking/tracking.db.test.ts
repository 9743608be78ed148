import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceClock } from '../db/index.js';
import { recordClickResults } from '../flows/index.js';
import { createLogger } from '../server/index.js';
import { ClickTracker, type Visit } from './index.js';
import { type ApiResponse, startTestApi, type TestApi } from '../../test/support/api.js';

/**
 * The tracking link over real HTTP: the redirect, what each click records and how it is flagged, CPC
 * results and their holds, rate limits, and two trackers (two processes) sharing one database. The
 * flush timer is set to a minute, so clicks are written when the test says (`tracker.flush()`).
 */
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const SAFARI =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';
const HEADLESS = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36';

const baseTerms = {
  objective: 'cpc',
  rate: '0.50',
  currency: 'USD',
  budget: '10.00',
  destination_url: 'https://shop.example/landing?utm_source=earnest&utm_medium=creator#reviews',
  starts_at: '2026-01-01T00:00:00Z',
  ends_at: '2030-01-01T00:00:00Z',
  kpi_target: 10,
  hold_days: 14,
  fee_bps: 2000,
};

interface Setup {
  api: TestApi;
  brand: string;
  creator: string;
}

let seq = 0;

async function tenants(api: TestApi, name: string): Promise<Setup> {
  const org = await api.call('POST', '/v1/organizations', { key: api.operatorKey, body: { name } });
  expect(org.status, JSON.stringify(org.body)).toBe(201);
  const deposit = await api.call('POST', '/v1/deposits', { key: org.body.api_key, body: { amount: '1000.00', currency: 'USD', reference: 'dep-1' } });
  expect(deposit.status, JSON.stringify(deposit.body)).toBe(201);
  const cr = await api.call('POST', '/v1/creators', { key: api.operatorKey, body: { name: `${name} creator`, email: `${name.toLowerCase().replace(/\W/g, '')}@creators.example` } });
  expect(cr.status, JSON.stringify(cr.body)).toBe(201);
  return { api, brand: org.body.api_key, creator: cr.body.api_key };
}

/** A funded, active campaign that the creator joined: its id and the creator's link code. */
async function campaign(s: Setup, terms: Partial<typeof baseTerms> = {}): Promise<{ id: string; code: string }> {
  const { api, brand, creator } = s;
  seq++;
  const c = await api.call('POST', '/v1/campaigns', { key: brand, body: { name: `Clicks ${seq}`, terms: { ...baseTerms, ...terms } } });
  expect(c.status, JSON.stringify(c.body)).toBe(201);
  const funded = await api.call('POST', `/v1/campaigns/${c.body.id}/fund`, { key: brand, body: { reference: `fund-${seq}` } });
  expect(funded.status, JSON.stringify(funded.body)).toBe(200);
  const active = await api.call('POST', `/v1/campaigns/${c.body.id}/activate`, { key: brand, body: {} });
  expect(active.body.status).toBe('active');
  const seen = await api.call('GET', `/v1/campaigns/${c.body.id}`, { key: creator });
  const joined = await api.call('POST', `/v1/campaigns/${c.body.id}/enrolments`, {
    key: creator,
    body: { terms_version: seen.body.terms_version, terms_sha256: seen.body.terms_sha256 },
  });
  expect(joined.status, JSON.stringify(joined.body)).toBe(201);
  return { id: c.body.id, code: joined.body.link_code };
}

function click(api: TestApi, code: string, o: { ip?: string; ua?: string | null; method?: string; headers?: Record<string, string> } = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { 'x-forwarded-for': o.ip ?? '203.0.113.1', ...(o.headers ?? {}) };
  if (o.ua !== null) headers['user-agent'] = o.ua ?? CHROME;
  return api.call(o.method ?? 'GET', `/c/${code}`, { headers });
}

async function flush(api: TestApi): Promise<void> {
  await api.services.tracker?.flush();
}

async function clicksOf(api: TestApi, campaignId: string) {
  const r = await sql<{ id: string; status: string; result_id: string | null; ip_hash: string; occurred_at: Date; billable: boolean }>`
    select id, status, result_id, ip_hash, occurred_at, billable from clicks where campaign_id = ${campaignId} order by id`.execute(api.database.db);
  return r.rows;
}

async function resultsOf(s: Setup, campaignId: string) {
  const r = await s.api.call('GET', `/v1/results?campaign_id=${campaignId}&limit=100`, { key: s.brand });
  expect(r.status).toBe(200);
  return r.body.data as Array<{ id: string; kind: string; source_id: string; status: string; reasons: string[]; occurred_at: string }>;
}

async function escrowOf(s: Setup, campaignId: string) {
  return (await s.api.call('GET', `/v1/campaigns/${campaignId}`, { key: s.brand })).body;
}

function clickIdIn(location: string | null): string {
  const match = /[?&]ern_cid=(clk_[0-9a-z]{26})/.exec(location ?? '');
  expect(match, `no click id in ${location}`).not.toBeNull();
  return (match as RegExpExecArray)[1] as string;
}

let main: Setup;
const silent = createLogger('error', () => {});

beforeAll(async () => {
  const api = await startTestApi({ TRUST_PROXY: 'true', COUNTRY_HEADER: 'cf-ipcountry', CLICK_FLUSH_INTERVAL_MS: '60000' });
  main = await tenants(api, 'Acme Shoes');
});

afterAll(async () => {
  await main?.api.close();
});

describe('the redirect', () => {
  it("answers 302 to the destination with its query and fragment kept and the click id appended, and records the visit", async () => {
    const { api } = main;
    const c = await campaign(main);
    const r = await click(api, c.code, { ip: '203.0.113.9', headers: { 'cf-ipcountry': 'de', referer: 'https://social.example/post/1' } });
    expect(r.status).toBe(302);
    expect(r.body).toBeUndefined();
    const location = r.headers.get('location');
    expect(location).toMatch(/^https:\/\/shop\.example\/landing\?utm_source=earnest&utm_medium=creator&ern_cid=clk_[0-9a-z]{26}#reviews$/);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const id = clickIdIn(location);

    expect(await clicksOf(api, c.id)).toEqual([]); // buffered, not yet written: the redirect did not wait
    await flush(api);
    const listed = await api.call('GET', `/v1/clicks?campaign_id=${c.id}`, { key: main.brand });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toEqual([
      expect.objectContaining({
        id,
        campaign_id: c.id,
        status: 'valid',
        country: 'DE',
        referrer: 'https://social.example/post/1',
        user_agent: CHROME,
        landing_url: location,
      }),
    ]);
    expect(listed.body.data[0]).not.toHaveProperty('ip_hash');

    const salt = await sql<{ value: string }>`select value from instance_settings where key = 'ip_hash_salt'`.execute(api.database.db);
    expect(salt.rows[0]?.value).toMatch(/^[0-9a-f]{64}$/);
    const [row] = await clicksOf(api, c.id);
    expect(row?.ip_hash).toBe(createHash('sha256').update(`${salt.rows[0]?.value}\n203.0.113.9`).digest('hex'));
    const raw = await sql<{ n: bigint }>`select count(*) as n from clicks where ip_hash like '%203.0.113%' or user_agent like '%203.0.113%'`.execute(api.database.db);
    expect(raw.rows[0]?.n).toBe(0n);
  });

  it('gives a new visitor an id cookie on the tracking path, and records a returning visitor under it on every link', async () => {
    const { api } = main;
    const a = await campaign(main);
    const b = await campaign(main);
    const first = await click(api, a.code, { ip: '198.51.100.20' });
    const cookie = first.headers.get('set-cookie') as string;
    expect(cookie).toMatch(/^ern_vid=vis_[0-9a-z]{26}; Path=\/c\/; Max-Age=7776000; SameSite=Lax; HttpOnly$/);
    const visitor = /ern_vid=(vis_[0-9a-z]+)/.exec(cookie)?.[1] as string;
    const again = await click(api, b.code, { ip: '198.51.100.20', headers: { cookie: `theme=dark; ern_vid=${visitor}` } });
    expect(again.headers.get('set-cookie')).toBeNull();
    // Behind a proxy that says HTTPS the cookie is Secure; a forged value is replaced, never recorded.
    const forged = await click(api, a.code, { ip: '198.51.100.21', headers: { cookie: 'ern_vid=vis_not-ours', 'x-forwarded-proto': 'https' } });
    expect(forged.headers.get('set-cookie')).toMatch(/; Secure$/);
    await flush(api);
    const rows = await sql<{ id: string; visitor_id: string }>`select id, visitor_id from clicks where campaign_id in (${a.id}, ${b.id})`.execute(api.database.db);
    const visitorOf = new Map(rows.rows.map((r) => [r.id, r.visitor_id]));
    expect(visitorOf.size).toBe(3);
    expect(visitorOf.get(clickIdIn(first.headers.get('location')))).toBe(visitor);
    expect(visitorOf.get(clickIdIn(again.headers.get('location')))).toBe(visitor);
    const other = visitorOf.get(clickIdIn(forged.headers.get('location')));
    expect(other).toMatch(/^vis_[0-9a-z]{26}$/);
    expect(other).not.toBe(visitor);
  });

  it('sets no visitor cookie when VISITOR_COOKIE_DAYS is 0', async () => {
    const api = await startTestApi({ TRUST_PROXY: 'true', VISITOR_COOKIE_DAYS: '0', CLICK_FLUSH_INTERVAL_MS: '60000' });
    try {
      const s = await tenants(api, 'No Cookies');
      const c = await campaign(s);
      const r = await click(api, c.code);
      expect(r.status).toBe(302);
      expect(r.headers.get('set-cookie')).toBeNull();
      await flush(api);
      const rows = await sql<{ visitor_id: string | null }>`select visitor_id from clicks where campaign_id = ${c.id}`.execute(api.database.db);
      expect(rows.rows).toEqual([{ visitor_id: null }]);
    } finally {
      await api.close();
    }
  });

  it('answers 404 for an unknown code and records nothing', async () => {
    const { api } = main;
    const before = await sql<{ n: bigint }>`select count(*) as n from clicks`.execute(api.database.db);
    for (const path of ['/c/nosuchcd', '/c/%E2%98%83', `/c/${'x'.repeat(200)}`]) {
      const r = await api.call('GET', path, { headers: { 'user-agent': CHROME } });
      expect(r.status, path).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
    expect((await api.call('HEAD', '/c/nosuchcd')).status).toBe(404);
    await flush(api);
    const after = await sql<{ n: bigint }>`select count(*) as n from clicks`.execute(api.database.db);
    expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
  });

  it('looks a hot link up once, not once per click', async () => {
    const { api } = main;
    const c = await campaign(main);
    const tracker = api.services.tracker as ClickTracker;
    const loads = tracker.stats.linkLoads;
    for (let i = 0; i < 5; i++) expect((await click(api, c.code, { ip: `198.51.100.${i}` })).status).toBe(302);
    expect(tracker.stats.linkLoads).toBe(loads + 1);
    await flush(api);
  });
});

describe('flags', () => {
  it('records bots, HEAD requests and repeats with their flag, and pays only valid clicks', async () => {
    const { api } = main;
    const c = await campaign(main);
    const expected: Array<[ApiResponse, string]> = [];
    const send = async (status: string, o: Parameters<typeof click>[2]) => {
      const r = await click(api, c.code, o);
      expect(r.status).toBe(302);
      expected.push([r, status]);
    };
    await send('bot', { ip: '192.0.2.1', ua: 'curl/8.5.0' });
    await send('bot', { ip: '192.0.2.2', ua: HEADLESS });
    await send('bot', { ip: '192.0.2.3', ua: null });
    await send('head', { ip: '192.0.2.4', method: 'HEAD' });
    await send('valid', { ip: '192.0.2.5' });
    await send('repeat', { ip: '192.0.2.5' });
    await send('valid', { ip: '192.0.2.5', ua: SAFARI }); // another browser on the same IP is another visitor
    await send('repeat', { ip: '192.0.2.5', ua: SAFARI });
    await send('datacenter', { ip: '3.5.140.9' }); // an AWS address (the shipped ranges)
    await send('datacenter', { ip: '::ffff:3.5.140.10' });
    expect(expected[3]?.[0].headers.get('location')).toMatch(/ern_cid=clk_/);
    await flush(api);

    const rows = await clicksOf(api, c.id);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const [response, status] of expected) {
      const id = clickIdIn(response.headers.get('location'));
      expect(byId.get(id)?.status, status).toBe(status);
      expect(byId.get(id)?.result_id === null, status).toBe(status !== 'valid');
    }
    const results = await resultsOf(main, c.id);
    expect(results.map((r) => r.status)).toEqual(['pending', 'pending']);
    expect(new Set(results.map((r) => r.source_id))).toEqual(new Set(rows.filter((r) => r.status === 'valid').map((r) => r.id)));
    expect((await escrowOf(main, c.id)).escrow.held.amount).toBe('1.00');
  });

  it('flags clicks from paid ads on a campaign that forbids paid traffic, and pays them where it is allowed', async () => {
    const { api } = main;
    const forbidden = await campaign(main, { validation: { paid_traffic: 'forbidden' } } as never);
    const allowed = await campaign(main);
    const sent: Array<[ApiResponse, string]> = [];
    const visit = async (code: string, query: string, ip: string, status: string) => {
      const r = await api.call('GET', `/c/${code}${query}`, { headers: { 'x-forwarded-for': ip, 'user-agent': CHROME } });
      expect(r.status).toBe(302);
      expect(r.headers.get('location')).not.toContain('gclid'); // the redirect's landing URL is the campaign's own
      sent.push([r, status]);
    };
    await visit(forbidden.code, '?gclid=EAIaIQobChMI', '192.0.2.60', 'paid_ad');
    await visit(forbidden.code, '?utm_source=ig&fbclid=IwAR0', '192.0.2.61', 'paid_ad');
    await visit(forbidden.code, '?fbclid=', '192.0.2.62', 'valid'); // an empty id is no ad click
    await visit(forbidden.code, '?utm_source=newsletter', '192.0.2.63', 'valid');
    await visit(allowed.code, '?gclid=EAIaIQobChMI', '192.0.2.64', 'valid');
    await flush(api);
    const rows = new Map([...(await clicksOf(api, forbidden.id)), ...(await clicksOf(api, allowed.id))].map((r) => [r.id, r]));
    for (const [r, status] of sent) expect(rows.get(clickIdIn(r.headers.get('location')))?.status, status).toBe(status);
    expect((await resultsOf(main, forbidden.id)).length).toBe(2);
  });

  it('pays no conversion that came through a data-centre or paid-ad click', async () => {
    const { api } = main;
    const c = await campaign(main, { objective: 'cpl', validation: { paid_traffic: 'forbidden' } } as never);
    const fromCloud = await click(api, c.code, { ip: '3.5.140.11' });
    const fromAd = await api.call('GET', `/c/${c.code}?gclid=abc`, { headers: { 'x-forwarded-for': '192.0.2.70', 'user-agent': CHROME } });
    await flush(api);
    const later = new Date(Date.now() + 60_000).toISOString();
    const post = (externalId: string, clickId: string) =>
      api.call('POST', '/v1/conversions', {
        key: main.brand,
        body: { external_id: externalId, type: 'lead', click_id: clickId, occurred_at: later, customer: { id: externalId, email: `${externalId}@customers.example` } },
      });
    const cloud = await post('dc-lead', clickIdIn(fromCloud.headers.get('location')));
    const ad = await post('ad-lead', clickIdIn(fromAd.headers.get('location')));
    expect(cloud.status, JSON.stringify(cloud.body)).toBe(201);
    expect([cloud.body.status, cloud.body.result.reasons]).toEqual(['rejected', expect.arrayContaining(['datacenter_click'])]);
    expect([ad.body.status, ad.body.result.reasons]).toEqual(['rejected', expect.arrayContaining(['paid_ad_click'])]);
  });

  it('finds repeats against clicks already written, within an hour of the valid one', async () => {
    const { api } = main;
    const c = await campaign(main);
    const visitor = { ip: '192.0.2.77', ua: SAFARI };
    await click(api, c.code, visitor);
    await flush(api);
    await click(api, c.code, visitor);
    await flush(api);
    await advanceClock(api.database.db, 59 * 60);
    await click(api, c.code, visitor);
    await flush(api);
    await advanceClock(api.database.db, 2 * 60);
    await click(api, c.code, visitor);
    await flush(api);
    expect((await clicksOf(api, c.id)).map((r) => r.status)).toEqual(['valid', 'repeat', 'repeat', 'valid']);
    expect((await resultsOf(main, c.id)).length).toBe(2);
  });
});

describe('CPC', () => {
  it('turns each valid click into a pending result with its hold once written', async () => {
    const { api } = main;
    const c = await campaign(main, { rate: '0.50', budget: '10.00' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(clickIdIn((await click(api, c.code, { ip: `198.51.100.${20 + i}` })).headers.get('location')));
    expect((await escrowOf(main, c.id)).escrow.held.amount).toBe('0.00');
    await flush(api);

    const view = await escrowOf(main, c.id);
    expect(view.escrow.held.amount).toBe('1.50');
    expect(view.escrow.available.amount).toBe('8.50');
    const results = await resultsOf(main, c.id);
    expect(results).toHaveLength(3);
    const rows = await clicksOf(api, c.id);
    for (const row of rows) {
      const result = results.find((r) => r.id === row.result_id);
      expect(result).toMatchObject({ kind: 'click', source_id: row.id, status: 'pending' });
      expect(new Date(result?.occurred_at as string).getTime()).toBe(new Date(row.occurred_at).getTime());
      expect(row.billable).toBe(true);
    }
    expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
  });

  it("pays a click at the rate override for the visitor's country, the base rate elsewhere", async () => {
    const { api } = main;
    const c = await campaign(main, { rate: '0.50', budget: '10.00', incentives: { rate_overrides: [{ match: { country: ['DE'] }, rate: '0.80' }] } } as never);
    await click(api, c.code, { ip: '198.51.100.60', headers: { 'cf-ipcountry': 'DE' } });
    await click(api, c.code, { ip: '198.51.100.61', headers: { 'cf-ipcountry': 'FR' } });
    await flush(api);
    expect((await escrowOf(main, c.id)).escrow.held.amount).toBe('1.30');
  });

  it('records no result for clicks of a campaign that pays for something else', async () => {
    const { api } = main;
    const c = await campaign(main, { objective: 'cpl', rate: '2.00' });
    await click(api, c.code, { ip: '198.51.100.40' });
    await flush(api);
    expect((await clicksOf(api, c.id)).map((r) => [r.status, r.result_id, r.billable])).toEqual([['valid', null, false]]);
    expect(await resultsOf(main, c.id)).toEqual([]);
  });

  it('still redirects on a paused or ended campaign; those clicks become rejected results with no hold', async () => {
    const { api, brand } = main;
    const c = await campaign(main);
    expect((await api.call('POST', `/v1/campaigns/${c.id}/pause`, { key: brand, body: {} })).body.status).toBe('paused');
    expect((await click(api, c.code, { ip: '198.51.100.50' })).status).toBe(302);
    await flush(api);
    expect((await api.call('POST', `/v1/campaigns/${c.id}/end`, { key: brand, body: {} })).body.status).toBe('ended');
    expect((await click(api, c.code, { ip: '198.51.100.51' })).status).toBe(302);
    await flush(api);

    expect((await clicksOf(api, c.id)).map((r) => r.status)).toEqual(['valid', 'valid']);
    const results = await resultsOf(main, c.id);
    expect(results.map((r) => [r.status, r.reasons])).toEqual([
      ['rejected', ['campaign_ended']], // newest first
      ['rejected', ['campaign_paused']],
    ]);
    expect((await escrowOf(main, c.id)).escrow.held.amount).toBe('0.00');
  });

  it('pauses the campaign when its escrow cannot hold another click', async () => {
    const { api } = main;
    const c = await campaign(main, { rate: '0.40', budget: '1.00' });
    for (let i = 0; i < 3; i++) await click(api, c.code, { ip: `198.51.100.${60 + i}` });
    await flush(api);
    const results = await resultsOf(main, c.id);
    expect(results.map((r) => r.status).sort()).toEqual(['awaiting_funds', 'pending', 'pending']);
    const view = await escrowOf(main, c.id);
    expect(view).toMatchObject({ status: 'paused', paused_reason: 'over_budget' });
    expect(view.escrow.held.amount).toBe('0.80');
    expect((await click(api, c.code, { ip: '198.51.100.70' })).status).toBe(302);
    await flush(api);
  });
});

describe('GET /v1/clicks', () => {
  it("shows a brand its campaigns' clicks, a creator their own, operators all, page by page", async () => {
    const { api } = main;
    const other = await tenants(api, 'Other Brand');
    const mine = await campaign(main);
    const theirs = await campaign(other);
    for (let i = 0; i < 3; i++) await click(api, mine.code, { ip: `198.51.100.${80 + i}` });
    await click(api, theirs.code, { ip: '198.51.100.90' });
    await flush(api);

    const campaignsOf = async (key: string, query = '') =>
      new Set(((await api.call('GET', `/v1/clicks?limit=100${query}`, { key })).body.data as Array<{ campaign_id: string }>).map((x) => x.campaign_id));
    expect((await campaignsOf(main.brand)).has(theirs.id)).toBe(false);
    expect((await campaignsOf(other.brand))).toEqual(new Set([theirs.id]));
    expect((await campaignsOf(other.creator))).toEqual(new Set([theirs.id]));
    expect((await campaignsOf(api.operatorKey)).has(theirs.id)).toBe(true);
    expect((await campaignsOf(api.operatorKey)).has(mine.id)).toBe(true);
    expect((await api.call('GET', `/v1/clicks?campaign_id=${theirs.id}`, { key: main.brand })).body.data).toEqual([]);

    const first = await api.call('GET', `/v1/clicks?campaign_id=${mine.id}&limit=2`, { key: main.brand });
    expect(first.body).toMatchObject({ has_more: true });
    expect(first.body.data).toHaveLength(2);
    const second = await api.call('GET', `/v1/clicks?campaign_id=${mine.id}&limit=2&after=${first.body.next_after}`, { key: main.brand });
    expect(second.body.data).toHaveLength(1);
    expect(second.body).toMatchObject({ has_more: false, next_after: null });
    expect(second.body.data[0].id).not.toBe(first.body.data[1].id);
    const valid = await api.call('GET', `/v1/clicks?campaign_id=${mine.id}&status=valid`, { key: main.brand });
    expect(valid.body.data).toHaveLength(3);
    expect((await api.call('GET', '/v1/clicks')).status).toBe(401);
    expect((await api.call('GET', '/v1/clicks?status=weird', { key: main.brand })).status).toBe(400);
  });
});

const visit = (ip: string, ua = CHROME): Visit => ({ method: 'GET', ip, userAgent: ua, referrer: null, country: null, visitorId: null, adClickParam: null });

describe('two processes on one database', () => {
  it('hash IPs alike and find repeats across each other, whichever writes first', async () => {
    const { api } = main;
    const c = await campaign(main);
    const here = api.services.tracker as ClickTracker;
    const there = new ClickTracker(api.database.db, { flushIntervalMs: 60_000, logger: silent, recordClickResults });
    try {
      const ids: string[] = [];
      ids.push(clickIdIn(await here.track(c.code, visit('192.0.2.200'))));
      await here.flush();
      ids.push(clickIdIn(await there.track(c.code, visit('192.0.2.200'))));
      await there.flush();
      // The other process accepts first but writes last: its earlier click is the repeat.
      ids.push(clickIdIn(await there.track(c.code, visit('192.0.2.201'))));
      ids.push(clickIdIn(await here.track(c.code, visit('192.0.2.201'))));
      await here.flush();
      await there.flush();
      const rows = new Map((await clicksOf(api, c.id)).map((r) => [r.id, r]));
      expect(ids.map((id) => rows.get(id)?.status)).toEqual(['valid', 'repeat', 'repeat', 'valid']);
      expect(rows.get(ids[0] as string)?.ip_hash).toBe(rows.get(ids[1] as string)?.ip_hash);
      expect((await resultsOf(main, c.id)).length).toBe(2);
    } finally {
      await there.stop();
    }
  });

  it('record at start the results of billable clicks written by a process that died before recording them', async () => {
    const { api } = main;
    const c = await campaign(main);
    const [enrolment] = (await sql<{ id: string; creator_id: string }>`select id, creator_id from enrolments where link_code = ${c.code}`.execute(api.database.db)).rows;
    await sql`insert into clicks (id, enrolment_id, campaign_id, creator_id, occurred_at, ip_hash, status, billable)
      values ('clk_orphan00000000000000000001', ${enrolment?.id}, ${c.id}, ${enrolment?.creator_id}, now(), 'x', 'valid', true)`.execute(api.database.db);
    const restarted = new ClickTracker(api.database.db, { flushIntervalMs: 60_000, logger: silent, recordClickResults });
    await restarted.stop();
    const [row] = await clicksOf(api, c.id);
    const results = await resultsOf(main, c.id);
    expect(results).toEqual([expect.objectContaining({ id: row?.result_id, source_id: 'clk_orphan00000000000000000001', status: 'pending' })]);
    expect((await escrowOf(main, c.id)).escrow.held.amount).toBe('0.50');
  });
});

describe('backpressure', () => {
  it('makes clicks wait for room when the buffer is full, and drops none', async () => {
    const { api } = main;
    const c = await campaign(main, { objective: 'cpl', rate: '1.00' });
    const small = new ClickTracker(api.database.db, { flushIntervalMs: 60_000, logger: silent, recordClickResults, capacity: 5, batchSize: 2 });
    try {
      const clicks = Array.from({ length: 30 }, (_, i) => small.track(c.code, visit(`10.9.0.${i}`)));
      // No timer runs (the tracker was not started): only the full buffer's own writes let them in.
      const locations = await Promise.all(clicks);
      expect(new Set(locations).size).toBe(30);
      expect(small.stats.written).toBeGreaterThanOrEqual(25);
      await small.flush();
      expect(await clicksOf(api, c.id)).toHaveLength(30);
    } finally {
      await small.stop();
    }
  });
});

describe('a database that refuses writes', () => {
  it('keeps the clicks buffered and writes them once it accepts again', async () => {
    const { api } = main;
    const c = await campaign(main, { objective: 'cpl', rate: '1.00' });
    const t = new ClickTracker(api.database.db, { flushIntervalMs: 60_000, logger: silent, recordClickResults });
    try {
      await t.track(c.code, visit('10.8.0.1'));
      await t.track(c.code, visit('10.8.0.2'));
      await sql`alter table clicks add constraint refuse_all check (false) not valid`.execute(api.database.db);
      try {
        await expect(t.flush()).rejects.toThrow(/refuse_all/);
        expect(t.stats.buffered).toBe(2);
      } finally {
        await sql`alter table clicks drop constraint refuse_all`.execute(api.database.db);
      }
      await t.flush();
      expect(t.stats.buffered).toBe(0);
      expect(await clicksOf(api, c.id)).toHaveLength(2);
    } finally {
      await t.stop();
    }
  });
});

describe('a click the database refuses even alone', () => {
  it('never holds up the others and is never dropped: it waits behind them and is written once accepted', async () => {
    const { api } = main;
    const c = await campaign(main, { objective: 'cpl', rate: '1.00' });
    const t = new ClickTracker(api.database.db, { flushIntervalMs: 60_000, logger: silent, recordClickResults });
    try {
      await t.track(c.code, visit('10.9.0.1'));
      await t.track(c.code, visit('10.9.0.2', 'Refused/1.0'));
      await t.track(c.code, visit('10.9.0.3'));
      await sql`alter table clicks add constraint refuse_one check (user_agent <> 'Refused/1.0') not valid`.execute(api.database.db);
      try {
        // The two others are written; the refused one stays, and the flush says so.
        await expect(t.flush()).rejects.toThrow(/refuse_one/);
        expect(await clicksOf(api, c.id)).toHaveLength(2);
        expect(t.stats).toMatchObject({ buffered: 1, refused: 1 });
        // Later clicks are written past it.
        await t.track(c.code, visit('10.9.0.4'));
        await expect(t.flush()).rejects.toThrow(/refuse_one/);
        expect(await clicksOf(api, c.id)).toHaveLength(3);
        expect(t.stats.buffered).toBe(1);
      } finally {
        await sql`alter table clicks drop constraint refuse_one`.execute(api.database.db);
      }
      await t.flush();
      expect(t.stats).toMatchObject({ buffered: 0, refused: 0 });
      expect(await clicksOf(api, c.id)).toHaveLength(4);
    } finally {
      await t.stop();
    }
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After past the per-IP budget, and records only the clicks it answered', async () => {
    const api = await startTestApi({ RATE_LIMIT_CLICKS_PER_MIN: '2', TRUST_PROXY: 'true', CLICK_FLUSH_INTERVAL_MS: '60000' });
    try {
      const s = await tenants(api, 'Limited');
      const c = await campaign(s);
      expect((await click(api, c.code, { ip: '192.0.2.10' })).status).toBe(302);
      expect((await click(api, c.code, { ip: '192.0.2.10' })).status).toBe(302);
      const limited = await click(api, c.code, { ip: '192.0.2.10' });
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('rate_limited');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(limited.headers.get('ratelimit-limit')).toBeNull(); // the public redirect: Retry-After only
      expect((await click(api, c.code, { ip: '192.0.2.11' })).status).toBe(302); // its own bucket per IP
      await flush(api);
      expect(await clicksOf(api, c.id)).toHaveLength(3);
    } finally {
      await api.close();
    }
  });
});

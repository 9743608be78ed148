import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger } from '../ledger/index.js';
import { recordVerifiedViewResults } from '../flows/index.js';
import { VIEW_BEACON_LIMITS } from './index.js';
import { BROWSER_AGENT, createBrand, createCreator, expectError, launchCampaign, type Launched, type Party } from '../../test/support/conversions.js';
import { startTestApi, type TestApi } from '../../test/support/api.js';

/**
 * Viewability beacons end to end over real HTTP, on both engines: POST /b/view → the view buffer → the
 * writer (attribution to the newest CPM click, the click rules, one view per visitor+element+enrolment)
 * → the verified-views job → 'views' results, held and settled like every result.
 */
let api: TestApi;
let brand: Party;
let creator: Party;
let cpm: Launched;
let cpl: Launched;
let cpmClick: string;
let cplClick: string;

const db = () => api.database.db;
const HUMAN = '192.0.2.10';

async function click(campaign: Launched, ip = HUMAN): Promise<string> {
  const code = (await sql<{ link_code: string }>`select link_code from enrolments where id = ${campaign.enrolmentId}`.execute(db())).rows[0]?.link_code;
  const r = await api.call('GET', `/c/${code}`, { headers: { 'x-forwarded-for': ip, 'user-agent': BROWSER_AGENT } });
  expect(r.status).toBe(302);
  return new URL(r.headers.get('location') as string).searchParams.get('ern_cid') as string;
}

function beacon(body: unknown, o: { ip?: string; userAgent?: string; type?: string } = {}) {
  return api.call('POST', '/b/view', {
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': o.type ?? 'text/plain;charset=UTF-8', 'x-forwarded-for': o.ip ?? HUMAN, 'user-agent': o.userAgent ?? BROWSER_AGENT },
  });
}

async function views(): Promise<Array<{ element: string; status: string; click_id: string; enrolment_id: string; batch_id: string | null }>> {
  await api.services.views?.flush();
  const r = await sql<{ element: string; status: string; click_id: string; enrolment_id: string; batch_id: string | null }>`
    select element, status, click_id, enrolment_id, batch_id from verified_views order by id`.execute(db());
  return r.rows;
}

beforeAll(async () => {
  api = await startTestApi({ TRUST_PROXY: 'true', CLICK_FLUSH_INTERVAL_MS: '60000' });
  brand = await createBrand(api, 'Acme');
  creator = await createCreator(api, 'ada@creators.example');
  cpm = await launchCampaign(api, brand, creator, { objective: 'cpm', rate: '10.00', budget: '100.00', hold_days: 0 });
  cpl = await launchCampaign(api, brand, creator, { objective: 'cpl', rate: '1.00', budget: '10.00' });
  cplClick = await click(cpl);
  cpmClick = await click(cpm);
  await api.services.tracker?.flush();
});

afterAll(async () => {
  await api?.close();
});

describe('POST /b/view', () => {
  it('answers 202 at once, with CORS, and the writer stores the view credited to the newest CPM click', async () => {
    const r = await beacon({ click_ids: [cpmClick, cplClick], element: 'hero', kind: 'video', visible_ms: 2000, page_url: 'https://shop.example/p' });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    // Nothing is written before the writer runs (the flush interval is a minute here).
    expect((await sql`select 1 from verified_views`.execute(db())).rows).toHaveLength(0);
    expect(await views()).toEqual([{ element: 'hero', status: 'valid', click_id: cpmClick, enrolment_id: cpm.enrolmentId, batch_id: null }]);
  });

  it('keeps one view per visitor, element and enrolment; another element or visitor is another view', async () => {
    const again = { click_ids: [cpmClick], element: 'hero', kind: 'video', visible_ms: 2600 };
    expect((await beacon(again)).status).toBe(202);
    expect((await beacon(again)).status).toBe(202);
    expect((await beacon({ ...again, element: 'banner', kind: 'display', visible_ms: 1000 })).status).toBe(202);
    expect((await beacon(again, { ip: '192.0.2.11' })).status).toBe(202);
    const stored = await views();
    expect(stored.map((v) => [v.element, v.status])).toEqual([['hero', 'valid'], ['banner', 'valid'], ['hero', 'valid']]);
    expect(api.services.views?.stats.duplicates).toBe(2);
  });

  it('stores views of a bot, a data-centre address or a flagged click as flagged (never paid)', async () => {
    const body = { click_ids: [cpmClick], element: 'flagged', kind: 'display', visible_ms: 1000 };
    await beacon(body, { userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', ip: '192.0.2.20' });
    await beacon(body, { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0 Safari/537.36', ip: '192.0.2.21' });
    await beacon(body, { ip: '3.5.140.9' }); // an AWS address (the shipped ranges)
    const botClick = await (async () => {
      const code = (await sql<{ link_code: string }>`select link_code from enrolments where id = ${cpm.enrolmentId}`.execute(db())).rows[0]?.link_code;
      const r = await api.call('GET', `/c/${code}`, { headers: { 'x-forwarded-for': '192.0.2.30', 'user-agent': 'curl/8.5.0' } });
      return new URL(r.headers.get('location') as string).searchParams.get('ern_cid') as string;
    })();
    await api.services.tracker?.flush();
    await beacon({ ...body, click_ids: [botClick] }, { ip: '192.0.2.31' });
    const flagged = (await views()).filter((v) => v.element === 'flagged').map((v) => v.status);
    expect(flagged).toEqual(['bot', 'bot', 'datacenter', 'click_flagged']);
  });

  it('credits nothing for click ids that are no clicks, or no CPM campaign, or another campaign than the element names', async () => {
    const before = (await views()).length;
    const unattributed = api.services.views?.stats.unattributed ?? 0;
    await beacon({ click_ids: ['clk_00000000000000000000000000'], element: 'x', kind: 'display', visible_ms: 1000 });
    await beacon({ click_ids: [cplClick], element: 'x', kind: 'display', visible_ms: 1000 });
    await beacon({ click_ids: [cpmClick], element: 'x', kind: 'display', visible_ms: 1000, campaign_id: cpl.id });
    expect((await views()).length).toBe(before);
    expect(api.services.views?.stats.unattributed).toBe(unattributed + 3);
  });

  it('refuses bad input with coded 4xx answers, storing nothing', async () => {
    const ok = { click_ids: [cpmClick], element: 'bad', kind: 'video', visible_ms: 2000 };
    expectError(await beacon('{not json'), 400, 'invalid_request', 'body');
    expectError(await beacon({ ...ok, visible_ms: 1999 }), 400, 'invalid_request', 'visible_ms');
    expectError(await beacon({ ...ok, kind: 'audio' }), 400, 'invalid_request', 'kind');
    expectError(await beacon({ ...ok, click_ids: ['nope'] }), 400, 'invalid_request', 'click_ids.0');
    expectError(await beacon({ ...ok, click_ids: [] }), 400, 'invalid_request', 'click_ids');
    expectError(await beacon({ ...ok, extra: 1 }), 400, 'invalid_request', 'body');
    expectError(await beacon({ ...ok, element: 'bad\u0000' }), 400, 'invalid_request');
    expectError(await beacon({ ...ok, page_url: 'x'.repeat(VIEW_BEACON_LIMITS.body_bytes_max) }), 413, 'payload_too_large');
    expectError(await beacon(ok, { type: 'image/png' }), 415, 'unsupported_media_type');
    expect((await beacon(ok, { type: 'application/json' })).status).toBe(202);
    expect((await api.call('GET', '/b/view')).status).toBe(405);
    const preflight = await fetch(`${api.url}/b/view`, { method: 'OPTIONS' });
    expect([preflight.status, preflight.headers.get('access-control-allow-methods')]).toEqual([204, 'POST']);
    expect((await views()).filter((v) => v.element === 'bad')).toHaveLength(1); // only the application/json one
  });

  it('isolates a view the database refuses: the others of its batch are written', async () => {
    const tracker = api.services.views;
    const good = { click_ids: [cpmClick], kind: 'display' as const, visible_ms: 1000 };
    const refused = tracker?.stats.refused ?? 0;
    // Past the shape check (the endpoint refuses this), so only the table's check constraint catches it.
    tracker?.accept({ ...good, element: 'iso-1' }, { ip: '192.0.2.40', userAgent: BROWSER_AGENT });
    tracker?.accept({ ...good, element: 'x'.repeat(101) }, { ip: '192.0.2.40', userAgent: BROWSER_AGENT });
    tracker?.accept({ ...good, element: 'iso-2' }, { ip: '192.0.2.40', userAgent: BROWSER_AGENT });
    const stored = (await views()).map((v) => v.element);
    expect(stored).toEqual(expect.arrayContaining(['iso-1', 'iso-2']));
    expect(stored.some((e) => e.length > 100)).toBe(false);
    expect(tracker?.stats.refused).toBe(refused + 1);
    expect(tracker?.stats.buffered).toBe(0);
  });
});

describe('verified views become results', () => {
  it('waits while few views are young, then records one views result for all of them, paid rate × views / 1,000', async () => {
    const valid = (await views()).filter((v) => v.status === 'valid' && v.enrolment_id === cpm.enrolmentId);
    expect(valid.length).toBe(6); // hero ×2 visitors, banner, bad, iso-1, iso-2
    expect(await recordVerifiedViewResults(db())).toEqual({ batched: 0, recorded: 0 });
    expect(await recordVerifiedViewResults(db(), { ageMaxMs: 0 })).toEqual({ batched: 1, recorded: 1 });
    const results = await api.call('GET', `/v1/results?campaign_id=${cpm.id}`, { key: brand.key });
    expect(results.status, JSON.stringify(results.body)).toBe(200);
    expect(results.body.data).toHaveLength(1);
    // 10.00 per 1,000 × 6 views = 0.06
    expect(results.body.data[0]).toMatchObject({ kind: 'views', status: 'pending', payout: { amount: '0.06' } });
    const batch = (await sql<{ id: string; views: string; result_id: string }>`select id, views, result_id from verified_view_batches`.execute(db())).rows;
    expect(batch).toEqual([{ id: results.body.data[0].source_id, views: expect.anything(), result_id: results.body.data[0].id }]);
    expect(Number(batch[0]?.views)).toBe(6);
    expect((await views()).filter((v) => v.status === 'valid').every((v) => v.batch_id === batch[0]?.id)).toBe(true);
    expect((await views()).filter((v) => v.status !== 'valid').every((v) => v.batch_id === null)).toBe(true);
    expect(await recordVerifiedViewResults(db(), { ageMaxMs: 0 })).toEqual({ batched: 0, recorded: 0 });
  });

  it('records the result of a batch left without one (a crash in between) once, on the next run', async () => {
    await sql`update verified_view_batches set result_id = null`.execute(db());
    expect(await recordVerifiedViewResults(db())).toEqual({ batched: 0, recorded: 1 });
    const results = await api.call('GET', `/v1/results?campaign_id=${cpm.id}`, { key: brand.key });
    expect(results.body.data).toHaveLength(1);
    expect((await sql`select 1 from verified_view_batches where result_id is null`.execute(db())).rows).toHaveLength(0);
  });

  it('takes 1,000 waiting views at once, even young ones: views after a batch make a batch of their own', async () => {
    await sql`insert into verified_views (id, enrolment_id, campaign_id, creator_id, click_id, element, kind, visitor_key, ip_hash,
        user_agent, visible_ms, occurred_at, status)
      select 'vw_bulk' || lpad(g::text, 6, '0'), ${cpm.enrolmentId}, ${cpm.id}, ${creator.id}, ${cpmClick}, 'bulk', 'display', 'v' || g,
        'ip' || g, ${BROWSER_AGENT}, 1000, earnest_now(), 'valid'
      from generate_series(1, 1000) g`.execute(db());
    expect(await recordVerifiedViewResults(db())).toEqual({ batched: 1, recorded: 1 });
    const results = await api.call('GET', `/v1/results?campaign_id=${cpm.id}`, { key: brand.key });
    expect(results.body.data.map((r: { payout: { amount: string } }) => r.payout.amount).sort()).toEqual(['0.06', '10.00']);
  });

  it('are settled like every result once their hold period has passed, and the ledger balances', async () => {
    const run = await api.call('POST', '/v1/settlement/run', { key: api.operatorKey, body: {} });
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    const results = await api.call('GET', `/v1/results?campaign_id=${cpm.id}`, { key: brand.key });
    expect(results.body.data.map((r: { status: string }) => r.status)).toEqual(['approved', 'approved']);
    const balance = await api.call('GET', '/v1/me/balance', { key: creator.key });
    // 10.06 less the 20 % fee
    expect(balance.body.data[0].available.amount).toBe('8.05');
    const check = await checkLedger(db());
    expect(check.problems).toEqual([]);
    expect(check.mismatches).toBe(0);
  });
});

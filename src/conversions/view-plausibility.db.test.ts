import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolmentById } from '../campaigns/index.js';
import { importViewInsights } from './index.js';
import { databaseNow } from '../db/index.js';
import type { PlatformInsights } from '../insights/index.js';
import { createBrand, createCreator, expectError, type Launched, launchCampaign, type Party } from '../../test/support/conversions.js';
import { startTestApi, type TestApi } from '../../test/support/api.js';

/**
 * View reports judged at submission (src/validation/views), held in review until an operator clears
 * them or official insights verify them, and insights imported per enrolment — over real HTTP, on both engines.
 */
let api: TestApi;
let brand: Party;
let otherBrand: Party;
let today: string;
let n = 0;

beforeAll(async () => {
  api = await startTestApi();
  brand = await createBrand(api, 'Acme');
  otherBrand = await createBrand(api, 'Other');
  today = (await databaseNow(api.database.db)).toISOString().slice(0, 10);
});

afterAll(async () => {
  await api?.close();
});

/** A creator of their own (so one test's reports are not another's history) in a CPM campaign. */
async function creatorInCampaign(terms: Record<string, unknown> = {}): Promise<{ creator: Party; cpm: Launched }> {
  const creator = await createCreator(api, `creator${++n}@creators.example`);
  const cpm = await launchCampaign(api, brand, creator, { objective: 'cpm', rate: '2.50', budget: '5000.00', ...terms });
  return { creator, cpm };
}

function report(creator: Party, cpm: Launched, body: Record<string, unknown>) {
  return api.call('POST', '/v1/views', { key: creator.key, body: { campaign_id: cpm.id, evidence_url: 'https://social.example/p/1', ...body } });
}

function upload(key: string, cpm: Launched, csv: string, platform?: string) {
  return api.call('POST', `/v1/campaigns/${cpm.id}/enrolments/${cpm.enrolmentId}/insights`, { key, body: { csv, ...(platform ? { platform } : {}) } });
}

const csvOf = (...rows: string[]) => ['platform,post_id,post_url,date,views', ...rows].join('\n');

describe('a report with nothing but its views', () => {
  it('is submitted, with no reasons, however large: missing optional data is no evidence', async () => {
    const { creator, cpm } = await creatorInCampaign();
    for (const views of [48_213, 987_654_321]) {
      const r = await report(creator, cpm, { views, platform: 'instagram' });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body).toMatchObject({ status: 'submitted', reasons: [], findings: [], verified_at: null, cleared_by: null, platform: 'instagram' });
    }
  });
});

describe('declared followers', () => {
  it('are declared by the creator (or an operator), listed and withdrawn; never by a brand or another creator', async () => {
    const { creator } = await creatorInCampaign();
    const other = await createCreator(api, `other${++n}@creators.example`);
    const put = await api.call('PUT', `/v1/creators/${creator.id}/platforms/tiktok`, { key: creator.key, body: { followers: 1200 } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toMatchObject({ creator_id: creator.id, platform: 'tiktok', followers: 1200 });
    expect((await api.call('PUT', `/v1/creators/${creator.id}/platforms/youtube`, { key: api.operatorKey, body: { followers: 50 } })).status).toBe(200);
    const list = await api.call('GET', `/v1/creators/${creator.id}/platforms`, { key: creator.key });
    expect(list.body.data.map((p: { platform: string; followers: number }) => [p.platform, p.followers])).toEqual([
      ['tiktok', 1200],
      ['youtube', 50],
    ]);
    expectError(await api.call('PUT', `/v1/creators/${creator.id}/platforms/tiktok`, { key: brand.key, body: { followers: 1 } }), 403, 'forbidden');
    expectError(await api.call('PUT', `/v1/creators/${creator.id}/platforms/tiktok`, { key: other.key, body: { followers: 1 } }), 404, 'not_found');
    expectError(await api.call('PUT', `/v1/creators/${creator.id}/platforms/Tik%20Tok`, { key: creator.key, body: { followers: 1 } }), 400, 'invalid_request');
    expectError(await api.call('PUT', `/v1/creators/${creator.id}/platforms/tiktok`, { key: creator.key, body: { followers: -1 } }), 400, 'invalid_request');
    const left = await api.call('DELETE', `/v1/creators/${creator.id}/platforms/youtube`, { key: creator.key });
    expect(left.body.data.map((p: { platform: string }) => p.platform)).toEqual(['tiktok']);
    expectError(await api.call('DELETE', `/v1/creators/${creator.id}/platforms/youtube`, { key: creator.key }), 404, 'not_found');
  });
});

describe('a doubted report', () => {
  let creator: Party;
  let cpm: Launched;
  let doubted: { id: string };

  beforeAll(async () => {
    ({ creator, cpm } = await creatorInCampaign());
    await api.call('PUT', `/v1/creators/${creator.id}/platforms/tiktok`, { key: creator.key, body: { followers: 1000 } });
  });

  it('goes to review with its reasons, shown to the creator and the brand', async () => {
    const r = await report(creator, cpm, { views: 120_001, platform: 'tiktok', post_id: 'v1' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ status: 'in_review', reasons: ['views_exceed_followers'] });
    expect(r.body.findings[0].detail).toBe('120,001 views is 120 × the 1,000 followers declared on tiktok (limit 50 ×)');
    doubted = r.body;
    const mine = await api.call('GET', `/v1/views/${doubted.id}`, { key: creator.key });
    const brands = await api.call('GET', `/v1/views?status=in_review&campaign_id=${cpm.id}`, { key: brand.key });
    expect(mine.body.reasons).toEqual(['views_exceed_followers']);
    expect(brands.body.data.map((v: { id: string }) => v.id)).toEqual([doubted.id]);
  });

  it('on another platform, or under 50 × its followers, is not doubted', async () => {
    expect((await report(creator, cpm, { views: 120_001, platform: 'instagram' })).body.status).toBe('submitted');
    expect((await report(creator, cpm, { views: 50_000 - 7, platform: 'tiktok' })).body.status).toBe('submitted');
  });

  it('cannot be confirmed by the brand while in review', async () => {
    const refused = await api.call('POST', `/v1/views/${doubted.id}/confirm`, { key: brand.key });
    expectError(refused, 409, 'invalid_state');
    expect(refused.body.error.message).toContain('views_exceed_followers');
    expect((await api.call('GET', `/v1/views/${doubted.id}`, { key: brand.key })).body.result_id).toBeNull();
  });

  it('is cleared by an operator only, with a note; its reasons stay visible; then the brand confirms it', async () => {
    expectError(await api.call('POST', `/v1/views/${doubted.id}/clear`, { key: brand.key, body: { note: 'fine' } }), 403, 'forbidden');
    expectError(await api.call('POST', `/v1/views/${doubted.id}/clear`, { key: creator.key, body: { note: 'fine' } }), 403, 'forbidden');
    expectError(await api.call('POST', `/v1/views/${doubted.id}/clear`, { key: api.operatorKey, body: {} }), 400, 'invalid_request');
    const cleared = await api.call('POST', `/v1/views/${doubted.id}/clear`, { key: api.operatorKey, body: { note: 'the post went viral: checked the live count' } });
    expect(cleared.status, JSON.stringify(cleared.body)).toBe(200);
    expect(cleared.body).toMatchObject({ status: 'submitted', reasons: ['views_exceed_followers'], cleared_by: 'operator', clear_note: 'the post went viral: checked the live count' });
    const again = await api.call('POST', `/v1/views/${doubted.id}/clear`, { key: api.operatorKey, body: { note: 'again' } });
    expect(again.body).toEqual(cleared.body);
    const confirmed = await api.call('POST', `/v1/views/${doubted.id}/confirm`, { key: brand.key });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    expect(confirmed.body.result.payout.amount).toBe('300.00');
    expectError(await api.call('POST', `/v1/views/${doubted.id}/clear`, { key: api.operatorKey, body: { note: 'late' } }), 409, 'invalid_state');
  });

  it('may be rejected by the brand, or an operator, while in review', async () => {
    const a = await report(creator, cpm, { views: 200_003, platform: 'tiktok' });
    const b = await report(creator, cpm, { views: 200_009, platform: 'tiktok' });
    expect([a.body.status, b.body.status]).toEqual(['in_review', 'in_review']);
    expect((await api.call('POST', `/v1/views/${a.body.id}/reject`, { key: brand.key, body: { reason: 'implausible' } })).body.status).toBe('rejected');
    expect((await api.call('POST', `/v1/views/${b.body.id}/reject`, { key: api.operatorKey, body: { reason: 'implausible' } })).body.status).toBe('rejected');
    expectError(await api.call('POST', `/v1/views/${b.body.id}/reject`, { key: otherBrand.key, body: { reason: 'x_y' } }), 404, 'not_found');
  });
});

describe('the other rules at submission', () => {
  it('engagement: likes and comments far too few, or more than the views', async () => {
    const { creator, cpm } = await creatorInCampaign();
    expect((await report(creator, cpm, { views: 100_003, likes: 20, comments: 4 })).body.reasons).toEqual(['engagement_low']);
    expect((await report(creator, cpm, { views: 1_003, likes: 2_000 })).body.reasons).toEqual(['engagement_exceeds_views']);
    expect((await report(creator, cpm, { views: 100_003, likes: 2_100, comments: 40 })).body.reasons).toEqual([]);
  });

  it("velocity: views a day since the post far above the creator's own median", async () => {
    const { creator, cpm } = await creatorInCampaign();
    const now = await databaseNow(api.database.db);
    const ago = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();
    for (const [views, days] of [[10_001, 10], [20_003, 20], [30_007, 30]] as const) {
      expect((await report(creator, cpm, { views, posted_at: ago(days) })).body.status).toBe('submitted');
    }
    // ~1,000 a day is this creator's pace; 40,000 in a day is 40 ×.
    const spike = await report(creator, cpm, { views: 40_009, posted_at: ago(1) });
    expect(spike.body).toMatchObject({ status: 'in_review', reasons: ['view_velocity_high'] });
    expect((await report(creator, cpm, { views: 20_011, posted_at: ago(1) })).body.status).toBe('submitted');
    expect((await report(creator, cpm, { views: 40_009 })).body.status).toBe('submitted'); // no post time: no velocity
  });

  it('round numbers: exactly 100,000 with no export of the post', async () => {
    const { creator, cpm } = await creatorInCampaign();
    expect((await report(creator, cpm, { views: 100_000 })).body.reasons).toEqual(['views_round_number']);
    expect((await report(creator, cpm, { views: 100_017 })).body.reasons).toEqual([]);
  });

  it('follow the campaign’s settings (terms.validation.views), checked when the terms are written', async () => {
    const { creator, cpm } = await creatorInCampaign({ validation: { min_ctit_seconds: 10, dedupe_leads: true, self_referral: true, views: { round_numbers: { enabled: false } } } });
    expect((await report(creator, cpm, { views: 100_000 })).body.status).toBe('submitted');
    const bad = await api.call('POST', '/v1/campaigns', {
      key: brand.key,
      body: { name: 'bad', terms: { ...cpmTerms(), validation: { min_ctit_seconds: 10, dedupe_leads: true, self_referral: true, views: { folowers: {} } } } },
    });
    expectError(bad, 400, 'invalid_request');
    expect(bad.body.error.field).toContain('validation.views');
  });

  it('refuse a post time in the future, and replays that differ in the new fields', async () => {
    const { creator, cpm } = await creatorInCampaign();
    const later = new Date((await databaseNow(api.database.db)).getTime() + 86_400_000).toISOString();
    const future = await report(creator, cpm, { views: 10, posted_at: later });
    expectError(future, 400, 'invalid_request');
    expect(future.body.error.field).toBe('posted_at');
    const first = await report(creator, cpm, { external_id: 'w1', views: 10, likes: 3 });
    expect(first.status).toBe(201);
    const replay = await report(creator, cpm, { external_id: 'w1', views: 10, likes: 3 });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const conflict = await report(creator, cpm, { external_id: 'w1', views: 10, likes: 4 });
    expectError(conflict, 409, 'idempotency_conflict');
    expect(conflict.body.error.field).toBe('likes');
  });
});

function cpmTerms() {
  return { objective: 'cpm', rate: '2.50', budget: '10.00', currency: 'USD', destination_url: 'https://shop.example/', starts_at: '2026-01-01T00:00:00Z', ends_at: '2030-01-01T00:00:00Z', kpi_target: 1 };
}

describe('imported insights', () => {
  it("verify a report when the brand's export matches it: out of review, cleared by insights; the creator's own export verifies nothing", async () => {
    const { creator, cpm } = await creatorInCampaign();
    const r = await report(creator, cpm, { views: 100_000, platform: 'instagram', post_id: '991' });
    expect(r.body.reasons).toEqual(['views_round_number']);
    const own = await upload(creator.key, cpm, csvOf(`instagram,991,,${today},100212`));
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    expect(own.body).toMatchObject({ import: { trust: 'creator', uploaded_by: 'creator', row_count: 1, source: 'csv' }, reports: [] });
    expect((await api.call('GET', `/v1/views/${r.body.id}`, { key: brand.key })).body.status).toBe('in_review');
    const official = await upload(brand.key, cpm, csvOf(`instagram,991,,${today},98000`, `instagram,992,,${today},5`));
    expect(official.status, JSON.stringify(official.body)).toBe(201);
    expect(official.body.import).toMatchObject({ trust: 'official', uploaded_by: 'organization', row_count: 2 });
    expect(official.body.reports).toHaveLength(1);
    expect(official.body.reports[0]).toMatchObject({ id: r.body.id, status: 'submitted', reasons: ['views_round_number'], cleared_by: 'insights', insights_views: 98000 });
    expect(official.body.reports[0].verified_at).not.toBeNull();
    expect((await api.call('POST', `/v1/views/${r.body.id}/confirm`, { key: brand.key })).status).toBe(200);
  });

  it('make a later report of the post verified at once, or doubted when it claims more than the platform counted', async () => {
    const { creator, cpm } = await creatorInCampaign();
    await upload(brand.key, cpm, csvOf(`youtube,abc,https://video.example/abc,${today},4000`));
    const match = await report(creator, cpm, { views: 100_000 - 96_000, platform: 'youtube', post_id: 'abc' });
    expect(match.body).toMatchObject({ status: 'submitted', reasons: [], insights_views: 4000 });
    expect(match.body.verified_at).not.toBeNull();
    // Named only by its evidence link, which is the post_url of the insights.
    const byUrl = await report(creator, cpm, { views: 9_013, evidence_url: 'https://video.example/abc' });
    expect(byUrl.body).toMatchObject({ status: 'in_review', reasons: ['views_exceed_insights'], verified_at: null });
    expect(byUrl.body.findings[0].detail).toContain('show 4,000 in all');
  });

  it('send an open report back to review when official numbers show fewer views, even one an operator had cleared', async () => {
    const { creator, cpm } = await creatorInCampaign();
    const r = await report(creator, cpm, { views: 100_000, platform: 'x', post_id: 't1' });
    await api.call('POST', `/v1/views/${r.body.id}/clear`, { key: api.operatorKey, body: { note: 'looks fine' } });
    const imported = await upload(brand.key, cpm, 'post_id,date,views\nt1,' + today + ',51234\n', 'x');
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.reports[0]).toMatchObject({ status: 'in_review', reasons: ['views_exceed_insights', 'views_round_number'], cleared_by: null, insights_views: 51234 });
  });

  it('verify a report submitted while they are being imported, whichever commits first', async () => {
    const { creator, cpm } = await creatorInCampaign();
    for (let i = 0; i < 4; i++) {
      const [r] = await Promise.all([
        report(creator, cpm, { views: 100_000, platform: 'youtube', post_id: `race${i}` }),
        upload(brand.key, cpm, csvOf(`youtube,race${i},,${today},100321`)),
      ]);
      const now = await api.call('GET', `/v1/views/${r.body.id}`, { key: brand.key });
      expect(now.body.status, JSON.stringify(now.body)).toBe('submitted');
      expect(now.body.verified_at).not.toBeNull();
    }
  });

  it('write nothing from a malformed file: a 400 naming the line', async () => {
    const { creator, cpm } = await creatorInCampaign();
    const r = await report(creator, cpm, { views: 100_000, platform: 'instagram', post_id: '5' });
    const count = async () => Number((await sql<{ n: string }>`select count(*)::text as n from platform_insights where enrolment_id = ${cpm.enrolmentId}`.execute(api.database.db)).rows[0]?.n);
    const bad = await upload(brand.key, cpm, csvOf(`instagram,5,,${today},100000`, `instagram,6,,${today},12.5`));
    expectError(bad, 400, 'invalid_request');
    expect(bad.body.error).toMatchObject({ field: 'csv', message: expect.stringContaining('csv line 3: views') });
    expect(await count()).toBe(0);
    expect((await api.call('GET', `/v1/views/${r.body.id}`, { key: brand.key })).body.status).toBe('in_review');
  });

  it('are uploaded only for an enrolment the caller may see', async () => {
    const { creator, cpm } = await creatorInCampaign();
    const stranger = await createCreator(api, `stranger${++n}@creators.example`);
    const file = csvOf(`instagram,1,,${today},10`);
    expectError(await upload(otherBrand.key, cpm, file), 404, 'not_found');
    expectError(await upload(stranger.key, cpm, file), 404, 'not_found');
    expectError(await api.call('POST', `/v1/campaigns/cmp_nope/enrolments/${cpm.enrolmentId}/insights`, { key: brand.key, body: { csv: file } }), 404, 'not_found');
    expect((await upload(api.operatorKey, cpm, file)).body.import).toMatchObject({ trust: 'official', uploaded_by: 'operator' });
    expect((await upload(creator.key, cpm, file)).status).toBe(201);
  });

  it('come through any PlatformInsights provider: numbers from a platform API are official whoever asked', async () => {
    const { creator, cpm } = await creatorInCampaign();
    const r = await report(creator, cpm, { views: 300_000, platform: 'youtube', post_id: 'vid9' });
    expect(r.body.status).toBe('in_review');
    const asked: unknown[] = [];
    const youtube: PlatformInsights = {
      name: 'youtube_analytics',
      origin: 'platform',
      async insights(query) {
        asked.push(query);
        return [{ platform: 'youtube', post_id: 'vid9', post_url: null, date: today, views: 301_000n, likes: null, comments: null, followers: null }];
      },
    };
    const enrolment = await enrolmentById(api.database.db, cpm.enrolmentId);
    const query = { posts: [{ platform: 'youtube', post_id: 'vid9' }], since: today, until: today };
    const out = await importViewInsights(api.database.db, { enrolment: enrolment!, by: { kind: 'creator', id: creator.id }, provider: youtube, query });
    expect(asked).toEqual([query]);
    expect(out.import).toMatchObject({ source: 'youtube_analytics', trust: 'official' });
    expect(out.reports).toEqual([r.body.id]);
    expect((await api.call('GET', `/v1/views/${r.body.id}`, { key: creator.key })).body).toMatchObject({ status: 'submitted', cleared_by: 'insights' });
  });
});

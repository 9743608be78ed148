import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AggregatedPath, fitModel, fittedShares, type MarkovFit, type ShapleyFit } from '../attribution/index.js';
import { campaignJourneys, campaignSnapshot, fitCampaign, latestFit, latestStoredFit } from './index.js';
import { fitDueCampaigns } from '../flows/index.js';
import { newId } from '../ids/index.js';
import { startTestApi, type TestApi } from '../../test/support/api.js';
import { BROWSER_AGENT, createBrand, createCreator, enrolCreators, expectError, launchCampaign, type Party } from '../../test/support/conversions.js';

/**
 * Per-campaign fits of the data-driven models (docs/attribution.md "Per-campaign fits"): journeys read
 * from clicks, conversions and their touches; fits stored and read back; the schedule; the endpoints.
 * Conversions and their touches are written directly (the conversion path has its own suites).
 */

let api: TestApi;
let brand: Party;
let otherBrand: Party;
let creators: Party[];

beforeAll(async () => {
  // The schedule is driven by the tests themselves (fitDueCampaigns); one test starts a server with it on.
  api = await startTestApi({ ATTRIBUTION_FIT_INTERVAL_MS: '0' });
  brand = await createBrand(api, 'Acme');
  otherBrand = await createBrand(api, 'Other');
  creators = [];
  for (const name of ['ann', 'bob', 'cal', 'dee']) creators.push(await createCreator(api, `${name}@creators.example`));
}, 60_000);

afterAll(async () => {
  await api?.close();
});

const db = () => api.database.db;

/** A running campaign with every creator enrolled: creator id → enrolment id. */
interface Setup {
  id: string;
  enrolments: Map<string, string>;
}

async function campaign(model: string, owner = brand): Promise<Setup> {
  const [first, ...rest] = creators as [Party, ...Party[]];
  const launched = await launchCampaign(api, owner, first, { objective: 'cpl', rate: '1.00', budget: '1000.00', attribution: { model } });
  const enrolments = new Map([[first.id, launched.enrolmentId], ...(await enrolCreators(api, owner, launched.id, rest))]);
  return { id: launched.id, enrolments };
}

const BASE = Date.parse('2026-06-01T00:00:00Z');
const at = (minutes: number) => new Date(BASE + minutes * 60_000);

interface ClickRow {
  id: string;
  creator: string;
  at: Date;
  visitor: string | null;
  status?: string;
}

async function insertClicks(s: Setup, rows: ClickRow[]): Promise<void> {
  if (rows.length === 0) return;
  await sql`insert into clicks (id, enrolment_id, campaign_id, creator_id, occurred_at, ip_hash, user_agent, status, visitor_id)
    select id, enrolment_id, ${s.id}, creator_id, occurred_at, 'ip-' || id, ${BROWSER_AGENT}, status, visitor_id
    from unnest(${rows.map((r) => r.id)}::text[], ${rows.map((r) => s.enrolments.get(r.creator)!)}::text[], ${rows.map((r) => r.creator)}::text[],
      ${rows.map((r) => r.at.toISOString())}::timestamptz[], ${rows.map((r) => r.status ?? 'valid')}::text[], ${rows.map((r) => r.visitor)}::text[])
      as x(id, enrolment_id, creator_id, occurred_at, status, visitor_id)`.execute(db());
}

interface Touch {
  creator: string;
  /** null: a promo-code touch */
  click: string | null;
  at: Date;
}

let conversionCount = 0;

/**
 * A conversion credited to `enrolmentOf` (the last touch's creator by default), with its touches (none:
 * a conversion recorded before touches existed).
 */
async function insertConversion(
  s: Setup,
  p: { touches: Touch[]; status?: string; clickId?: string | null; creator?: string; at?: Date; org?: Party },
): Promise<string> {
  const id = newId('cnv');
  const creator = p.creator ?? p.touches.at(-1)!.creator;
  const status = p.status ?? 'attributed';
  await sql`insert into conversions (id, org_id, external_id, request, request_sha256, campaign_id, status, response, type,
      enrolment_id, attributed_by, click_id, occurred_at, verdict)
    values (${id}, ${(p.org ?? brand).id}, ${`ext-${++conversionCount}`}, '{}'::jsonb, 'sha', ${s.id}, ${status}, '{}'::jsonb, 'lead',
      ${s.enrolments.get(creator)!}, ${p.clickId === null || (p.clickId === undefined && p.touches.every((t) => t.click === null)) ? 'promo' : 'click'},
      ${p.clickId !== undefined ? p.clickId : (p.touches.at(-1)?.click ?? null)}, ${(p.at ?? p.touches.at(-1)?.at ?? at(0)).toISOString()}::timestamptz,
      ${status === 'rejected' ? 'invalid' : 'valid'})`.execute(db());
  if (p.touches.length > 0) {
    const n = p.touches.length;
    await sql`insert into conversion_touches (conversion_id, position, click_id, enrolment_id, creator_id, occurred_at, credit)
      select ${id}, position, click_id, enrolment_id, creator_id, occurred_at, ${1 / n}
      from unnest(${p.touches.map((_, i) => i)}::int[], ${p.touches.map((t) => t.click)}::text[], ${p.touches.map((t) => s.enrolments.get(t.creator)!)}::text[],
        ${p.touches.map((t) => t.creator)}::text[], ${p.touches.map((t) => t.at.toISOString())}::timestamptz[])
        as x(position, click_id, enrolment_id, creator_id, occurred_at)`.execute(db());
  }
  return id;
}

/** Journeys through clicks: each path element a click by one visitor, `minutes` apart; converting or not. */
async function journeys(s: Setup, spec: Array<{ path: string[]; conversions: number; nulls: number }>): Promise<void> {
  const clicks: ClickRow[] = [];
  const converting: Touch[][] = [];
  let minute = 0;
  for (const { path, conversions, nulls } of spec) {
    for (let j = 0; j < conversions + nulls; j++) {
      const visitor = newId('vis');
      const touches = path.map((creator) => {
        const click = { id: newId('clk'), creator, at: at(minute++), visitor };
        clicks.push(click);
        return { creator, click: click.id, at: click.at };
      });
      if (j < conversions) converting.push(touches);
    }
  }
  await insertClicks(s, clicks);
  for (const touches of converting) await insertConversion(s, { touches });
}

const byPath = (paths: readonly AggregatedPath[]) =>
  paths.map((p) => ({ path: [...p.path], conversions: p.conversions, nulls: p.nulls })).sort((a, b) => a.path.join('>').localeCompare(b.path.join('>')) || a.conversions - b.conversions);

async function pathsOf(s: Setup) {
  const snapshot = await campaignSnapshot(db(), s.id);
  const { aggregator, window } = await campaignJourneys(db(), snapshot!);
  return { paths: byPath(aggregator.paths()), totals: aggregator.totals(), window };
}

describe('journeys of a campaign', () => {
  it('groups valid clicks by visitor in time order, leaves out invalid clicks and clicks already in a converting journey, and reads legacy conversions as one touch', async () => {
    const s = await campaign('markov');
    const [a, b, c, d] = creators.map((x) => x.id) as [string, string, string, string];
    const v1 = newId('vis');
    const v2 = newId('vis');
    const v3 = newId('vis');
    const click = (creator: string, minute: number, visitor: string | null, status?: string): ClickRow => ({
      id: newId('clk'),
      creator,
      at: at(minute),
      visitor,
      ...(status ? { status } : {}),
    });
    // v1: b then a (inserted out of order), with flagged clicks of c in between that never count.
    const v1a = click(a, 20, v1);
    const v1b = click(b, 10, v1);
    const flagged = ['bot', 'repeat', 'head', 'datacenter', 'paid_ad'].map((status, i) => click(c, 11 + i, v1, status));
    // v2: b, a converted (their clicks are the converting journey); v2's later click on c did not.
    const v2b = click(b, 30, v2);
    const v2a = click(a, 31, v2);
    const v2c = click(c, 40, v2);
    // A click with no visitor id is a journey of its own.
    const lone = click(d, 50, null);
    // A legacy conversion through a click (no touches): one touch, and the click is not a null journey.
    const legacyClick = click(c, 60, v3);
    // A rejected conversion's clicks are journeys that did not convert.
    const rejectedClick = click(d, 70, null);
    await insertClicks(s, [v1a, v1b, ...flagged, v2b, v2a, v2c, lone, legacyClick, rejectedClick]);
    // Another campaign's clicks by the same visitor are not this campaign's journey.
    const other = await campaign('markov');
    await insertClicks(other, [click(d, 15, v1)]);

    await insertConversion(s, { touches: [{ creator: b, click: v2b.id, at: v2b.at }, { creator: a, click: v2a.id, at: v2a.at }], at: at(32) });
    await insertConversion(s, { touches: [], clickId: legacyClick.id, creator: c, at: at(61) });
    // A legacy promo-code conversion: the enrolment's creator.
    await insertConversion(s, { touches: [], clickId: null, creator: b, at: at(80) });
    // A journey with a promo touch after a click.
    const v3a = click(a, 90, v3);
    await insertClicks(s, [v3a]);
    await insertConversion(s, { touches: [{ creator: a, click: v3a.id, at: v3a.at }, { creator: d, click: null, at: at(95) }], at: at(95) });
    await insertConversion(s, { touches: [{ creator: d, click: rejectedClick.id, at: rejectedClick.at }], status: 'rejected', at: at(71) });
    // Still recording: undecided, so not a converting journey.
    await insertConversion(s, { touches: [], clickId: null, creator: a, status: 'recording', at: at(96) });

    const { paths, totals, window } = await pathsOf(s);
    expect(paths).toEqual(
      byPath([
        { path: [b, a], conversions: 1, nulls: 0 },
        { path: [c], conversions: 1, nulls: 0 },
        { path: [b], conversions: 1, nulls: 0 },
        { path: [a, d], conversions: 1, nulls: 0 },
        { path: [b, a], conversions: 0, nulls: 1 }, // v1
        { path: [c], conversions: 0, nulls: 1 }, // v2's later click
        { path: [d], conversions: 0, nulls: 2 }, // the lone click and the rejected conversion's click
      ]).reduce<ReturnType<typeof byPath>>((merged, p) => {
        const same = merged.find((m) => m.path.join('>') === p.path.join('>'));
        if (same) {
          same.conversions += p.conversions;
          same.nulls += p.nulls;
        } else merged.push(p);
        return merged;
      }, []),
    );
    expect(totals).toMatchObject({ conversions: 4, nulls: 4, journeys: 8, creators: 4 });
    expect(window).toEqual({ from: at(10), to: at(95) });
  });

  it('reads a campaign with more converting journeys than one page holds', async () => {
    const s = await campaign('markov');
    const [a, b] = creators.map((x) => x.id) as [string, string];
    // More conversions than one page (JOURNEY_LIMITS.conversions_per_page is 5,000; written in one statement).
    const n = 5_003;
    const ids = Array.from({ length: n }, () => newId('cnv'));
    await sql`insert into conversions (id, org_id, external_id, request, request_sha256, campaign_id, status, response, type,
        enrolment_id, attributed_by, occurred_at, verdict)
      select id, ${brand.id}, 'bulk-' || id, '{}'::jsonb, 'sha', ${s.id}, 'attributed', '{}'::jsonb, 'lead', ${s.enrolments.get(b)!}, 'promo',
        ${at(1).toISOString()}::timestamptz, 'valid'
      from unnest(${ids}::text[]) as x(id)`.execute(db());
    await sql`insert into conversion_touches (conversion_id, position, click_id, enrolment_id, creator_id, occurred_at, credit)
      select id, p, null, case when p = 0 then ${s.enrolments.get(a)!} else ${s.enrolments.get(b)!} end,
        case when p = 0 then ${a} else ${b} end, ${at(0).toISOString()}::timestamptz, 0.5
      from unnest(${ids}::text[]) as x(id) cross join (values (0), (1)) as v(p)`.execute(db());
    const { paths } = await pathsOf(s);
    expect(paths).toEqual([{ path: [a, b], conversions: n, nulls: 0 }]);
  });
});

describe('fitting a campaign', () => {
  it('falls back to linear below the minimum, says so, and the stored fit splits a conversion linearly', async () => {
    const s = await campaign('markov');
    const [a, b] = creators.map((x) => x.id) as [string, string];
    await journeys(s, [
      { path: [a, b], conversions: 3, nulls: 2 },
      { path: [b], conversions: 1, nulls: 4 },
    ]);
    const stored = await fitCampaign(db(), s.id, 'markov');
    expect(stored.fit.fallback?.model).toBe('linear');
    expect(stored.fit.fallback?.reason).toMatch(/4 converting journeys, fewer than the 100 the markov model needs/);
    expect(stored.minConversions).toBe(100);
    expect(stored.fit.totals).toEqual({ journeys: 10, conversions: 4, nulls: 6, distinctPaths: 2, creators: 2 });
    // Linear over the converting journeys: a gets 3 × ½, b 3 × ½ + 1, over 4 conversions.
    expect(Object.fromEntries(stored.fit.weights)).toEqual({ [a]: 1.5 / 4, [b]: 2.5 / 4 });

    const inForce = await latestFit(db(), s.id, 'markov');
    expect(inForce).toEqual(stored.fit);
    const split = fittedShares(inForce!, { path: [a, b] });
    expect(split.fallback?.model).toBe('linear');
    expect(split.shares.map((x) => x.share)).toEqual([0.5, 0.5]);
    expect(await latestFit(db(), s.id, 'shapley')).toBeNull();
  });

  it.each(['markov', 'shapley'] as const)(
    '%s with enough data: weights sum to 1, equal the pure model on the same paths, and a creator only on journeys that did not convert gets less than any on converting ones',
    async (model) => {
      const s = await campaign(model);
      const [a, b, c, d] = creators.map((x) => x.id) as [string, string, string, string];
      const spec = [
        { path: [a, b], conversions: 40, nulls: 10 },
        { path: [b], conversions: 35, nulls: 30 },
        { path: [a, c], conversions: 30, nulls: 5 },
        { path: [a], conversions: 0, nulls: 20 },
        { path: [b, c], conversions: 0, nulls: 15 },
        { path: [d], conversions: 0, nulls: 30 },
        { path: [d, a], conversions: 0, nulls: 10 },
      ];
      await journeys(s, spec);
      const stored = await fitCampaign(db(), s.id, model);
      const expected = fitModel(model, spec);

      expect(stored.fit.fallback).toBeUndefined();
      expect(stored.fit.totals).toEqual(expected.totals);
      const weights = stored.fit.weights;
      expect([...weights.values()].reduce((x, y) => x + y, 0)).toBeCloseTo(1, 12);
      expect(new Set(weights.keys())).toEqual(new Set([a, b, c, d]));
      for (const [creator, weight] of expected.weights) expect(weights.get(creator)).toBeCloseTo(weight, 12);
      for (const onConverting of [a, b, c]) expect(weights.get(d)!).toBeLessThan(weights.get(onConverting)!);
      if (model === 'shapley') {
        expect(weights.get(d)).toBe(0);
        expect(stored.fit.model === 'shapley' && stored.fit.method).toBe('exact');
      } else {
        expect((stored.fit as MarkovFit).conversionProbability).toBeCloseTo((expected as MarkovFit).conversionProbability!, 12);
        for (const [creator, effect] of (expected as MarkovFit).removalEffects!) {
          expect((stored.fit as MarkovFit).removalEffects!.get(creator)).toBeCloseTo(effect, 12);
        }
      }

      // The fit read back is the one a split uses: a journey through a and b gets their weights, normalised.
      const inForce = await latestFit(db(), s.id, model);
      expect(inForce).toEqual(stored.fit);
      const split = fittedShares(inForce!, { path: [a, b] });
      expect(split.fallback).toBeUndefined();
      const wa = weights.get(a)!;
      const wb = weights.get(b)!;
      expect(split.shares[0]!.share).toBeCloseTo(wa / (wa + wb), 8);
    },
  );

  it('stores a sampled Shapley estimate with its standard errors and permutations', async () => {
    const s = await campaign('shapley');
    const [a, b, c] = creators.map((x) => x.id) as [string, string, string];
    const spec = [
      { path: [a, b], conversions: 6, nulls: 2 },
      { path: [c], conversions: 3, nulls: 3 },
      { path: [b, c], conversions: 2, nulls: 5 },
    ];
    await journeys(s, spec);
    // Computed exactly up to 20 creators; a limit of 1 makes the sampler run on 3.
    const options = { minConversions: 1, exactMaxCreators: 1, permutations: 300 };
    const stored = await fitCampaign(db(), s.id, 'shapley', options);
    const expected = fitModel('shapley', spec, options) as ShapleyFit;
    const fit = (await latestFit(db(), s.id, 'shapley')) as ShapleyFit;
    expect(fit).toEqual(stored.fit);
    expect(fit.method).toBe('sampled');
    expect(fit.permutations).toBe(300);
    expect(expected.standardErrors!.size).toBe(3);
    for (const [creator, error] of expected.standardErrors!) expect(fit.standardErrors!.get(creator)).toBeCloseTo(error, 12);
    for (const [creator, weight] of expected.weights) expect(fit.weights.get(creator)).toBeCloseTo(weight, 12);
    const view = await api.call('GET', `/v1/campaigns/${s.id}/attribution`, { key: brand.key });
    expect(view.body.fits.shapley).toMatchObject({ method: 'sampled', permutations: 300 });
    expect(Object.keys(view.body.fits.shapley.standard_errors).sort()).toEqual([a, b, c].sort());
  });

  it('keeps every fit: the latest per campaign and model is the one in force, and the history cannot be edited', async () => {
    const s = await campaign('shapley');
    const [a, b] = creators.map((x) => x.id) as [string, string];
    await journeys(s, [{ path: [a, b], conversions: 2, nulls: 1 }]);
    const first = await fitCampaign(db(), s.id, 'shapley');
    await journeys(s, [{ path: [b], conversions: 2, nulls: 0 }]);
    const second = await fitCampaign(db(), s.id, 'shapley', { minConversions: 1 });
    expect(second.fit.fallback).toBeUndefined();
    expect((await latestStoredFit(db(), s.id, 'shapley'))?.id).toBe(second.id);
    expect(Number(second.id)).toBeGreaterThan(Number(first.id));
    await expect(sql`update attribution_fits set weights = '{}'::jsonb where id = ${first.id}`.execute(db())).rejects.toThrow(/append-only/);
    await expect(sql`delete from attribution_fits where id = ${first.id}`.execute(db())).rejects.toThrow(/append-only/);
  });
});

describe('the schedule', () => {
  async function fitCount(campaignId: string): Promise<number> {
    const r = await sql<{ n: number }>`select count(*)::int as n from attribution_fits where campaign_id = ${campaignId}`.execute(db());
    return Number(r.rows[0]!.n);
  }

  it('fits only running, paused and ended campaigns with a data-driven model, and skips those with nothing new', async () => {
    const [a, b] = creators.map((x) => x.id) as [string, string];
    const markov = await campaign('markov');
    const shapley = await campaign('shapley');
    const rule = await campaign('position_based');
    const ended = await campaign('markov');
    const settled = await campaign('markov');
    for (const s of [markov, shapley, rule, ended, settled]) await journeys(s, [{ path: [a, b], conversions: 1, nulls: 1 }]);
    expect((await api.call('POST', `/v1/campaigns/${shapley.id}/pause`, { key: brand.key, body: {} })).status).toBe(200);
    // Ended but not settled: its results are still held, and a split may still need the fit.
    expect((await api.call('POST', `/v1/campaigns/${ended.id}/end`, { key: brand.key, body: {} })).status).toBe(200);
    // Settled campaigns take no more results: nothing to split, nothing to fit.
    await sql`update campaigns set status = 'settled' where id = ${settled.id}`.execute(db());

    const first = await fitDueCampaigns(db(), { limit: 1_000 });
    expect(first.failures).toEqual([]);
    const fitted = first.fitted.filter((f) => [markov.id, shapley.id, rule.id, ended.id, settled.id].includes(f.campaign_id));
    expect(fitted).toEqual(
      expect.arrayContaining([
        { campaign_id: markov.id, model: 'markov', fallback: true },
        { campaign_id: shapley.id, model: 'shapley', fallback: true },
        { campaign_id: ended.id, model: 'markov', fallback: true },
      ]),
    );
    expect(fitted).toHaveLength(3);
    expect(await fitCount(rule.id)).toBe(0);
    expect(await fitCount(settled.id)).toBe(0);

    // Nothing new: no refit.
    const second = await fitDueCampaigns(db(), { limit: 1_000 });
    expect(second.fitted.map((f) => f.campaign_id)).not.toContain(markov.id);
    expect(second.unchanged).toEqual(expect.arrayContaining([markov.id, shapley.id]));
    expect(await fitCount(markov.id)).toBe(1);

    // A new click on one campaign (even one that did not count), a new conversion on the other: both refit.
    await insertClicks(markov, [{ id: newId('clk'), creator: a, at: at(500), visitor: null, status: 'bot' }]);
    await insertConversion(shapley, { touches: [], clickId: null, creator: b });
    const third = await fitDueCampaigns(db(), { limit: 1_000 });
    expect(third.fitted.map((f) => f.campaign_id)).toEqual(expect.arrayContaining([markov.id, shapley.id]));
    expect(await fitCount(markov.id)).toBe(2);
    expect((await latestStoredFit(db(), shapley.id, 'shapley'))?.fit.totals.conversions).toBe(2);
  });

  it('keeps the minimum chosen on demand when it refits, and takes a backlog over its limit in turn', async () => {
    const [a, b] = creators.map((x) => x.id) as [string, string];
    const s = await campaign('markov');
    await journeys(s, [{ path: [a, b], conversions: 2, nulls: 1 }, { path: [b], conversions: 1, nulls: 2 }]);
    const fit = await api.call('POST', `/v1/campaigns/${s.id}/attribution/fit`, { key: brand.key, body: { min_conversions: 2 } });
    expect(fit.status, JSON.stringify(fit.body)).toBe(201);
    expect(fit.body.fallback).toBeNull();
    await journeys(s, [{ path: [a], conversions: 1, nulls: 0 }]);
    const others = await campaign('shapley');
    await journeys(others, [{ path: [a], conversions: 1, nulls: 0 }]);

    // Limit 1: one campaign per run, the never-fitted one first; the next run takes the other.
    const first = await fitDueCampaigns(db(), { limit: 1 });
    expect(first.fitted).toHaveLength(1);
    expect(first.waiting).toBeGreaterThanOrEqual(1);
    for (let run = 0; run < 50 && (await fitCount(s.id)) < 2; run++) await fitDueCampaigns(db(), { limit: 1 });
    const refit = await latestStoredFit(db(), s.id, 'markov');
    expect(refit?.minConversions).toBe(2);
    expect(refit?.fit.totals.conversions).toBe(4);
    expect(refit?.fit.fallback).toBeUndefined();
    expect(await fitCount(others.id)).toBe(1);
  });

  it('runs in the server every ATTRIBUTION_FIT_INTERVAL_MS', async () => {
    const server = await startTestApi({ ATTRIBUTION_FIT_INTERVAL_MS: '100' });
    try {
      const owner = await createBrand(server, 'Scheduled');
      const creator = await createCreator(server, 'sched@creators.example');
      const launched = await launchCampaign(server, owner, creator, { objective: 'cpl', rate: '1.00', budget: '100.00', attribution: { model: 'shapley' } });
      let view: any;
      for (let i = 0; i < 100; i++) {
        view = await server.call('GET', `/v1/campaigns/${launched.id}/attribution`, { key: owner.key });
        if (view.body.fits.shapley) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(view.body.fits.shapley?.fallback?.reason).toMatch(/0 converting journeys/);
      expect(view.body.fits.markov).toBeNull();
    } finally {
      await server.close();
    }
  }, 60_000);
});

describe('the endpoints', () => {
  it('fit on demand with the campaign model, show the latest fits, and answer 404 for another brand', async () => {
    const [a, b, c] = creators.map((x) => x.id) as [string, string, string];
    const s = await campaign('shapley');
    await journeys(s, [
      { path: [a, b], conversions: 3, nulls: 1 },
      { path: [c], conversions: 0, nulls: 2 },
    ]);
    const fit = await api.call('POST', `/v1/campaigns/${s.id}/attribution/fit`, { key: brand.key, body: { min_conversions: 1 } });
    expect(fit.status, JSON.stringify(fit.body)).toBe(201);
    expect(fit.body).toMatchObject({ campaign_id: s.id, in_force: true, model: 'shapley', method: 'exact', min_conversions: 1, fallback: null });
    expect(fit.body.totals).toEqual({ journeys: 6, conversions: 3, nulls: 3, distinct_paths: 2, creators: 3 });
    // r({a, b}) = 3/4 and r({c}) = 0: a and b share it equally, c (never on a converting journey) gets 0.
    expect(Object.keys(fit.body.weights).sort()).toEqual([a, b, c].sort());
    expect(fit.body.weights[a]).toBeCloseTo(0.5, 12);
    expect(fit.body.weights[b]).toBeCloseTo(0.5, 12);
    expect(fit.body.weights[c]).toBe(0);

    // An operator may fit too, and a brand may ask for the other model on its campaign.
    const markov = await api.call('POST', `/v1/campaigns/${s.id}/attribution/fit`, { key: api.operatorKey, body: { model: 'markov' } });
    expect(markov.status, JSON.stringify(markov.body)).toBe(201);
    expect(markov.body.in_force).toBe(false);
    expect(markov.body.fallback.reason).toMatch(/fewer than the 100/);

    const view = await api.call('GET', `/v1/campaigns/${s.id}/attribution`, { key: brand.key });
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ campaign_id: s.id, model: 'shapley', data_driven: true });
    expect(view.body.fits.shapley).toEqual(withoutCreateFields(fit.body));
    expect(view.body.fits.markov).toEqual(withoutCreateFields(markov.body));

    expectError(await api.call('GET', `/v1/campaigns/${s.id}/attribution`, { key: otherBrand.key }), 404, 'not_found');
    expectError(await api.call('POST', `/v1/campaigns/${s.id}/attribution/fit`, { key: otherBrand.key, body: {} }), 404, 'not_found');
    expectError(await api.call('POST', `/v1/campaigns/${s.id}/attribution/fit`, { key: creators[0]!.key, body: {} }), 403, 'forbidden');
    // Nothing was stored for the refused calls.
    expect((await latestStoredFit(db(), s.id, 'shapley'))?.id).toBe(fit.body.id);
  });

  it('refuses to guess a model for a rule-based campaign, and refuses bad bodies', async () => {
    const s = await campaign('last_click');
    expectError(await api.call('POST', `/v1/campaigns/${s.id}/attribution/fit`, { key: brand.key, body: {} }), 400, 'model_not_data_driven', 'model');
    expectError(await api.call('POST', `/v1/campaigns/${s.id}/attribution/fit`, { key: brand.key, body: { model: 'linear' } }), 400, 'invalid_request', 'model');
    expectError(
      await api.call('POST', `/v1/campaigns/${s.id}/attribution/fit`, { key: brand.key, body: { model: 'markov', min_conversions: 0 } }),
      400,
      'invalid_request',
      'min_conversions',
    );
    const view = await api.call('GET', `/v1/campaigns/${s.id}/attribution`, { key: brand.key });
    expect(view.body).toEqual({ campaign_id: s.id, model: 'last_click', half_life_days: null, data_driven: false, fits: { markov: null, shapley: null } });
    // Asked for explicitly, a rule-based campaign can still be fitted (it does not split its conversions).
    const fit = await api.call('POST', `/v1/campaigns/${s.id}/attribution/fit`, { key: brand.key, body: { model: 'markov' } });
    expect(fit.status).toBe(201);
    expect(fit.body.in_force).toBe(false);
    expectError(await api.call('GET', `/v1/campaigns/cmp_missing/attribution`, { key: brand.key }), 404, 'not_found');
  });
});

/** A fit's create answer is the fit itself plus its campaign and whether it is in force. */
function withoutCreateFields(answer: Record<string, unknown>): Record<string, unknown> {
  const { campaign_id: _campaign, in_force: _inForce, ...fit } = answer;
  return fit;
}

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversionAnswer } from '../api/routes/conversions.js';
import { fitCampaign } from '../fits/index.js';
import { recordConversion } from './index.js';
import { advanceClock, databaseNow } from '../db/index.js';
import { runSettlement } from './settle.js';
import { newId } from '../ids/index.js';
import { checkLedger } from '../ledger/index.js';
import { createBrand, createCreator, enrolCreators, escrowHeld, expectError, launchCampaign, type Launched, type Party } from '../../test/support/conversions.js';
import { startTestApi, type TestApi } from '../../test/support/api.js';

/**
 * Multi-touch attribution end to end (issue #5 §1–3): a conversion's journey from the click ids sent
 * and the same visitor's clicks, the campaign's model, and one hold per credited creator whose parts
 * sum exactly to what a single-creator result would have cost.
 */
let api: TestApi;
let brand: Party;
let ana: Party;
let ben: Party;
let cleo: Party;

beforeAll(async () => {
  api = await startTestApi();
  brand = await createBrand(api, 'Acme');
  ana = await createCreator(api, 'ana@creators.example');
  ben = await createCreator(api, 'ben@creators.example');
  cleo = await createCreator(api, 'cleo@creators.example');
});

afterAll(async () => {
  await api?.close();
});

interface Team {
  campaign: Launched;
  /** Enrolment id by creator id. */
  enrolments: Map<string, string>;
}

/** A running campaign with every given creator enrolled. */
async function campaign(terms: Record<string, unknown>, creators: Party[] = [ana, ben, cleo]): Promise<Team> {
  const [first, ...rest] = creators;
  const c = await launchCampaign(api, brand, first!, { objective: 'cpa_fixed', rate: '10.00', budget: '500.00', ...terms });
  const enrolments = new Map([[first!.id, c.enrolmentId], ...(await enrolCreators(api, brand, c.id, rest))]);
  return { campaign: c, enrolments };
}

/** A click `hoursAgo` before now on the creator's link, optionally with the visitor cookie and a status. */
async function click(team: Team, creator: Party, hoursAgo: number, o: { visitor?: string; status?: string } = {}): Promise<string> {
  const id = newId('clk');
  const at = new Date((await databaseNow(api.database.db)).getTime() - hoursAgo * 3_600_000);
  await sql`insert into clicks (id, enrolment_id, campaign_id, creator_id, occurred_at, ip_hash, user_agent, status, visitor_id)
    values (${id}, ${team.enrolments.get(creator.id)}, ${team.campaign.id}, ${creator.id}, ${at.toISOString()}::timestamptz, ${`ip-${id}`},
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
      ${o.status ?? 'valid'}, ${o.visitor ?? null})`.execute(api.database.db);
  return id;
}

let n = 0;
function sale(over: Record<string, unknown>) {
  n++;
  return api.call('POST', '/v1/conversions', {
    key: brand.key,
    body: { external_id: `order-${n}`, type: 'sale', amount: '80.00', currency: 'USD', customer: { id: `cus-${n}` }, ...over },
  });
}

type Part = { creator_id: string; payout: { amount: string }; attribution: { share: number; model: string; source_payout: { amount: string } } | null };
const byCreator = (parts: Part[]) => Object.fromEntries(parts.map((p) => [p.creator_id, p]));
const cents = (amount: string) => Math.round(Number(amount) * 100);

describe('journeys', () => {
  it('last click (the default) credits only the latest click sent, however many ids come', async () => {
    const team = await campaign({});
    const ids = [await click(team, ana, 5), await click(team, ben, 3), await click(team, cleo, 1)];
    const held = await escrowHeld(api, brand, team.campaign.id);
    const r = await sale({ click_ids: ids });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.attribution).toEqual({ model: 'last_click', fallback: null });
    expect(r.body.results).toHaveLength(1);
    expect(r.body.result).toMatchObject({ creator_id: cleo.id, payout: { amount: '10.00' }, attribution: null });
    expect(cents(await escrowHeld(api, brand, team.campaign.id)) - cents(held)).toBe(1000);
  });

  it('linear splits a sale over every creator on the journey, each with a hold, summing exactly to one result', async () => {
    const team = await campaign({ attribution: { model: 'linear' } });
    const held = await escrowHeld(api, brand, team.campaign.id);
    const ids = [await click(team, ana, 5), await click(team, ben, 3), await click(team, cleo, 1)];
    const r = await sale({ click_id: ids[2], click_ids: ids.slice(0, 2) });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.status).toBe('attributed');
    expect(r.body.attribution).toEqual({ model: 'linear', fallback: null });
    const parts = byCreator(r.body.results);
    // 10.00 in three: largest remainder, the extra cent to the earliest touch.
    expect(parts[ana.id]!.payout.amount).toBe('3.34');
    expect(parts[ben.id]!.payout.amount).toBe('3.33');
    expect(parts[cleo.id]!.payout.amount).toBe('3.33');
    for (const p of Object.values(parts)) expect(p.attribution).toMatchObject({ model: 'linear', share: 1 / 3, source_payout: { amount: '10.00' } });
    // The answer's lead result is the last-click creator's part, the one validation judged.
    expect(r.body.result.creator_id).toBe(cleo.id);
    expect(cents(await escrowHeld(api, brand, team.campaign.id)) - cents(held)).toBe(1000);
    const statuses = await sql<{ status: string; n: bigint }>`select status, count(*) as n from results where source_id = ${r.body.id} group by status`.execute(
      api.database.db,
    );
    expect(statuses.rows.map((x) => [x.status, Number(x.n)])).toEqual([['pending', 3]]);
    expect((await checkLedger(api.database.db)).mismatches).toBe(0);
    // The statement shows each creator's share of the conversion and their amount.
    const st = await api.call('GET', `/v1/campaigns/${team.campaign.id}/statement`, { key: brand.key });
    expect(st.status, JSON.stringify(st.body)).toBe(200);
    const lines = Object.fromEntries(st.body.creators.map((c: { creator_id: string }) => [c.creator_id, c]));
    expect(lines[ana.id]).toMatchObject({ results: 1, shared_results: 1, credited_conversions: 0.333333, held: { amount: '3.34' }, earned: { amount: '0.00' } });
    expect(lines[cleo.id]).toMatchObject({ results: 1, credited_conversions: 0.333333, held: { amount: '3.33' } });
    expect(st.body.kpi.validated).toBe(0);
  });

  it("joins the same visitor's earlier clicks on other creators' links, through the first-party cookie", async () => {
    const team = await campaign({ attribution: { model: 'first_click' } });
    const visitor = `v-${newId('vis')}`;
    await click(team, ana, 30, { visitor });
    await click(team, ben, 20, { visitor: 'someone-else' });
    const last = await click(team, cleo, 2, { visitor });
    const r = await sale({ click_id: last });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const parts = byCreator(r.body.results);
    expect(Object.keys(parts)).toEqual([ana.id]);
    expect(parts[ana.id]!.payout.amount).toBe('10.00');
    // Validation judged the last click's creator; the first click's creator is paid under first_click.
    const touches = await sql<{ creator_id: string; click_id: string; credit: number }>`select creator_id, click_id, credit from conversion_touches
      where conversion_id = ${r.body.id} order by position`.execute(api.database.db);
    expect(touches.rows.map((t) => [t.creator_id, Number(t.credit)])).toEqual([
      [ana.id, 1],
      [cleo.id, 0],
    ]);
  });

  it('leaves out touches that do not count: invalid clicks, clicks outside the window, after the conversion, or on another campaign', async () => {
    const team = await campaign({ attribution: { model: 'linear' }, attribution_window_days: 7 });
    const other = await campaign({ attribution: { model: 'linear' } }, [ben]);
    const visitor = `v-${newId('vis')}`;
    const bot = await click(team, ana, 4, { status: 'bot', visitor });
    const old = await click(team, ben, 24 * 8, { visitor });
    const elsewhere = await click(other, ben, 3);
    const counted = await click(team, cleo, 2, { visitor });
    const r = await sale({ click_ids: [bot, old, elsewhere, counted] });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.campaign_id).toBe(team.campaign.id);
    expect(r.body.results.map((p: Part) => p.creator_id)).toEqual([cleo.id]);
    expect(r.body.result).toMatchObject({ creator_id: cleo.id, payout: { amount: '10.00' } });
  });

  it('a creator with several touches gets their sum (position based: 40/20/40)', async () => {
    const team = await campaign({ attribution: { model: 'position_based' }, rate: '25.00' });
    const ids = [await click(team, ana, 6), await click(team, ben, 5), await click(team, ana, 4), await click(team, cleo, 1)];
    const r = await sale({ click_ids: ids });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const parts = byCreator(r.body.results);
    // Touches: ana 40 %, ben 10 %, ana 10 %, cleo 40 % of 25.00.
    expect(parts[ana.id]!.payout.amount).toBe('12.50');
    expect(parts[ben.id]!.payout.amount).toBe('2.50');
    expect(parts[cleo.id]!.payout.amount).toBe('10.00');
    expect(parts[ana.id]!.attribution!.share).toBeCloseTo(0.5, 12);
  });

  it('time decay weighs recent touches more, and the parts still sum to the order rate exactly', async () => {
    const team = await campaign({ objective: 'cpa_percent', rate: undefined, rate_bps: 1000, attribution: { model: 'time_decay', half_life_days: 1 } });
    const ids = [await click(team, ana, 48), await click(team, ben, 24), await click(team, cleo, 0.5)];
    const r = await sale({ click_ids: ids, amount: '99.99' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const parts = r.body.results as Part[];
    const amounts = parts.map((p) => cents(p.payout.amount));
    expect(amounts.reduce((a, b) => a + b, 0)).toBe(1000); // 10 % of 99.99, half to even
    const shares = byCreator(parts);
    expect(cents(shares[cleo.id]!.payout.amount)).toBeGreaterThan(cents(shares[ben.id]!.payout.amount));
    expect(cents(shares[ben.id]!.payout.amount)).toBeGreaterThan(cents(shares[ana.id]!.payout.amount));
    // Weights 2^(-days before / half-life): 2^-2, 2^-1, 2^(-1/48).
    const total = 0.25 + 0.5 + 2 ** (-1 / 48);
    expect(shares[ana.id]!.attribution!.share).toBeCloseTo(0.25 / total, 6);
    expect(shares[cleo.id]!.attribution!.share).toBeCloseTo(2 ** (-1 / 48) / total, 6);
  });

  it('a data-driven model with no fit yet falls back to linear and says why', async () => {
    const team = await campaign({ attribution: { model: 'markov' } }, [ana, ben]);
    const ids = [await click(team, ana, 5), await click(team, ben, 1)];
    const r = await sale({ click_ids: ids });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.attribution.model).toBe('markov');
    expect(r.body.attribution.fallback).toMatch(/markov/);
    expect(r.body.results.map((p: Part) => p.payout.amount)).toEqual(['5.00', '5.00']);
  });

  it("a data-driven model splits by the campaign's latest fit: the journey's creators' weights, normalised", async () => {
    const team = await campaign({ attribution: { model: 'markov' } });
    // Journeys: ana alone converts twice, ben alone once and fails twice, cleo only ever fails.
    for (const [creator, converts] of [
      [ana, true],
      [ana, true],
      [ben, true],
      [ben, false],
      [ben, false],
      [cleo, false],
      [cleo, false],
    ] as const) {
      const id = await click(team, creator, 10);
      if (converts) expect((await sale({ click_ids: [id] })).status).toBe(201);
    }
    const fit = await fitCampaign(api.database.db, team.campaign.id, 'markov', { minConversions: 2 });
    expect(fit.fit.fallback).toBeUndefined();
    const weights = fit.fit.weights;
    expect(weights.get(ana.id)!).toBeGreaterThan(weights.get(ben.id)!);
    const r = await sale({ click_ids: [await click(team, ana, 3), await click(team, ben, 1)], amount: '80.00' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.attribution).toEqual({ model: 'markov', fallback: null });
    const parts = byCreator(r.body.results);
    const expected = weights.get(ana.id)! / (weights.get(ana.id)! + weights.get(ben.id)!);
    expect(parts[ana.id]!.attribution!.share).toBeCloseTo(expected, 8);
    expect(cents(parts[ana.id]!.payout.amount) + cents(parts[ben.id]!.payout.amount)).toBe(1000);
    expect(cents(parts[ana.id]!.payout.amount)).toBe(Math.round(1000 * expected));
  });

  it("refuses the part of a credited creator who is the customer (self-referral), and only that part", async () => {
    const team = await campaign({ attribution: { model: 'linear' } }, [ana, ben]);
    const held = cents(await escrowHeld(api, brand, team.campaign.id));
    const r = await sale({ click_ids: [await click(team, ana, 5), await click(team, ben, 1)], customer: { id: 'cus-self', email: 'Ana+deals@creators.example' } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const parts = byCreator(r.body.results) as Record<string, Part & { status: string; reasons: string[] }>;
    expect(parts[ana.id]).toMatchObject({ status: 'rejected', reasons: ['self_referral'], payout: { amount: '5.00' } });
    expect(parts[ben.id]).toMatchObject({ status: 'pending', reasons: [] });
    expect(r.body.status).toBe('attributed');
    expect(cents(await escrowHeld(api, brand, team.campaign.id)) - held).toBe(500);
  });

  it('a promo code alone credits its creator; a click in the window wins over it', async () => {
    const team = await campaign({ attribution: { model: 'linear' } }, [ana, ben]);
    const promo = await sale({ promo_code: team.campaign.promoCode });
    expect(promo.status, JSON.stringify(promo.body)).toBe(201);
    expect(promo.body.results.map((p: Part) => p.creator_id)).toEqual([ana.id]);
    const withClick = await sale({ promo_code: team.campaign.promoCode, click_ids: [await click(team, ben, 1)] });
    expect(withClick.body.results.map((p: Part) => p.creator_id)).toEqual([ben.id]);
  });
});

describe('idempotency and decisions on parts', () => {
  it('a replay answers the same; a replay with other click ids is a conflict naming click_ids', async () => {
    const team = await campaign({ attribution: { model: 'linear' } }, [ana, ben]);
    const ids = [await click(team, ana, 5), await click(team, ben, 1)];
    const first = await sale({ external_id: 'replayed', click_ids: ids });
    expect(first.status).toBe(201);
    const again = await api.call('POST', '/v1/conversions', {
      key: brand.key,
      body: { external_id: 'replayed', type: 'sale', amount: '80.00', currency: 'USD', customer: { id: `cus-${n}` }, click_ids: [...ids].reverse() },
    });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    const changed = await api.call('POST', '/v1/conversions', {
      key: brand.key,
      body: { external_id: 'replayed', type: 'sale', amount: '80.00', currency: 'USD', customer: { id: `cus-${n}` }, click_ids: [ids[1]] },
    });
    expectError(changed, 409, 'idempotency_conflict', 'click_ids');
  });

  it('the single (unbatched) path records the same split, and the brand can reject one part without touching the others', async () => {
    const team = await campaign({ attribution: { model: 'linear' } }, [ana, ben]);
    const ids = [await click(team, ana, 5), await click(team, ben, 1)];
    const { answer } = await recordConversion(api.database.db, {
      orgId: brand.id,
      input: { external_id: `single-${n++}`, type: 'sale', amount: '80.00', currency: 'USD', customer: { id: 'cus-single' }, click_ids: ids },
      present: conversionAnswer,
    });
    const parts = byCreator((answer as { results: Part[] }).results) as Record<string, Part & { id: string }>;
    expect(parts[ana.id]!.payout.amount).toBe('5.00');
    expect(parts[ben.id]!.payout.amount).toBe('5.00');
    const held = cents(await escrowHeld(api, brand, team.campaign.id));
    const rejected = await api.call('POST', `/v1/results/${parts[ana.id]!.id}/reject`, { key: brand.key, body: { reason: 'returned_order' } });
    expect(rejected.status, JSON.stringify(rejected.body)).toBe(200);
    expect(cents(await escrowHeld(api, brand, team.campaign.id))).toBe(held - 500);
    const other = await api.call('GET', `/v1/results/${parts[ben.id]!.id}`, { key: brand.key });
    expect(other.body.status).toBe('pending');
  });
});

describe('conditional rates', () => {
  it('a rate override by product or country prices the conversion, and the split shares that price', async () => {
    const team = await campaign(
      {
        attribution: { model: 'linear' },
        incentives: {
          rate_overrides: [
            { match: { sku: ['PRO-1'] }, rate: '30.00' },
            { match: { country: ['DE'] }, rate: '12.00' },
          ],
        },
      },
      [ana, ben],
    );
    const plain = await sale({ click_ids: [await click(team, ana, 1)] });
    expect(plain.body.result.payout.amount).toBe('10.00');
    const german = await sale({ click_ids: [await click(team, ana, 1)], customer: { id: 'cus-de', country: 'DE' } });
    expect(german.body.result.payout.amount).toBe('12.00');
    const both = await sale({ click_ids: [await click(team, ana, 2), await click(team, ben, 1)], sku: 'PRO-1', customer: { id: 'cus-de2', country: 'DE' } });
    expect(both.status, JSON.stringify(both.body)).toBe(201);
    expect(both.body.results.map((p: Part) => p.payout.amount)).toEqual(['15.00', '15.00']);
    const stored = await api.call('GET', `/v1/conversions/${both.body.id}`, { key: brand.key });
    expect(stored.body).toMatchObject({ sku: 'PRO-1', split: { model: 'linear', credits: [{ creator_id: ana.id }, { creator_id: ben.id }] } });
  });

  it('refuses more click ids than a journey may carry, and malformed ones, with 400', async () => {
    const many = Array.from({ length: 51 }, (_, i) => `clk_${i}`);
    expectError(await sale({ click_ids: many }), 400, 'invalid_request');
    expectError(await sale({ click_ids: [] }), 400, 'invalid_request');
    expectError(await sale({ sku: '' }), 400, 'invalid_request');
  });
});

describe('settling split conversions', () => {
  it('pays each part after the hold; the KPI counts the conversion once; the statement shows each creator earned', async () => {
    const team = await campaign({ attribution: { model: 'linear' }, kpi_target: 1, hold_days: 1 }, [ana, ben]);
    const r = await sale({ click_ids: [await click(team, ana, 5), await click(team, ben, 1)] });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    await advanceClock(api.database.db, 2 * 86_400);
    const settled = await runSettlement(api.database.db);
    expect(settled.failures).toEqual([]);
    const st = await api.call('GET', `/v1/campaigns/${team.campaign.id}/statement`, { key: brand.key });
    expect(st.body.kpi).toEqual({ target: 1, validated: 1, met: true });
    const lines = Object.fromEntries(st.body.creators.map((c: { creator_id: string }) => [c.creator_id, c]));
    expect(lines[ana.id]).toMatchObject({ earned: { amount: '5.00' }, held: { amount: '0.00' }, credited_conversions: 0.5 });
    expect(lines[ben.id]).toMatchObject({ earned: { amount: '5.00' }, held: { amount: '0.00' }, credited_conversions: 0.5 });
    expect(st.body.reconciles).toBe(true);
  });
});

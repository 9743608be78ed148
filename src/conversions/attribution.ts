import type { Kysely } from 'kysely';
import { type DataDrivenModelName, fittedShares, isRuleModel, type JourneyShares, type ModelFit, type ModelName, ruleShares } from '../attribution/index.js';
import { latestFit } from '../fits/index.js';
import { attributionOf, type Objective } from '../terms/index.js';
import { enrolmentById, enrolmentByPromoCode, type EnrolmentWithTerms } from '../campaigns/index.js';
import { assert } from '../errors/index.js';
import type { Credit } from '../results/index.js';
import type { ConversionRequest, ConversionType } from './input.js';
import { brandClick, type BrandClick, visitorClicks } from './repository.js';

/**
 * Who gets the credit for a conversion. First the conversion's campaign and its last-click creator
 * (the "primary": judged by validation, and whose accepted terms price the conversion):
 *   1. among the click ids sent (`click_id` and `click_ids`) that are on one of this brand's campaigns
 *      and inside that campaign's attribution window of the conversion (a conversion before its click
 *      counts as inside: validation then rejects it for its click-to-conversion time), the latest
 *      valid one, else the latest one;
 *   2. else the promo code, looked up among this brand's enrolments;
 *   3. else a click outside the window still names the creator: the conversion is theirs, and
 *      validation rejects it as outside_attribution_window (the creator sees why, nothing is held);
 *   4. else nobody: the conversion is unattributed.
 * Then the journey (docs/attribution.md): with a click, every valid click on the same campaign inside
 * the window before the conversion — the ones sent, and the same visitor's other clicks (the
 * redirect's first-party cookie) — in time order; with a promo code only, that code's creator. The
 * campaign's model splits the credit over the journey's creators (`creditSplit`).
 */
export interface Attribution {
  enrolment: EnrolmentWithTerms;
  by: 'click' | 'promo';
  click: BrandClick | null;
  /** The journey, oldest first; the primary's touch is always on it. */
  touches: Touch[];
}

export interface Touch {
  /** Null for a promo-code touch. */
  click_id: string | null;
  enrolment_id: string;
  creator_id: string;
  occurred_at: Date;
}

const MS_PER_DAY = 86_400_000;

export const REJECTIONS = {
  objectiveMismatch: 'objective_mismatch',
  promoMaxUsesReached: 'promo_max_uses_reached',
  promoAlreadyUsed: 'promo_already_used',
} as const;

/**
 * What attribution reads: straight from the database for one conversion, or from sets fetched once
 * for a whole batch (src/conversions/batch.ts). The rule above is the same either way.
 */
export interface AttributionLookups {
  click(orgId: string, clickId: string): Promise<BrandClick | undefined>;
  enrolment(id: string): Promise<EnrolmentWithTerms | undefined>;
  promo(orgId: string, code: string): Promise<EnrolmentWithTerms | undefined>;
  /** Valid clicks of these visitors on the campaign, occurred_at in [since, until]. */
  visitorClicks(campaignId: string, visitorIds: readonly string[], since: Date, until: Date): Promise<BrandClick[]>;
  /** The campaign's latest fit of a data-driven model, null before the first. */
  fit(campaignId: string, model: DataDrivenModelName): Promise<ModelFit | null>;
}

export function databaseLookups(trx: Kysely<any>): AttributionLookups {
  return {
    click: (orgId, clickId) => brandClick(trx, orgId, clickId),
    enrolment: (id) => enrolmentById(trx, id),
    promo: (orgId, code) => enrolmentByPromoCode(trx, orgId, code),
    visitorClicks: (campaignId, visitorIds, since, until) => visitorClicks(trx, { campaignIds: [campaignId], visitorIds, since, until }),
    fit: (campaignId, model) => latestFit(trx, campaignId, model),
  };
}

/** The click ids a conversion names, `click_id` first. */
export function givenClickIds(request: Pick<ConversionRequest, 'click_id' | 'click_ids'>): string[] {
  return [...new Set([...(request.click_id ? [request.click_id] : []), ...(request.click_ids ?? [])])];
}

export async function attribute(
  lookups: AttributionLookups,
  orgId: string,
  request: ConversionRequest,
  occurredAt: Date,
): Promise<Attribution | null> {
  const clicks: Array<{ click: BrandClick; enrolment: EnrolmentWithTerms }> = [];
  for (const id of givenClickIds(request)) {
    const click = await lookups.click(orgId, id);
    const enrolment = click ? await lookups.enrolment(click.enrolment_id) : undefined;
    if (click && enrolment) clicks.push({ click, enrolment });
  }
  const latestFirst = clicks.sort((a, b) => b.click.occurred_at.getTime() - a.click.occurred_at.getTime() || (a.click.id < b.click.id ? 1 : -1));
  const inWindow = latestFirst.filter((c) => withinWindow(c.click, occurredAt, c.enrolment));
  const primary = inWindow.find((c) => c.click.status === 'valid') ?? inWindow[0];
  if (primary) {
    const journey = await journeyOf(lookups, primary, clicks, occurredAt);
    return { enrolment: primary.enrolment, by: 'click', click: primary.click, touches: journey };
  }
  const promo = request.promo_code ? await lookups.promo(orgId, request.promo_code) : undefined;
  if (promo) {
    return { enrolment: promo, by: 'promo', click: null, touches: [{ click_id: null, enrolment_id: promo.id, creator_id: promo.creator_id, occurred_at: occurredAt }] };
  }
  const outside = latestFirst[0];
  if (outside) return { enrolment: outside.enrolment, by: 'click', click: outside.click, touches: [touchOf(outside.click)] };
  return null;
}

/** The primary click, plus every valid click on its campaign in the window before the conversion: sent, or the same visitor's. */
async function journeyOf(
  lookups: AttributionLookups,
  primary: { click: BrandClick; enrolment: EnrolmentWithTerms },
  given: ReadonlyArray<{ click: BrandClick }>,
  occurredAt: Date,
): Promise<Touch[]> {
  const campaignId = primary.click.campaign_id;
  const since = new Date(occurredAt.getTime() - primary.enrolment.terms.attribution_window_days * MS_PER_DAY);
  const counts = (c: BrandClick) => c.campaign_id === campaignId && c.status === 'valid' && c.occurred_at >= since && c.occurred_at <= occurredAt;
  const byId = new Map<string, BrandClick>([[primary.click.id, primary.click]]);
  for (const { click } of given) if (counts(click)) byId.set(click.id, click);
  const visitors = [...new Set([...byId.values()].flatMap((c) => (c.visitor_id ? [c.visitor_id] : [])))];
  if (visitors.length > 0) {
    for (const click of await lookups.visitorClicks(campaignId, visitors, since, occurredAt)) if (counts(click)) byId.set(click.id, click);
  }
  return [...byId.values()]
    .sort((a, b) => a.occurred_at.getTime() - b.occurred_at.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map(touchOf);
}

function touchOf(c: BrandClick): Touch {
  return { click_id: c.id, enrolment_id: c.enrolment_id, creator_id: c.creator_id, occurred_at: c.occurred_at };
}

function withinWindow(click: BrandClick, occurredAt: Date, e: EnrolmentWithTerms): boolean {
  return occurredAt.getTime() - click.occurred_at.getTime() <= e.terms.attribution_window_days * MS_PER_DAY;
}

/** How the campaign's model split a conversion: the credited creators, and why linear stood in, if it did. */
export interface CreditSplit {
  model: ModelName;
  fallback: string | null;
  credits: Credit[];
}

/**
 * The campaign's model (on the primary's accepted terms) over the journey's creators. One creator:
 * all of it. Rule-based models from the journey alone (time decay counts days before the conversion);
 * data-driven ones from the campaign's latest fit, or linear — saying why — before the first fit or
 * for a creator the fit has not seen.
 */
export async function creditSplit(lookups: AttributionLookups, a: Attribution, occurredAt: Date): Promise<CreditSplit> {
  const { model, half_life_days } = attributionOf(a.enrolment.terms);
  const creators = new Map<string, string>(a.touches.map((t) => [t.creator_id, t.enrolment_id]));
  if (creators.size <= 1) return { model, fallback: null, credits: [{ enrolment: a.enrolment, share: 1, weight: 1 }] };
  const journey = {
    path: a.touches.map((t) => t.creator_id),
    daysBefore: a.touches.map((t) => Math.max(0, occurredAt.getTime() - t.occurred_at.getTime()) / MS_PER_DAY),
  };
  let shares: JourneyShares;
  if (isRuleModel(model)) shares = ruleShares(model, journey, { halfLifeDays: half_life_days });
  else {
    const fit = await lookups.fit(a.enrolment.campaign_id, model);
    shares = fit
      ? fittedShares(fit, journey)
      : { ...ruleShares('linear', journey), model, fallback: { model: 'linear', reason: `the campaign has no ${model} fit yet` } };
  }
  const credits: Credit[] = [];
  for (const s of shares.shares) {
    if (s.weight <= 0) continue;
    const enrolmentId = creators.get(s.creator) as string;
    const enrolment = enrolmentId === a.enrolment.id ? a.enrolment : await lookups.enrolment(enrolmentId);
    assert(enrolment, `touch names enrolment ${enrolmentId}, which does not exist`);
    credits.push({ enrolment, share: s.share, weight: s.weight });
  }
  return { model, fallback: shares.fallback?.reason ?? null, credits };
}

/** cpl campaigns pay for leads, cpa campaigns for sales; cpc and cpm campaigns take no conversions. */
const PAYS_FOR: Record<Objective, ConversionType | null> = {
  cpl: 'lead',
  cpa_fixed: 'sale',
  cpa_percent: 'sale',
  cpc: null,
  cpm: null,
};

export function objectiveReasons(objective: Objective, type: ConversionType): string[] {
  return PAYS_FOR[objective] === type ? [] : [REJECTIONS.objectiveMismatch];
}

/**
 * A promo code earns at most promo_max_uses results, and (promo_once_per_customer) one per customer.
 * Only accepted uses count: a use rejected for another reason leaves the creator's cap alone.
 */
export function promoReasons(
  e: Pick<EnrolmentWithTerms, 'promo_max_uses' | 'promo_once_per_customer'>,
  uses: { total: number; byCustomer: number },
): string[] {
  const reasons: string[] = [];
  if (e.promo_max_uses !== null && uses.total >= e.promo_max_uses) reasons.push(REJECTIONS.promoMaxUsesReached);
  if (e.promo_once_per_customer && uses.byCustomer > 0) reasons.push(REJECTIONS.promoAlreadyUsed);
  return reasons;
}

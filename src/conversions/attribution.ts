import type { Kysely } from 'kysely';
import { type EnrolmentWithTerms, enrolmentById, enrolmentByPromoCode, type Objective } from '../campaigns/index.js';
import type { ConversionRequest, ConversionType } from './input.js';
import { type BrandClick, brandClick } from './repository.js';

/**
 * Who gets the credit for a conversion, for now (a later issue brings multi-touch models):
 *   1. the click id, if the click is on one of this brand's campaigns and the conversion is within that
 *      campaign's attribution window of it (a conversion before its click counts as inside: validation
 *      then rejects it for its click-to-conversion time);
 *   2. else the promo code, looked up among this brand's enrolments;
 *   3. else a click outside the window still names the creator: the conversion is theirs, and
 *      validation rejects it as outside_attribution_window (the creator sees why, nothing is held);
 *   4. else nobody: the conversion is unattributed.
 */
export interface Attribution {
  enrolment: EnrolmentWithTerms;
  by: 'click' | 'promo';
  click: BrandClick | null;
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
}

export function databaseLookups(trx: Kysely<any>): AttributionLookups {
  return {
    click: (orgId, clickId) => brandClick(trx, orgId, clickId),
    enrolment: (id) => enrolmentById(trx, id),
    promo: (orgId, code) => enrolmentByPromoCode(trx, orgId, code),
  };
}

export async function attribute(
  lookups: AttributionLookups,
  orgId: string,
  request: ConversionRequest,
  occurredAt: Date,
): Promise<Attribution | null> {
  const click = request.click_id ? await lookups.click(orgId, request.click_id) : undefined;
  const clicked = click ? await lookups.enrolment(click.enrolment_id) : undefined;
  if (click && clicked && withinWindow(click, occurredAt, clicked)) return { enrolment: clicked, by: 'click', click };
  const promo = request.promo_code ? await lookups.promo(orgId, request.promo_code) : undefined;
  if (promo) return { enrolment: promo, by: 'promo', click: null };
  if (click && clicked) return { enrolment: clicked, by: 'click', click };
  return null;
}

function withinWindow(click: BrandClick, occurredAt: Date, e: EnrolmentWithTerms): boolean {
  return occurredAt.getTime() - click.occurred_at.getTime() <= e.terms.attribution_window_days * MS_PER_DAY;
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

import type { Kysely } from 'kysely';
import { incentivesOf, type Terms } from '../terms/index.js';
import { periodsBetween } from '../incentives/index.js';
import { applyBps } from '../money/index.js';
import { enrolmentCount } from './repository.js';

/**
 * The most a campaign's bonuses can cost the brand, shown when it funds the escrow (docs/incentives.md):
 * - `bps` tiers: the top tier's basis points of the budget. Base earnings come out of the escrow, so
 *   all creators' base earnings together never exceed the budget, and no bonus exceeds the top tier's
 *   share of its base earnings.
 * - `fixed` tiers: the top tier's bonus (cut to `amount_per_period` when that cap is lower) for every
 *   creator enrolled now in every period of the campaign. It grows with each creator who joins.
 * Null when the terms have no tiers.
 */
export interface BonusExposure {
  basis: 'bps_of_budget' | 'fixed_per_creator_period';
  amount: bigint;
  /** The top tier's bps (bps tiers), or its fixed bonus per creator per period (fixed tiers). */
  top_bps: number | null;
  top_fixed: bigint | null;
  creators: number | null;
  periods: number | null;
}

export function bonusExposure(terms: Terms, enrolments: number): BonusExposure | null {
  const incentives = incentivesOf(terms);
  const top = incentives?.tiers.at(-1);
  if (!incentives || !top) return null;
  if ('bps' in top.bonus) {
    return { basis: 'bps_of_budget', amount: applyBps(BigInt(terms.budget_minor), top.bonus.bps), top_bps: top.bonus.bps, top_fixed: null, creators: null, periods: null };
  }
  const cap = incentives.caps.amount_per_period;
  const perPeriod = cap !== null && cap < top.bonus.fixed ? cap : top.bonus.fixed;
  const window = { starts_at: new Date(terms.starts_at), ends_at: new Date(terms.ends_at) };
  const periods = periodsBetween(window.starts_at, window.ends_at, incentives, window).length;
  return {
    basis: 'fixed_per_creator_period',
    amount: perPeriod * BigInt(enrolments) * BigInt(periods),
    top_bps: null,
    top_fixed: perPeriod,
    creators: enrolments,
    periods,
  };
}

/** The exposure of a campaign now: fixed tiers count the creators enrolled at this moment. */
export async function campaignBonusExposure(db: Kysely<any>, campaignId: string, terms: Terms): Promise<BonusExposure | null> {
  const top = terms.incentives?.tiers?.at(-1);
  if (!top) return null;
  const n = top.bonus.fixed === undefined ? 0 : await enrolmentCount(db, campaignId);
  return bonusExposure(terms, n);
}

import { assert } from '../errors/index.js';
import type { Caps, RateOverride } from './schema.js';

/** What an override can match on. An unknown attribute (null or absent) matches no criterion on it. */
export interface ResultAttributes {
  country?: string | null;
  sku?: string | null;
}

/**
 * The rate a result earns: the highest rate among the overrides that match it, else the campaign's
 * base rate. An override replaces the base rather than adding to it, so it may also be lower (a
 * cheaper rate for a low-value market); when several match, the creator gets the best of them.
 */
export function rateFor(result: ResultAttributes, baseRate: bigint, overrides: readonly RateOverride[]): bigint {
  let best: bigint | null = null;
  for (const o of overrides) {
    if (matches(o, result) && (best === null || o.rate > best)) best = o.rate;
  }
  return best ?? baseRate;
}

function matches(o: RateOverride, r: ResultAttributes): boolean {
  const country = o.match.country === null || (r.country != null && o.match.country.includes(r.country));
  const sku = o.match.sku === null || (r.sku != null && o.match.sku.includes(r.sku));
  return country && sku;
}

/** A creator's period so far: the results that count and the base earnings they earned. */
export interface PeriodTally {
  results: number;
  earnings: bigint;
}

/**
 * Whether one more validated result counts in the period, and what it earns, given the period so far
 * (results taken in the order they were recorded, ties by id):
 * - beyond `results_per_period` a result neither counts toward tiers nor earns;
 * - `amount_per_period` limits money only: the result that crosses it earns the remainder up to the
 *   cap, later ones earn nothing, yet all still count toward tiers (the bonus is then cut to the room
 *   left under the same cap, see `computeBonus`).
 */
export function admitResult(soFar: PeriodTally, gross: bigint, caps: Caps): { counts: boolean; earns: bigint } {
  assert(gross >= 0n, 'admitResult: gross must not be negative');
  if (caps.results_per_period !== null && soFar.results >= caps.results_per_period) return { counts: false, earns: 0n };
  if (caps.amount_per_period === null) return { counts: true, earns: gross };
  const room = caps.amount_per_period - soFar.earnings;
  return { counts: true, earns: room <= 0n ? 0n : gross < room ? gross : room };
}

/**
 * A period's validated results (each one's gross, in recording order) through the caps: how many
 * count, what they earn in total (the `validatedResults` and `baseEarnings` that `computeBonus`
 * takes) and what each one earns. The SQL equivalent: the first `results_per_period` validated
 * results by (recorded_at, id), their running sum capped at `amount_per_period`.
 */
export function capResults(grosses: readonly bigint[], caps: Caps): { counted: number; baseEarnings: bigint; earned: bigint[] } {
  const tally: PeriodTally = { results: 0, earnings: 0n };
  const earned = grosses.map((gross) => {
    const { counts, earns } = admitResult(tally, gross, caps);
    if (counts) tally.results += 1;
    tally.earnings += earns;
    return earns;
  });
  return { counted: tally.results, baseEarnings: tally.earnings, earned };
}

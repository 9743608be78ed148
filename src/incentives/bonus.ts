import { assert } from '../errors/index.js';
import { applyBps } from '../money/index.js';
import type { Bonus, Caps, Threshold, Tier } from './schema.js';

/**
 * Tier bonuses for one creator and one period. Everything is computed from the period's validated
 * results after caps (see `capResults`): a rerun on the same results gives the same bonus, and a
 * result rejected later gives a smaller one, paid back through `bonusCorrection`.
 */

/** Validated results each tier needs, for this creator's target. */
export function tierThresholds(tiers: readonly Tier[], target: number | null): number[] {
  return tiers.map((t) => requiredResults(t.threshold, target));
}

/**
 * "≥ p % of target" in whole results: results × 100 ≥ target × p, i.e. ceil(target × p / 100), in
 * integers so 120 % of 7 is 9 results (8 is only 114 %), never 8.4 rounded somewhere.
 */
function requiredResults(threshold: Threshold, target: number | null): number {
  if ('results' in threshold) return threshold.results;
  assert(target !== null && Number.isSafeInteger(target) && target >= 1, 'a percent_of_target tier needs a target of at least 1');
  return Number((BigInt(target) * BigInt(threshold.percent_of_target) + 99n) / 100n);
}

export interface BonusInput {
  /** Validated results that count in the period: at most `caps.results_per_period` (see `capResults`). */
  validatedResults: number;
  /** Gross base earnings of those results, minor units: at most `caps.amount_per_period`. */
  baseEarnings: bigint;
  /** The creator's target (the enrolment's, else the campaign's); needed by percent_of_target tiers. */
  target: number | null;
  tiers: readonly Tier[];
  caps: Caps;
}

export interface NextTier {
  index: number;
  /** Validated results the tier needs. */
  threshold: number;
  /** Results still to go. */
  remaining: number;
}

export interface BonusOutcome {
  /** The highest tier whose threshold is reached (exactly at it counts), null below the first. */
  tierReached: number | null;
  /** Gross bonus due, minor units: the tier's bonus cut to the room left under `amount_per_period`. */
  bonus: bigint;
  /** The tier's bonus before that cut, to show what the cap withheld. */
  bonusBeforeCap: bigint;
  /** The next tier the creator can still reach in this period (not one above the results cap). */
  nextTier: NextTier | null;
}

/**
 * A `bps` bonus is that share of the period's base earnings, rounded half to even (the money module's
 * one rule); a `fixed` bonus is its amount. Caps: results over `results_per_period` never count
 * (callers pass the count after `capResults`), and base earnings plus bonus never exceed
 * `amount_per_period`: the bonus is min(tier bonus, cap − base earnings), so a creator whose base
 * earnings already reached the cap gets no bonus. Inputs beyond the caps are a programmer error.
 */
export function computeBonus(p: BonusInput): BonusOutcome {
  const { results_per_period: maxResults, amount_per_period: maxAmount } = p.caps;
  assert(Number.isSafeInteger(p.validatedResults) && p.validatedResults >= 0, 'computeBonus: validatedResults must be a count');
  assert(p.baseEarnings >= 0n, 'computeBonus: baseEarnings must not be negative');
  assert(maxResults === null || p.validatedResults <= maxResults, 'computeBonus: more results than caps.results_per_period: count them with capResults');
  assert(maxAmount === null || p.baseEarnings <= maxAmount, 'computeBonus: base earnings above caps.amount_per_period: cap them with capResults');
  const thresholds = tierThresholds(p.tiers, p.target);
  let tierReached: number | null = null;
  thresholds.forEach((needed, i) => {
    if (p.validatedResults >= needed) tierReached = i;
  });
  const nextIndex = thresholds.findIndex((needed) => needed > p.validatedResults);
  const nextNeeded = thresholds[nextIndex];
  const nextTier =
    nextNeeded === undefined || (maxResults !== null && nextNeeded > maxResults)
      ? null
      : { index: nextIndex, threshold: nextNeeded, remaining: nextNeeded - p.validatedResults };
  const bonusBeforeCap = tierReached === null ? 0n : tierBonus(p.tiers[tierReached]!.bonus, p.baseEarnings);
  const room = maxAmount === null ? bonusBeforeCap : maxAmount - p.baseEarnings;
  return { tierReached, bonus: bonusBeforeCap < room ? bonusBeforeCap : room, bonusBeforeCap, nextTier };
}

function tierBonus(bonus: Bonus, baseEarnings: bigint): bigint {
  return 'bps' in bonus ? applyBps(baseEarnings, bonus.bps) : bonus.fixed;
}

export interface ProgressInput {
  validatedResults: number;
  target: number | null;
  tiers: readonly Tier[];
  baseEarnings: bigint;
  /** Default: no caps. */
  caps?: Caps;
}

export interface Progress {
  tier: number | null;
  nextTier: NextTier | null;
  /** Results to the next tier, null when there is none left to reach. */
  resultsToGo: number | null;
  /** Validated results as a whole percent of the target, rounded down (may exceed 100); null without a target. */
  percentOfTarget: number | null;
  /** Validated results as a whole percent of the next tier's threshold, rounded down; null without a next tier. */
  percentToNextTier: number | null;
  /** The bonus the period would pay if it closed now with these results. */
  bonus: bigint;
}

/** What a creator sees of a running period: where they stand and what is next. */
export function progress(p: ProgressInput): Progress {
  const outcome = computeBonus({ ...p, caps: p.caps ?? { results_per_period: null, amount_per_period: null } });
  const next = outcome.nextTier;
  return {
    tier: outcome.tierReached,
    nextTier: next,
    resultsToGo: next?.remaining ?? null,
    percentOfTarget: p.target === null ? null : wholePercent(p.validatedResults, p.target),
    percentToNextTier: next === null ? null : wholePercent(p.validatedResults, next.threshold),
    bonus: outcome.bonus,
  };
}

function wholePercent(part: number, whole: number): number {
  return Number((BigInt(part) * 100n) / BigInt(whole));
}

/**
 * What to move when a closed period's bonus is recomputed (results rejected or clawed back after it
 * was paid, or a shortfall later covered): positive pays the creator more, negative claws back,
 * zero moves nothing. It is a new movement next to the first; nothing paid is ever edited.
 * `paidBefore` is what was actually paid (after any shortfall), not what was due.
 */
export function bonusCorrection(paidBefore: bigint, nowDue: bigint): bigint {
  assert(paidBefore >= 0n && nowDue >= 0n, 'bonusCorrection: amounts must not be negative');
  return nowDue - paidBefore;
}

/** Pay what escrow covers; the rest is a shortfall to record and show to brand and creator. */
export function payable(bonus: bigint, escrowAvailable: bigint): { pay: bigint; shortfall: bigint } {
  assert(bonus >= 0n && escrowAvailable >= 0n, 'payable: amounts must not be negative');
  const pay = bonus < escrowAvailable ? bonus : escrowAvailable;
  return { pay, shortfall: bonus - pay };
}

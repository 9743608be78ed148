import { AppError } from '../errors/index.js';
import { DEFAULT_HALF_LIFE_DAYS, type Journey, type JourneyShares, type RuleModelName } from './models.js';
import { requireValidJourney } from './journeys.js';
import { distinctCreators, sharesFromDoubles, sharesFromWeights } from './shares.js';

export interface RuleOptions {
  /** time_decay only: a touch this many days older than another gets half its weight. Default 7. */
  halfLifeDays?: number;
}

/**
 * A converting journey's shares under a rule-based model (definitions: REFERENCE.md "Attribution").
 * Each touch gets a weight and a creator gets the sum over their touches. First click, last click,
 * linear and position-based weights are small integers, so their shares are exact rationals; time
 * decay's are powers of two with fractional exponents: its integer weights are parts per billion
 * (SHARE_SCALE) that still sum exactly.
 */
export function ruleShares(model: RuleModelName, journey: Journey, options: RuleOptions = {}): JourneyShares {
  requireValidJourney(journey);
  const { creators, touchCreator } = distinctCreators(journey.path);
  const perTouch = touchWeights(model, journey, options);
  const perCreator = new Array<number>(creators.length).fill(0);
  perTouch.forEach((weight, touch) => {
    perCreator[touchCreator[touch]!]! += weight;
  });
  const shares = model === 'time_decay' ? sharesFromDoubles(creators, perCreator) : sharesFromWeights(creators, perCreator);
  return { model, shares };
}

function touchWeights(model: RuleModelName, journey: Journey, options: RuleOptions): number[] {
  const n = journey.path.length;
  switch (model) {
    case 'first_click':
      return Array.from({ length: n }, (_, i) => (i === 0 ? 1 : 0));
    case 'last_click':
      return Array.from({ length: n }, (_, i) => (i === n - 1 ? 1 : 0));
    case 'linear':
      return new Array<number>(n).fill(1);
    case 'position_based':
      return positionWeights(n);
    case 'time_decay':
      return decayWeights(journey, options.halfLifeDays ?? DEFAULT_HALF_LIFE_DAYS);
  }
}

/**
 * 40 / 20 / 40 as integers: with m middle touches, the ends get 2m each and every middle touch 1,
 * out of 5m, so the ends are 40 % each and the middle shares 20 %. Two touches: 50/50; one: 100 %.
 */
function positionWeights(n: number): number[] {
  if (n <= 2) return new Array<number>(n).fill(1);
  const middle = n - 2;
  return Array.from({ length: n }, (_, i) => (i === 0 || i === n - 1 ? 2 * middle : 1));
}

/**
 * 2^(−Δ/h) per touch, normalised later. Δ is counted from the most recent touch rather than from the
 * conversion: the ratios are the same, and the nearest touch keeps weight 1, so a journey whose
 * touches are all years old cannot underflow to all-zero weights.
 */
function decayWeights(journey: Journey, halfLifeDays: number): number[] {
  if (!Number.isFinite(halfLifeDays) || halfLifeDays <= 0) {
    throw new AppError('invalid_request', `half-life must be a positive number of days, got ${halfLifeDays}`);
  }
  const days = journey.daysBefore;
  if (days === undefined) {
    throw new AppError('invalid_request', 'time_decay needs days_before: how many days before the conversion each touch was');
  }
  const nearest = Math.min(...days);
  return days.map((d) => 2 ** (-(d - nearest) / halfLifeDays));
}

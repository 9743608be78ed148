/**
 * Multi-touch attribution: how a conversion reached through several creators is shared among them.
 *
 * Models (definitions and reference numbers: ../shared/REFERENCE.md "Attribution"; docs/attribution.md):
 * - rule-based, per journey: `first_click`, `last_click`, `linear`, `time_decay` (weight 2^(−Δdays/half-life),
 *   half-life 7 days by default), `position_based` (40/20/40; two touches 50/50). A creator touching a
 *   journey several times gets the sum of those touches' credit.
 * - data-driven, fitted per campaign over its journeys, converting and not: `markov` (first-order removal
 *   effect, solved exactly from the absorbing chain) and `shapley` (exact up to 20 creators on converting
 *   journeys, permutation-sampled with standard errors beyond). Each creator gets a weight; a converting
 *   journey's shares are its creators' weights, normalised. Too little data (DEFAULT_MIN_CONVERSIONS) or a
 *   creator without weight falls back to linear, and the result says so.
 *
 * Shares come with integer weights (`CreatorShare.weight`): the money of a result is split with
 * `allocate(payout, shares.map((s) => s.weight))` from src/money, so the parts always sum to the payout.
 * Everything here is pure: no database, no clock.
 */
export {
  DATA_DRIVEN_MODELS,
  DEFAULT_HALF_LIFE_DAYS,
  MODELS,
  RULE_MODELS,
  SHARE_SCALE,
  isModelName,
  isRuleModel,
} from './models.js';
export type {
  AggregatedPath,
  CreatorShare,
  DataDrivenModelName,
  Fallback,
  Journey,
  JourneyShares,
  ModelName,
  RuleModelName,
} from './models.js';
export { ruleShares } from './rules.js';
export type { RuleOptions } from './rules.js';
export { PathAggregator, aggregatePaths, journeyProblem } from './journeys.js';
export type { PathTotals } from './journeys.js';
export { DEFAULT_MIN_CONVERSIONS, fitModel, fittedShares } from './fit.js';
export type { FitOptions, MarkovFit, ModelFit, ShapleyFit } from './fit.js';
export { DEFAULT_SHAPLEY_PERMUTATIONS, SHAPLEY_EXACT_MAX_CREATORS } from './shapley.js';
export { quantise } from './shares.js';
export { parseJourneyLine } from './input.js';
export type { JourneyLine } from './input.js';

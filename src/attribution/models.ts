/**
 * The attribution models by name, and the shapes every model answers in. A model turns a converting
 * journey (the creators who touched the customer, in time order) into shares per creator.
 */

/** Rule-based models: each journey's shares follow from the journey alone. */
export const RULE_MODELS = ['first_click', 'last_click', 'linear', 'time_decay', 'position_based'] as const;
/** Data-driven models: fitted per campaign over all its journeys, converting and not. */
export const DATA_DRIVEN_MODELS = ['markov', 'shapley'] as const;
export const MODELS = [...RULE_MODELS, ...DATA_DRIVEN_MODELS] as const;

export type RuleModelName = (typeof RULE_MODELS)[number];
export type DataDrivenModelName = (typeof DATA_DRIVEN_MODELS)[number];
export type ModelName = (typeof MODELS)[number];

export function isModelName(name: string): name is ModelName {
  return (MODELS as readonly string[]).includes(name);
}

export function isRuleModel(name: ModelName): name is RuleModelName {
  return (RULE_MODELS as readonly string[]).includes(name);
}

/** Half-life of `time_decay` (GA's default, REFERENCE.md "Attribution"). */
export const DEFAULT_HALF_LIFE_DAYS = 7;

/**
 * Shares that are not exact rationals (time decay, the data-driven models) are carried as integer
 * parts per billion summing to exactly this: fine enough that a split of any realistic payout is
 * exact to the minor unit, small enough to stay a safe integer.
 */
export const SHARE_SCALE = 1_000_000_000;

/** One journey: the creators touched, oldest first (a creator may appear more than once). */
export interface Journey {
  readonly path: readonly string[];
  /** Days between each touch and the conversion, one per touch; needed by `time_decay` only. */
  readonly daysBefore?: readonly number[] | undefined;
}

/** Identical journeys counted together: the input of fitting (1M journeys collapse to far fewer paths). */
export interface AggregatedPath {
  readonly path: readonly string[];
  /** Journeys on this path that converted. */
  readonly conversions: number;
  /** Journeys on this path that did not. */
  readonly nulls: number;
}

export interface CreatorShare {
  readonly creator: string;
  /** The model's share, a double (for display and for summing credit): money is split by `weight`. */
  readonly share: number;
  /**
   * A non-negative integer carrying the share exactly for splitting: split a payout with
   * `allocate(payout, shares.map((s) => s.weight))` and the parts always sum to the payout. Exactly
   * share = weight / Σ weights for first click, last click, linear and position-based (small integers);
   * parts per billion (Σ = SHARE_SCALE), within 1e-9 of the share, for time decay and fitted models.
   */
  readonly weight: number;
}

export interface Fallback {
  readonly model: 'linear';
  /** One sentence: why the model asked for could not be used. */
  readonly reason: string;
}

export interface JourneyShares {
  /** The model asked for; `fallback` says when linear was used instead. */
  readonly model: ModelName;
  /** One entry per distinct creator, in order of first touch; the weights' sum is positive. */
  readonly shares: readonly CreatorShare[];
  readonly fallback?: Fallback;
}

import { AppError } from '../errors/index.js';
import { type PathTotals, requireValidCounts, requireValidJourney } from './journeys.js';
import { markovRemovalEffects } from './markov.js';
import {
  type AggregatedPath,
  type DataDrivenModelName,
  type Fallback,
  type Journey,
  type JourneyShares,
} from './models.js';
import { ruleShares } from './rules.js';
import { distinctCreators, sharesFromDoubles } from './shares.js';
import { type ShapleyOptions, shapleyValues } from './shapley.js';

/**
 * Below this many converting journeys a campaign's data-driven model falls back to linear. Both
 * models estimate a quantity per creator (a transition row, a conversion rate per creator set) from
 * the conversions; with a few dozen, one lucky journey moves a creator's weight by several points,
 * and a payout split should not swing on that. 100 is a judgement, not a standard; pass
 * `minConversions` to change it.
 */
export const DEFAULT_MIN_CONVERSIONS = 100;

export interface FitOptions extends ShapleyOptions {
  /** Converting journeys needed before the model is used instead of linear (default 100). */
  minConversions?: number;
}

interface FitCommon {
  /**
   * Each creator's weight, summing to 1: the campaign-level share of the model (with a fallback, the
   * linear credit over the converting journeys ÷ their number). Empty only without any conversion.
   */
  readonly weights: ReadonlyMap<string, number>;
  readonly totals: PathTotals;
  /** Present when the model could not be fitted and linear stands in for it. */
  readonly fallback?: Fallback;
}

export interface MarkovFit extends FitCommon {
  readonly model: 'markov';
  readonly conversionProbability?: number;
  readonly removalEffects?: ReadonlyMap<string, number>;
}

export interface ShapleyFit extends FitCommon {
  readonly model: 'shapley';
  readonly method?: 'exact' | 'sampled';
  /** Sampled only: standard error of each creator's weight, and the permutations drawn. */
  readonly standardErrors?: ReadonlyMap<string, number>;
  readonly permutations?: number;
}

export type ModelFit = MarkovFit | ShapleyFit;

/**
 * Fits a data-driven model over a campaign's aggregated paths, converting and not. Falls back to
 * linear, saying why, with fewer than `minConversions` converting journeys or fewer than 2 creators
 * (with one creator there is nothing to apportion, and neither model can tell creators apart).
 */
export function fitModel(model: DataDrivenModelName, paths: readonly AggregatedPath[], options: FitOptions = {}): ModelFit {
  const minConversions = options.minConversions ?? DEFAULT_MIN_CONVERSIONS;
  if (!Number.isSafeInteger(minConversions) || minConversions < 1) {
    throw new AppError('invalid_request', `minimum conversions must be a positive integer, got ${minConversions}`);
  }
  const totals = totalsOf(paths);
  const reason =
    totals.conversions < minConversions
      ? `${plural(totals.conversions, 'converting journey')}, fewer than the ${minConversions} the ${model} model needs`
      : totals.creators < 2
        ? `${plural(totals.creators, 'creator')} on the journeys: the ${model} model needs at least 2`
        : undefined;
  if (reason !== undefined) {
    return { model, weights: linearWeights(paths, totals.conversions), totals, fallback: { model: 'linear', reason } };
  }
  if (model === 'markov') {
    const { creators, conversionProbability, removalEffects } = markovRemovalEffects(paths);
    const sum = removalEffects.reduce((a, re) => a + re, 0);
    return {
      model,
      weights: new Map(creators.map((c, i) => [c, removalEffects[i]! / sum])),
      totals,
      conversionProbability,
      removalEffects: new Map(creators.map((c, i) => [c, removalEffects[i]!])),
    };
  }
  const shapley = shapleyValues(paths, options);
  const weight = (phi: number) => phi / shapley.grandWorth;
  return {
    model,
    weights: new Map(shapley.creators.map((c, i) => [c, weight(shapley.values[i]!)])),
    totals,
    method: shapley.method,
    ...(shapley.standardErrors && {
      standardErrors: new Map(shapley.creators.map((c, i) => [c, weight(shapley.standardErrors![i]!)])),
      permutations: shapley.permutations!,
    }),
  };
}

/**
 * A converting journey's shares under a fitted model: the weights of its creators, normalised.
 * Linear stands in, saying so, when the fit itself fell back or when a creator on the journey has
 * weight 0 (not on the journeys fitted, e.g. newer than the fit): normalising would pay them nothing
 * for want of data, not because the model judged their touch worthless.
 */
export function fittedShares(fit: ModelFit, journey: Journey): JourneyShares {
  requireValidJourney(journey);
  const fallback = fit.fallback ?? zeroWeightFallback(fit, journey);
  if (fallback) return { ...ruleShares('linear', journey), model: fit.model, fallback };
  const { creators } = distinctCreators(journey.path);
  return { model: fit.model, shares: sharesFromDoubles(creators, creators.map((c) => fit.weights.get(c)!)) };
}

function zeroWeightFallback(fit: ModelFit, journey: Journey): Fallback | undefined {
  const unweighted = journey.path.find((c) => !((fit.weights.get(c) ?? 0) > 0));
  if (unweighted === undefined) return undefined;
  return { model: 'linear', reason: `creator ${JSON.stringify(unweighted)} has no weight in the ${fit.model} fit` };
}

/** Totals over the paths that carry journeys (a path counted 0 times tells nothing); refuses bad paths. */
function totalsOf(paths: readonly AggregatedPath[]): PathTotals {
  const creators = new Set<string>();
  let conversions = 0;
  let nulls = 0;
  let distinctPaths = 0;
  for (const p of paths) {
    requireValidCounts(p.conversions, p.nulls);
    requireValidJourney({ path: p.path });
    if (p.conversions + p.nulls === 0) continue;
    conversions += p.conversions;
    nulls += p.nulls;
    distinctPaths++;
    for (const c of p.path) creators.add(c);
  }
  return { journeys: conversions + nulls, conversions, nulls, distinctPaths, creators: creators.size };
}

/** Linear credit over the converting journeys, ÷ their number: the fallback's campaign-level weights. */
function linearWeights(paths: readonly AggregatedPath[], conversions: number): Map<string, number> {
  const credit = new Map<string, number>();
  if (conversions === 0) return credit;
  for (const { path, conversions: converted } of paths) {
    if (converted === 0) continue;
    for (const creator of path) credit.set(creator, (credit.get(creator) ?? 0) + converted / path.length);
  }
  return new Map([...credit].map(([c, v]) => [c, v / conversions]));
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

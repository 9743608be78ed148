import { AppError } from '../errors/index.js';
import type { AggregatedPath, Journey } from './models.js';

/**
 * What is wrong with a journey, in words, or undefined when nothing is. `days_before` must list one
 * figure per touch and must not grow along the path: touches are oldest first, so a later touch
 * cannot be further from the conversion (a reversed list would silently swap first and last click).
 */
export function journeyProblem(journey: Journey): string | undefined {
  const { path, daysBefore } = journey;
  if (path.length === 0) return 'path: must list at least one creator';
  const blank = path.findIndex((creator) => typeof creator !== 'string' || creator === '');
  if (blank >= 0) return `path[${blank}]: must be a non-empty creator id`;
  if (daysBefore === undefined) return undefined;
  if (daysBefore.length !== path.length) {
    return `days_before has ${daysBefore.length} entries for a path of ${path.length} touches`;
  }
  for (let i = 0; i < daysBefore.length; i++) {
    const days = daysBefore[i]!;
    if (!Number.isFinite(days) || days < 0) return `days_before[${i}]: must be a non-negative number of days`;
    if (i > 0 && days > daysBefore[i - 1]!) {
      return `days_before[${i}]: ${days} is further from the conversion than the touch before it (${daysBefore[i - 1]}); touches go oldest first`;
    }
  }
  return undefined;
}

export function requireValidJourney(journey: Journey): void {
  const problem = journeyProblem(journey);
  if (problem !== undefined) throw new AppError('invalid_request', `invalid journey: ${problem}`);
}

/** A path's counts are numbers of journeys: non-negative integers. */
export function requireValidCounts(conversions: number, nulls: number): void {
  if (![conversions, nulls].every((count) => Number.isSafeInteger(count) && count >= 0)) {
    throw new AppError('invalid_request', `invalid path counts: conversions ${conversions} and nulls ${nulls} must be non-negative integers`);
  }
}

/** What aggregation saw: the figures a fit reports and its fallback rules look at. */
export interface PathTotals {
  journeys: number;
  conversions: number;
  nulls: number;
  distinctPaths: number;
  creators: number;
}

/**
 * Collapses journeys with the same path (same creators in the same order) into one count of
 * conversions and nulls, so fitting costs the number of distinct paths, not of journeys. Creator ids
 * are interned to small integers for the key, which keeps it short and unambiguous whatever
 * characters an id contains.
 */
export class PathAggregator {
  readonly #creatorIndex = new Map<string, number>();
  readonly #paths = new Map<string, { path: string[]; conversions: number; nulls: number }>();
  #conversions = 0;
  #nulls = 0;

  add(path: readonly string[], conversions: number, nulls: number): void {
    requireValidCounts(conversions, nulls);
    requireValidJourney({ path });
    let key = '';
    for (const creator of path) {
      let index = this.#creatorIndex.get(creator);
      if (index === undefined) {
        index = this.#creatorIndex.size;
        this.#creatorIndex.set(creator, index);
      }
      key += `${index},`;
    }
    const entry = this.#paths.get(key);
    if (entry) {
      entry.conversions += conversions;
      entry.nulls += nulls;
    } else {
      this.#paths.set(key, { path: [...path], conversions, nulls });
    }
    this.#conversions += conversions;
    this.#nulls += nulls;
  }

  paths(): AggregatedPath[] {
    return [...this.#paths.values()].map((p) => ({ ...p }));
  }

  totals(): PathTotals {
    return {
      journeys: this.#conversions + this.#nulls,
      conversions: this.#conversions,
      nulls: this.#nulls,
      distinctPaths: this.#paths.size,
      creators: this.#creatorIndex.size,
    };
  }
}

export function aggregatePaths(journeys: Iterable<AggregatedPath>): AggregatedPath[] {
  const aggregator = new PathAggregator();
  for (const j of journeys) aggregator.add(j.path, j.conversions, j.nulls);
  return aggregator.paths();
}

/**
 * The creators of paths that carry any journey, in order of first appearance, and each one's position
 * in that order (the fitted models' indexes).
 */
export function creatorsOf(paths: readonly AggregatedPath[]): { creators: string[]; index: Map<string, number> } {
  const index = new Map<string, number>();
  const creators: string[] = [];
  for (const { path, conversions, nulls } of paths) {
    if (conversions + nulls === 0) continue;
    for (const creator of path) {
      if (!index.has(creator)) {
        index.set(creator, creators.length);
        creators.push(creator);
      }
    }
  }
  return { creators, index };
}

import { assert } from '../errors/index.js';
import { seededRandom } from '../random/index.js';
import { creatorsOf } from './journeys.js';
import type { AggregatedPath } from './models.js';

/** Exact Shapley values up to this many creators (2^20 worths, 8 MB): beyond it, permutation sampling. */
export const SHAPLEY_EXACT_MAX_CREATORS = 20;
/** Permutations drawn by the sampled estimate unless told otherwise. */
export const DEFAULT_SHAPLEY_PERMUTATIONS = 1000;

export interface ShapleyOptions {
  /** Largest number of creators computed exactly (default 20; lower it only to test the sampler). */
  exactMaxCreators?: number;
  /** Permutations for the sampled estimate (default 1000). */
  permutations?: number;
  /** Seed of the sampled estimate: the same data and seed give the same shares. */
  seed?: number;
}

export interface ShapleyValues {
  /** Creators in order of first appearance in the paths. */
  creators: string[];
  /** φ_i per creator. */
  values: number[];
  /** v(N) = Σ r(T): the shares are φ_i / v(N). */
  grandWorth: number;
  method: 'exact' | 'sampled';
  /** Sampled only: the standard error of each φ_i, and the number of permutations drawn. */
  standardErrors?: number[];
  permutations?: number;
}

/** One exact creator set T with its conversion rate r(T). */
interface CoalitionRate {
  members: number[];
  rate: number;
}

/**
 * Shapley values of the REFERENCE.md formulation: r(T) = conversions / journeys of the journeys
 * whose creator set is exactly T; v(S) = Σ r(T) over non-empty T ⊆ S; φ_i the Shapley value of v.
 *
 * Creators who never appear on a converting journey only occur in sets with r(T) = 0: they are null
 * players (φ = 0 exactly, and removing them changes no one else's φ), so only creators on converting
 * journeys count toward the exact limit.
 */
export function shapleyValues(paths: readonly AggregatedPath[], options: ShapleyOptions = {}): ShapleyValues {
  const { creators, index } = creatorsOf(paths);
  const coalitions = coalitionRates(paths, index);
  const active = [...new Set(coalitions.filter((c) => c.rate > 0).flatMap((c) => c.members))].sort((x, y) => x - y);
  const grandWorth = coalitions.reduce((sum, c) => sum + c.rate, 0);
  assert(grandWorth > 0, 'shapley: no creator set ever converts');
  const limit = options.exactMaxCreators ?? SHAPLEY_EXACT_MAX_CREATORS;
  assert(limit <= SHAPLEY_EXACT_MAX_CREATORS, `shapley: exact computation is limited to ${SHAPLEY_EXACT_MAX_CREATORS} creators`);
  const values = new Array<number>(creators.length).fill(0);
  const position = new Map(active.map((creator, k) => [creator, k]));
  const relevant = coalitions
    .filter((c) => c.rate > 0)
    .map((c) => ({ members: c.members.map((m) => position.get(m)!), rate: c.rate }));

  if (active.length <= limit) {
    exactShapley(relevant, active.length).forEach((phi, k) => (values[active[k]!] = phi));
    return { creators, values, grandWorth, method: 'exact' };
  }
  const permutations = options.permutations ?? DEFAULT_SHAPLEY_PERMUTATIONS;
  assert(Number.isSafeInteger(permutations) && permutations >= 2, 'shapley: at least 2 permutations');
  const sampled = sampledShapley(relevant, active.length, permutations, options.seed ?? 1);
  const standardErrors = new Array<number>(creators.length).fill(0);
  active.forEach((creator, k) => {
    values[creator] = sampled.mean[k]!;
    standardErrors[creator] = sampled.standardError[k]!;
  });
  return { creators, values, grandWorth, method: 'sampled', standardErrors, permutations };
}

/** Paths grouped by their exact creator set (order and repeats dropped), with r(T) per set. */
function coalitionRates(paths: readonly AggregatedPath[], index: ReadonlyMap<string, number>): CoalitionRate[] {
  const sets = new Map<string, { members: number[]; conversions: number; journeys: number }>();
  for (const { path, conversions, nulls } of paths) {
    if (conversions + nulls === 0) continue;
    const members = [...new Set(path.map((c) => index.get(c)!))].sort((x, y) => x - y);
    const key = members.join(',');
    const set = sets.get(key) ?? { members, conversions: 0, journeys: 0 };
    set.conversions += conversions;
    set.journeys += conversions + nulls;
    sets.set(key, set);
  }
  return [...sets.values()].map((s) => ({ members: s.members, rate: s.conversions / s.journeys }));
}

/**
 * Exact φ in O(n·2ⁿ): v of every subset by a subset-sum (zeta) transform of r, then
 * φ_i = Σ_{S ∌ i} |S|!(n−|S|−1)!/n! · (v(S ∪ {i}) − v(S)), visiting each (S, i) pair once.
 */
function exactShapley(coalitions: readonly CoalitionRate[], n: number): number[] {
  const size = 2 ** n;
  const worth = new Float64Array(size);
  for (const { members, rate } of coalitions) {
    let mask = 0;
    for (const m of members) mask |= 1 << m;
    worth[mask]! += rate;
  }
  for (let bit = 1; bit < size; bit <<= 1) {
    for (let mask = 0; mask < size; mask++) {
      if (mask & bit) worth[mask]! += worth[mask ^ bit]!;
    }
  }
  // |S|!(n−|S|−1)!/n! = 1 / (n · C(n−1, |S|)).
  const coefficient = new Float64Array(Math.max(n, 1));
  let binomial = 1;
  for (let s = 0; s < n; s++) {
    coefficient[s] = 1 / (n * binomial);
    binomial = (binomial * (n - 1 - s)) / (s + 1);
  }
  const popcount = new Uint8Array(size);
  for (let mask = 1; mask < size; mask++) popcount[mask] = popcount[mask >> 1]! + (mask & 1);
  const phi = new Float64Array(n);
  const full = size - 1;
  for (let mask = 0; mask < full; mask++) {
    const base = worth[mask]!;
    const c = coefficient[popcount[mask]!]!;
    let free = full & ~mask;
    while (free !== 0) {
      const bit = free & -free;
      phi[31 - Math.clz32(bit)]! += c * (worth[mask | bit]! - base);
      free ^= bit;
    }
  }
  return [...phi];
}

/**
 * Permutation sampling: in each random order, a creator's marginal contribution is the r(T) of every
 * set T it completes. Sets are tracked by how many of their members have arrived, so one permutation
 * costs Σ|T| over the converting sets. The standard error is the sample standard deviation of the
 * marginals over √permutations.
 */
function sampledShapley(
  coalitions: readonly CoalitionRate[],
  n: number,
  permutations: number,
  seed: number,
): { mean: number[]; standardError: number[] } {
  const containing: number[][] = Array.from({ length: n }, () => []);
  coalitions.forEach((c, k) => c.members.forEach((m) => containing[m]!.push(k)));
  const arrived = new Int32Array(coalitions.length);
  const sum = new Float64Array(n);
  const sumSquares = new Float64Array(n);
  const order = Array.from({ length: n }, (_, i) => i);
  const random = seededRandom(seed);
  for (let p = 0; p < permutations; p++) {
    for (let i = n - 1; i > 0; i--) {
      const j = random.int(0, i);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    arrived.fill(0);
    for (const creator of order) {
      let marginal = 0;
      for (const k of containing[creator]!) {
        if (++arrived[k]! === coalitions[k]!.members.length) marginal += coalitions[k]!.rate;
      }
      sum[creator]! += marginal;
      sumSquares[creator]! += marginal * marginal;
    }
  }
  const mean = [...sum].map((s) => s / permutations);
  const standardError = mean.map((m, i) => {
    const variance = Math.max(0, (sumSquares[i]! - permutations * m * m) / (permutations - 1));
    return Math.sqrt(variance / permutations);
  });
  return { mean, standardError };
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../random/index.js';
import { type AggregatedPath, type ShapleyFit, fitModel, fittedShares } from './index.js';
import { arbitraryPaths, total } from './test-support.js';

const fitShapley = (paths: AggregatedPath[], options: { exactMaxCreators?: number; permutations?: number; seed?: number } = {}) =>
  fitModel('shapley', paths, { minConversions: 1, ...options }) as ShapleyFit;

/** r(T) per exact creator set, straight from the definition. */
function rates(paths: readonly AggregatedPath[]): Array<{ set: Set<string>; rate: number }> {
  const sets = new Map<string, { set: Set<string>; conversions: number; journeys: number }>();
  for (const { path, conversions, nulls } of paths) {
    if (conversions + nulls === 0) continue;
    const set = new Set(path);
    const key = [...set].sort().join('|');
    const entry = sets.get(key) ?? { set, conversions: 0, journeys: 0 };
    entry.conversions += conversions;
    entry.journeys += conversions + nulls;
    sets.set(key, entry);
  }
  return [...sets.values()].map((s) => ({ set: s.set, rate: s.conversions / s.journeys }));
}

/** Brute force: φ as the average marginal contribution over all n! orders, v(S) summed directly. */
function shapleyByPermutations(paths: readonly AggregatedPath[]): Map<string, number> {
  const r = rates(paths);
  const players = [...new Set(r.flatMap(({ set }) => [...set]))];
  const worth = (s: Set<string>) => total(r.filter(({ set }) => [...set].every((c) => s.has(c))).map(({ rate }) => rate));
  const phi = new Map(players.map((p) => [p, 0]));
  let orders = 0;
  const visit = (order: string[], rest: string[]) => {
    if (rest.length === 0) {
      orders++;
      const s = new Set<string>();
      for (const p of order) {
        const before = worth(s);
        s.add(p);
        phi.set(p, phi.get(p)! + worth(s) - before);
      }
      return;
    }
    rest.forEach((p, i) => visit([...order, p], [...rest.slice(0, i), ...rest.slice(i + 1)]));
  };
  visit([], players);
  return new Map([...phi].map(([p, v]) => [p, v / orders]));
}

/** v(N), and φ by the Harsanyi dividends of v: each set's r(T) split equally among its members. */
function shapleyByDividends(paths: readonly AggregatedPath[]): { phi: Map<string, number>; grand: number } {
  const phi = new Map<string, number>();
  let grand = 0;
  for (const { set, rate } of rates(paths)) {
    grand += rate;
    for (const c of set) phi.set(c, (phi.get(c) ?? 0) + rate / set.size);
  }
  return { phi, grand };
}

const weightsOf = (fit: ShapleyFit) => Object.fromEntries(fit.weights);

describe('shapley (REFERENCE.md formulation)', () => {
  it('two creators, by hand: r(A)=0.1, r(B)=0.2, r(AB)=0.5 → φ = 0.35, 0.45 of v(N) = 0.8', () => {
    // v(A) = 0.1, v(B) = 0.2, v(AB) = 0.8; φ_A = ½·0.1 + ½·(0.8 − 0.2) = 0.35, φ_B = ½·0.2 + ½·(0.8 − 0.1) = 0.45.
    const fit = fitShapley([
      { path: ['A'], conversions: 1, nulls: 9 },
      { path: ['B'], conversions: 2, nulls: 8 },
      { path: ['A', 'B'], conversions: 1, nulls: 0 },
      { path: ['B', 'A', 'B'], conversions: 0, nulls: 1 },
    ]);
    expect(fit.method).toBe('exact');
    expect(weightsOf(fit).A).toBeCloseTo(0.35 / 0.8, 14);
    expect(weightsOf(fit).B).toBeCloseTo(0.45 / 0.8, 14);
  });

  it('three creators, by hand: r(A)=1/2, r(AB)=1, r(BC)=1/4 → shares 4/7, 5/14, 1/14', () => {
    // v: A=1/2, B=0, C=0, AB=3/2, AC=1/2, BC=1/4, ABC=7/4.
    // φ_A = 1/3·(1/2) + 1/6·(3/2 − 0) + 1/6·(1/2 − 0) + 1/3·(7/4 − 1/4) = 1/6 + 1/4 + 1/12 + 1/2 = 1
    // φ_B = 1/3·0 + 1/6·(3/2 − 1/2) + 1/6·(1/4 − 0) + 1/3·(7/4 − 1/2) = 1/6 + 1/24 + 5/12 = 5/8
    // φ_C = 7/4 − 1 − 5/8 = 1/8
    const fit = fitShapley([
      { path: ['A'], conversions: 1, nulls: 1 },
      { path: ['A', 'B'], conversions: 2, nulls: 0 },
      { path: ['C', 'B'], conversions: 1, nulls: 3 },
    ]);
    expect(weightsOf(fit).A).toBeCloseTo(4 / 7, 14);
    expect(weightsOf(fit).B).toBeCloseTo(5 / 14, 14);
    expect(weightsOf(fit).C).toBeCloseTo(1 / 14, 14);
  });

  it('the reference Markov paths give each of C1, C2, C3 a third (only {C1,C2,C3} ever converts)', () => {
    const fit = fitShapley([
      { path: ['C1', 'C2', 'C3'], conversions: 1, nulls: 0 },
      { path: ['C1'], conversions: 0, nulls: 1 },
      { path: ['C2', 'C3'], conversions: 0, nulls: 1 },
    ]);
    for (const c of ['C1', 'C2', 'C3']) expect(weightsOf(fit)[c]).toBeCloseTo(1 / 3, 14);
  });

  it('exact values equal the brute force over all orders on random campaigns (up to 6 creators)', () => {
    fc.assert(
      fc.property(arbitraryPaths({ creators: 6, maxPaths: 10, maxLength: 5 }), (paths) => {
        const fit = fitShapley(paths);
        if (fit.fallback) return;
        const phi = shapleyByPermutations(paths);
        const grand = total(phi.values());
        for (const [creator, weight] of fit.weights) expect(weight).toBeCloseTo((phi.get(creator) ?? 0) / grand, 12);
      }),
      { numRuns: 60 },
    );
  });

  it('exact values equal the Harsanyi-dividend form at 20 creators', () => {
    const random = seededRandom(20);
    const creators = Array.from({ length: 20 }, (_, i) => `k${i}`);
    const paths: AggregatedPath[] = Array.from({ length: 400 }, () => ({
      path: Array.from({ length: random.int(1, 6) }, () => random.pick(creators)),
      conversions: random.int(0, 3),
      nulls: random.int(0, 20),
    }));
    const fit = fitShapley(paths);
    expect(fit.method).toBe('exact');
    const { phi, grand } = shapleyByDividends(paths);
    for (const [creator, weight] of fit.weights) expect(weight).toBeCloseTo((phi.get(creator) ?? 0) / grand, 12);
  });

  it('a creator never on a converting journey gets exactly 0 and does not count toward the exact limit', () => {
    const paths: AggregatedPath[] = [
      { path: ['A', 'B'], conversions: 2, nulls: 2 },
      { path: ['A'], conversions: 1, nulls: 3 },
      ...Array.from({ length: 25 }, (_, i) => ({ path: [`idle${i}`, 'A'], conversions: 0, nulls: 4 })),
    ];
    const fit = fitShapley(paths);
    expect(fit.method).toBe('exact');
    expect(fit.weights.get('idle7')).toBe(0);
    expect(fit.weights.get('A')! + fit.weights.get('B')!).toBeCloseTo(1, 14);
  });

  describe('sampled estimate (more creators than the exact limit)', () => {
    function campaign(seed: number, n: number): AggregatedPath[] {
      const random = seededRandom(seed);
      const creators = Array.from({ length: n }, (_, i) => `s${i}`);
      return Array.from({ length: 300 }, () => ({
        path: Array.from({ length: random.int(1, 5) }, () => random.pick(creators)),
        conversions: random.int(0, 4),
        nulls: random.int(0, 12),
      }));
    }

    it('n = 12 with the exact limit lowered to 10: every weight within 4 standard errors of the exact one', () => {
      const paths = campaign(12, 12);
      const exact = fitShapley(paths);
      const sampled = fitShapley(paths, { exactMaxCreators: 10, permutations: 2000, seed: 5 });
      expect(exact.method).toBe('exact');
      expect(sampled.method).toBe('sampled');
      expect(sampled.permutations).toBe(2000);
      expect(total(sampled.weights.values())).toBeCloseTo(1, 12);
      for (const [creator, weight] of exact.weights) {
        const se = sampled.standardErrors!.get(creator)!;
        expect(se).toBeGreaterThan(0);
        expect(se).toBeLessThan(0.01);
        expect(Math.abs(sampled.weights.get(creator)! - weight)).toBeLessThanOrEqual(4 * se);
      }
    });

    it('the reported error is honest: over 20 seeds, about 68 % of estimates fall within 1 standard error', () => {
      const paths = campaign(7, 12);
      const exact = fitShapley(paths);
      let within = 0;
      let count = 0;
      for (let seed = 1; seed <= 20; seed++) {
        const sampled = fitShapley(paths, { exactMaxCreators: 10, permutations: 400, seed });
        for (const [creator, weight] of exact.weights) {
          count++;
          if (Math.abs(sampled.weights.get(creator)! - weight) <= sampled.standardErrors!.get(creator)!) within++;
        }
      }
      expect(within / count).toBeGreaterThan(0.55);
      expect(within / count).toBeLessThan(0.8);
    });

    it('more than 20 creators on converting journeys: sampled, reproducible by seed, with standard errors', () => {
      const paths = campaign(30, 30);
      const first = fitShapley(paths, { seed: 3 });
      expect(first.method).toBe('sampled');
      expect(first.permutations).toBe(1000);
      expect(fitShapley(paths, { seed: 3 }).weights).toEqual(first.weights);
      const { phi, grand } = shapleyByDividends(paths);
      for (const [creator, weight] of first.weights) {
        expect(Math.abs(weight - phi.get(creator)! / grand)).toBeLessThanOrEqual(4 * first.standardErrors!.get(creator)! + 1e-12);
      }
    });
  });

  it('a converting journey is split by its creators\' weights, normalised', () => {
    const fit = fitShapley([
      { path: ['A'], conversions: 1, nulls: 1 },
      { path: ['A', 'B'], conversions: 2, nulls: 0 },
      { path: ['C', 'B'], conversions: 1, nulls: 3 },
    ]);
    const shares = fittedShares(fit, { path: ['B', 'C', 'B'] });
    // B : C = 5/14 : 1/14.
    expect(shares.shares.map((s) => s.creator)).toEqual(['B', 'C']);
    expect(shares.shares[0]!.share).toBeCloseTo(5 / 6, 14);
    expect(shares.shares[1]!.share).toBeCloseTo(1 / 6, 14);
    expect(shares.fallback).toBeUndefined();
  });
});

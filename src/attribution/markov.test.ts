import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AggregatedPath, type MarkovFit, fitModel, fittedShares } from './index.js';
import { arbitraryPaths, total } from './test-support.js';

const fitMarkov = (paths: AggregatedPath[]) => fitModel('markov', paths, { minConversions: 1 }) as MarkovFit;

/**
 * An independent oracle: P(conv) of the first-order chain by value iteration (x ← Q·x + b until it
 * stops moving), with a removed creator's state pinned to 0 (its transitions go to NULL).
 */
function conversionByIteration(paths: readonly AggregatedPath[], removed?: string): number {
  const counts = new Map<string, Map<string, number>>();
  const bump = (from: string, to: string, n: number) => {
    const row = counts.get(from) ?? new Map<string, number>();
    row.set(to, (row.get(to) ?? 0) + n);
    counts.set(from, row);
  };
  for (const { path, conversions, nulls } of paths) {
    const states = ['START', ...path.map((c) => `c:${c}`)];
    for (let i = 1; i < states.length; i++) bump(states[i - 1]!, states[i]!, conversions + nulls);
    bump(states.at(-1)!, 'CONV', conversions);
    bump(states.at(-1)!, 'NULL', nulls);
  }
  const value = new Map<string, number>([['CONV', 1]]);
  for (let round = 0; round < 100_000; round++) {
    let change = 0;
    for (const [from, row] of counts) {
      if (from === `c:${removed}`) continue;
      const out = total(row.values());
      if (out === 0) continue;
      let x = 0;
      for (const [to, n] of row) x += (n / out) * (to === `c:${removed}` ? 0 : (value.get(to) ?? 0));
      change = Math.max(change, Math.abs(x - (value.get(from) ?? 0)));
      value.set(from, x);
    }
    if (change < 1e-15) break;
  }
  return value.get('START') ?? 0;
}

describe('markov removal effect (REFERENCE.md, Anderl et al. 2016)', () => {
  const reference: AggregatedPath[] = [
    { path: ['C1', 'C2', 'C3'], conversions: 1, nulls: 0 },
    { path: ['C1'], conversions: 0, nulls: 1 },
    { path: ['C2', 'C3'], conversions: 0, nulls: 1 },
  ];

  it('reference paths: P(conv) = 1/3, RE = {C1: 0.5, C2: 1, C3: 1}, credit {0.2, 0.4, 0.4}', () => {
    const fit = fitMarkov(reference);
    expect(fit.fallback).toBeUndefined();
    expect(fit.conversionProbability).toBeCloseTo(1 / 3, 14);
    const re = Object.fromEntries(fit.removalEffects!);
    expect(re.C1).toBeCloseTo(0.5, 14);
    expect(re.C2).toBeCloseTo(1, 14);
    expect(re.C3).toBeCloseTo(1, 14);
    const totalConversions = 1;
    const credit = Object.fromEntries([...fit.weights].map(([c, w]) => [c, totalConversions * w]));
    expect(credit.C1).toBeCloseTo(0.2, 14);
    expect(credit.C2).toBeCloseTo(0.4, 14);
    expect(credit.C3).toBeCloseTo(0.4, 14);
  });

  it('the reference journey C1>C2>C3 splits 0.2 / 0.4 / 0.4, exactly to the part per billion', () => {
    const shares = fittedShares(fitMarkov(reference), { path: ['C1', 'C2', 'C3'] });
    expect(shares.shares.map((s) => [s.creator, s.weight])).toEqual([
      ['C1', 200_000_000],
      ['C2', 400_000_000],
      ['C3', 400_000_000],
    ]);
  });

  it('agrees with value iteration of the chain, with and without each creator, on random campaigns', () => {
    fc.assert(
      fc.property(arbitraryPaths({ creators: 5, maxPaths: 10 }), (paths) => {
        const fit = fitMarkov(paths);
        if (fit.fallback) return; // a single creator: nothing to compare
        const p = conversionByIteration(paths);
        expect(fit.conversionProbability).toBeCloseTo(p, 10);
        for (const [creator, re] of fit.removalEffects!) {
          expect(re).toBeCloseTo(1 - conversionByIteration(paths, creator) / p, 9);
        }
        expect(total(fit.weights.values())).toBeCloseTo(1, 12);
      }),
      { numRuns: 200 },
    );
  });

  it('handles loops and repeated touches (C1>C2>C1) without simulation error', () => {
    const paths: AggregatedPath[] = [
      { path: ['C1', 'C2', 'C1'], conversions: 3, nulls: 2 },
      { path: ['C2', 'C2'], conversions: 1, nulls: 4 },
      { path: ['C1'], conversions: 0, nulls: 5 },
    ];
    const fit = fitMarkov(paths);
    const p = conversionByIteration(paths);
    expect(fit.conversionProbability).toBeCloseTo(p, 12);
    expect(fit.removalEffects!.get('C1')).toBeCloseTo(1 - conversionByIteration(paths, 'C1') / p, 12);
  });

  it('a creator from whom no journey ever converts gets weight 0; one who leads to converting creators does not', () => {
    const fit = fitMarkov([
      { path: ['A', 'B'], conversions: 5, nulls: 5 },
      { path: ['A'], conversions: 0, nulls: 10 },
      { path: ['Z'], conversions: 0, nulls: 10 },
      { path: ['L', 'B'], conversions: 0, nulls: 3 },
    ]);
    expect(fit.weights.get('Z')).toBe(0);
    expect(fit.weights.get('L')).toBeGreaterThan(0);
  });
});

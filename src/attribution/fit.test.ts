import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/index.js';
import { allocate } from '../money/index.js';
import { type AggregatedPath, DATA_DRIVEN_MODELS, DEFAULT_MIN_CONVERSIONS, SHARE_SCALE, fitModel, fittedShares } from './index.js';
import { arbitraryPaths, total } from './test-support.js';

/** A campaign with `conversions` converting journeys spread over A, B and C. */
function campaign(conversions: number): AggregatedPath[] {
  return [
    { path: ['A', 'B'], conversions: conversions - Math.floor(conversions / 3), nulls: 40 },
    { path: ['C'], conversions: Math.floor(conversions / 3), nulls: 60 },
    { path: ['B'], conversions: 0, nulls: 25 },
  ];
}

describe.each(DATA_DRIVEN_MODELS)('%s fit: minimum data and fallbacks', (model) => {
  it(`uses the model from ${DEFAULT_MIN_CONVERSIONS} converting journeys on, and linear below, saying why`, () => {
    expect(fitModel(model, campaign(DEFAULT_MIN_CONVERSIONS)).fallback).toBeUndefined();
    const below = fitModel(model, campaign(DEFAULT_MIN_CONVERSIONS - 1));
    expect(below.fallback).toEqual({
      model: 'linear',
      reason: `${DEFAULT_MIN_CONVERSIONS - 1} converting journeys, fewer than the ${DEFAULT_MIN_CONVERSIONS} the ${model} model needs`,
    });
    // The fallback's weights are linear credit ÷ conversions: A and B split 66 journeys, C has 33.
    expect(Object.fromEntries(below.weights)).toEqual({ A: 33 / 99, B: 33 / 99, C: 33 / 99 });
    expect(below.totals).toEqual({ journeys: 99 + 125, conversions: 99, nulls: 125, distinctPaths: 3, creators: 3 });
  });

  it('the minimum is an option', () => {
    expect(fitModel(model, campaign(9), { minConversions: 9 }).fallback).toBeUndefined();
    expect(fitModel(model, campaign(9), { minConversions: 10 }).fallback?.reason).toMatch(/^9 converting journeys, fewer than the 10/);
    expect(() => fitModel(model, campaign(9), { minConversions: 0 })).toThrow(AppError);
  });

  it('falls back with a single creator, and with no conversion at all (then there are no weights)', () => {
    const single = fitModel(model, [{ path: ['A', 'A'], conversions: 500, nulls: 10 }]);
    expect(single.fallback?.reason).toBe(`1 creator on the journeys: the ${model} model needs at least 2`);
    expect(Object.fromEntries(single.weights)).toEqual({ A: 1 });
    const none = fitModel(model, [{ path: ['A', 'B'], conversions: 0, nulls: 10 }]);
    expect(none.fallback?.reason).toMatch(/^0 converting journeys/);
    expect(none.weights.size).toBe(0);
  });

  it('a journey under a fallen-back fit is split linearly and says so', () => {
    const fit = fitModel(model, campaign(5));
    const shares = fittedShares(fit, { path: ['A', 'B', 'A'] });
    expect(shares.model).toBe(model);
    expect(shares.fallback).toEqual(fit.fallback);
    expect(shares.shares.map((s) => [s.creator, s.share])).toEqual([['A', 2 / 3], ['B', 1 / 3]]);
  });

  it('a journey with a creator the fit gave no weight (here: not in the fitted data) is split linearly, and says which', () => {
    const fit = fitModel(model, campaign(300));
    const shares = fittedShares(fit, { path: ['A', 'Newcomer'] });
    expect(shares.fallback).toEqual({ model: 'linear', reason: `creator "Newcomer" has no weight in the ${model} fit` });
    expect(shares.shares.map((s) => s.share)).toEqual([0.5, 0.5]);
  });

  it('refuses paths with bad counts or blank creators', () => {
    expect(() => fitModel(model, [{ path: ['A'], conversions: -1, nulls: 0 }])).toThrow(/non-negative integers/);
    expect(() => fitModel(model, [{ path: ['A'], conversions: 1.5, nulls: 0 }])).toThrow(/non-negative integers/);
    expect(() => fitModel(model, [{ path: [], conversions: 1, nulls: 0 }])).toThrow(/at least one creator/);
  });

  it('properties: weights ≥ 0 summing to 1; each converting journey\'s shares ≥ 0, in parts per billion summing exactly, splitting any payout exactly', () => {
    fc.assert(
      fc.property(arbitraryPaths({ creators: 6, maxPaths: 12 }), fc.bigInt({ min: 0n, max: 10n ** 12n }), (paths, payout) => {
        const fit = fitModel(model, paths, { minConversions: 1 });
        expect([...fit.weights.values()].every((w) => w >= 0)).toBe(true);
        expect(total(fit.weights.values())).toBeCloseTo(1, 12);
        for (const { path, conversions } of paths) {
          if (conversions === 0) continue;
          const { shares, fallback } = fittedShares(fit, { path });
          const weights = shares.map((s) => s.weight);
          if (!fallback) expect(total(weights)).toBe(SHARE_SCALE);
          expect(shares.every((s) => s.share >= 0)).toBe(true);
          expect(total(shares.map((s) => s.share))).toBeCloseTo(1, 12);
          expect(allocate(payout, weights).reduce((a, p) => a + p, 0n)).toBe(payout);
        }
      }),
      { numRuns: 150 },
    );
  });
});

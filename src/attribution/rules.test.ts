import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/index.js';
import { allocate } from '../money/index.js';
import { type JourneyShares, RULE_MODELS, SHARE_SCALE, ruleShares } from './index.js';

/** Shares as { creator: share }, for readable expectations. */
const byCreator = (result: JourneyShares) => Object.fromEntries(result.shares.map((s) => [s.creator, s.share]));
const weightSum = (result: JourneyShares) => result.shares.reduce((sum, s) => sum + s.weight, 0);

function expectInvalid(action: () => unknown, message: RegExp): void {
  let thrown: unknown;
  try {
    action();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(AppError);
  expect((thrown as AppError).code).toBe('invalid_request');
  expect((thrown as AppError).message).toMatch(message);
}

describe('time decay (REFERENCE.md)', () => {
  it('gives touches 22, 15, 8 and 1 days before the conversion 1/15, 2/15, 4/15 and 8/15', () => {
    const result = ruleShares('time_decay', { path: ['a', 'b', 'c', 'd'], daysBefore: [22, 15, 8, 1] });
    const shares = byCreator(result);
    expect(shares.a).toBeCloseTo(1 / 15, 14);
    expect(shares.b).toBeCloseTo(2 / 15, 14);
    expect(shares.c).toBeCloseTo(4 / 15, 14);
    expect(shares.d).toBeCloseTo(8 / 15, 14);
    // In parts per billion, by largest remainder: 66,666,666.67 / 133,333,333.33 / 266,666,666.67 / 533,333,333.33.
    expect(result.shares.map((s) => s.weight)).toEqual([66_666_667, 133_333_333, 266_666_667, 533_333_333]);
  });

  it('halves a touch per half-life: 14 days apart with a 14-day half-life is 1/3 and 2/3', () => {
    const result = ruleShares('time_decay', { path: ['old', 'new'], daysBefore: [14, 0] }, { halfLifeDays: 14 });
    expect(byCreator(result).old).toBeCloseTo(1 / 3, 14);
    expect(byCreator(result).new).toBeCloseTo(2 / 3, 14);
  });

  it('splits equally when the touches are equally old, and sums a creator\'s touches', () => {
    expect(byCreator(ruleShares('time_decay', { path: ['a', 'b'], daysBefore: [3, 3] }))).toEqual({ a: 0.5, b: 0.5 });
    const repeated = byCreator(ruleShares('time_decay', { path: ['a', 'b', 'a', 'c'], daysBefore: [22, 15, 8, 1] }));
    expect(repeated.a).toBeCloseTo(5 / 15, 14);
  });

  it('still credits journeys whose touches are all years old (no underflow to zero weights)', () => {
    const result = ruleShares('time_decay', { path: ['a', 'b'], daysBefore: [20_007, 20_000] });
    expect(byCreator(result).a).toBeCloseTo(1 / 3, 14);
    expect(weightSum(result)).toBe(SHARE_SCALE);
  });

  it('needs days_before, one non-negative figure per touch, oldest first, and a positive half-life', () => {
    expectInvalid(() => ruleShares('time_decay', { path: ['a'] }), /time_decay needs days_before/);
    expectInvalid(() => ruleShares('time_decay', { path: ['a', 'b'], daysBefore: [3] }), /days_before has 1 entries for a path of 2 touches/);
    expectInvalid(() => ruleShares('time_decay', { path: ['a', 'b'], daysBefore: [1, 3] }), /days_before\[1\]: 3 is further/);
    expectInvalid(() => ruleShares('time_decay', { path: ['a'], daysBefore: [-1] }), /days_before\[0\]: must be a non-negative/);
    expectInvalid(() => ruleShares('time_decay', { path: ['a'], daysBefore: [Number.NaN] }), /days_before\[0\]/);
    for (const halfLifeDays of [0, -7, Number.POSITIVE_INFINITY, Number.NaN]) {
      expectInvalid(() => ruleShares('time_decay', { path: ['a'], daysBefore: [1] }, { halfLifeDays }), /half-life must be a positive number/);
    }
  });
});

describe('position based (REFERENCE.md: 40/20/40, two touches 50/50)', () => {
  it.each([
    [['a'], { a: 1 }],
    [['a', 'b'], { a: 0.5, b: 0.5 }],
    [['a', 'b', 'c'], { a: 0.4, b: 0.2, c: 0.4 }],
    [['a', 'b', 'c', 'd', 'e'], { a: 0.4, b: 0.2 / 3, c: 0.2 / 3, d: 0.2 / 3, e: 0.4 }],
  ])('%j → %j', (path, expected) => {
    const shares = byCreator(ruleShares('position_based', { path }));
    expect(Object.keys(shares)).toEqual(Object.keys(expected));
    for (const [creator, share] of Object.entries(expected)) expect(shares[creator]).toBeCloseTo(share, 15);
  });

  it('is exact: integer weights 2m : 1 … 1 : 2m for m middle touches', () => {
    expect(ruleShares('position_based', { path: ['a', 'b', 'c', 'd', 'e'] }).shares.map((s) => s.weight)).toEqual([6, 1, 1, 1, 6]);
    expect(ruleShares('position_based', { path: ['a', 'b'] }).shares.map((s) => s.weight)).toEqual([1, 1]);
  });

  it('sums a creator\'s positions: first and last touch by the same creator is 80 %', () => {
    expect(byCreator(ruleShares('position_based', { path: ['a', 'b', 'a'] }))).toEqual({ a: 0.8, b: 0.2 });
  });
});

describe('first click, last click, linear', () => {
  const path = ['a', 'b', 'a', 'c'];
  it('first click credits the first touch, last click the last, linear each touch equally', () => {
    expect(byCreator(ruleShares('first_click', { path }))).toEqual({ a: 1, b: 0, c: 0 });
    expect(byCreator(ruleShares('last_click', { path }))).toEqual({ a: 0, b: 0, c: 1 });
    expect(byCreator(ruleShares('linear', { path }))).toEqual({ a: 0.5, b: 0.25, c: 0.25 });
  });

  it('a single touch gets everything in every rule-based model', () => {
    for (const model of RULE_MODELS) {
      expect(byCreator(ruleShares(model, { path: ['solo'], daysBefore: [4] }))).toEqual({ solo: 1 });
    }
  });

  it('linear thirds split a payout exactly with allocate: 100 → 34, 33, 33', () => {
    const result = ruleShares('linear', { path: ['a', 'b', 'c'] });
    expect(allocate(100n, result.shares.map((s) => s.weight))).toEqual([34n, 33n, 33n]);
  });

  it('refuses an empty path or a blank creator id', () => {
    expectInvalid(() => ruleShares('linear', { path: [] }), /at least one creator/);
    expectInvalid(() => ruleShares('linear', { path: ['a', ''] }), /path\[1\]/);
  });
});

describe('properties of every rule-based model', () => {
  const creator = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
  const journey = fc
    .array(fc.tuple(creator, fc.double({ min: 0, max: 400, noNaN: true })), { minLength: 1, maxLength: 12 })
    .map((touches) => {
      const days = touches.map(([, d]) => d).sort((x, y) => y - x);
      return { path: touches.map(([c]) => c), daysBefore: days };
    });
  const model = fc.constantFrom(...RULE_MODELS);
  const halfLifeDays = fc.double({ min: 0.01, max: 365, noNaN: true });

  it('shares are ≥ 0 and sum to 1; weights are integers carrying them (exactly, or in parts per billion for time decay)', () => {
    fc.assert(
      fc.property(model, journey, halfLifeDays, (m, j, h) => {
        const result = ruleShares(m, j, { halfLifeDays: h });
        const sum = weightSum(result);
        expect(sum).toBeGreaterThan(0);
        for (const s of result.shares) {
          expect(s.share).toBeGreaterThanOrEqual(0);
          expect(Number.isSafeInteger(s.weight) && s.weight >= 0).toBe(true);
          if (m === 'time_decay') expect(Math.abs(s.share - s.weight / sum)).toBeLessThan(1e-9);
          else expect(s.share).toBe(s.weight / sum);
        }
        expect(result.shares.reduce((a, s) => a + s.share, 0)).toBeCloseTo(1, 12);
        if (m === 'time_decay') expect(sum).toBe(SHARE_SCALE);
      }),
    );
  });

  it('lists each creator once, in order of first touch, and nobody who is not on the path', () => {
    fc.assert(
      fc.property(model, journey, (m, j) => {
        const result = ruleShares(m, j);
        expect(result.shares.map((s) => s.creator)).toEqual([...new Set(j.path)]);
      }),
    );
  });

  it('a creator\'s share is the sum of their touches: splitting one creator into per-touch aliases and adding back gives the same', () => {
    fc.assert(
      fc.property(model, journey, (m, j) => {
        const aliased = { ...j, path: j.path.map((c, i) => `${c}#${i}`) };
        const perTouch = ruleShares(m, aliased).shares;
        const summed = new Map<string, number>();
        for (const s of perTouch) {
          const original = s.creator.split('#')[0]!;
          summed.set(original, (summed.get(original) ?? 0) + s.share);
        }
        for (const s of ruleShares(m, j).shares) expect(s.share).toBeCloseTo(summed.get(s.creator)!, 12);
      }),
    );
  });

  it('a payout split by the weights sums to the payout exactly', () => {
    fc.assert(
      fc.property(model, journey, fc.bigInt({ min: 0n, max: 10n ** 15n }), (m, j, payout) => {
        const parts = allocate(payout, ruleShares(m, j).shares.map((s) => s.weight));
        expect(parts.reduce((a, p) => a + p, 0n)).toBe(payout);
        expect(parts.every((p) => p >= 0n)).toBe(true);
      }),
    );
  });
});

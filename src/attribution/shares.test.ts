import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quantise } from './index.js';
import { exactRatios } from './shares.js';

describe('exactRatios', () => {
  it('gives integers in exactly the ratios of the doubles', () => {
    // 0.5 : 0.25 : 3 = 2 : 1 : 12, whatever common factor the integers carry.
    const [half, quarter, three, zero] = exactRatios([0.5, 0.25, 3, 0]);
    expect(half).toBe(2n * quarter!);
    expect(three).toBe(12n * quarter!);
    expect(zero).toBe(0n);
    const [a, b] = exactRatios([0.1, 0.3]);
    // 0.3 as a double is not exactly 3 × (0.1 as a double): the ratio must say so.
    expect(a! * 3n === b!).toBe(false);
  });

  it('keeps subnormal and huge values exact', () => {
    const [tiny, one] = exactRatios([Number.MIN_VALUE, 1]);
    expect(tiny).toBe(1n);
    expect(one).toBe(1n << 1074n);
    const [max, unit] = exactRatios([Number.MAX_VALUE, 2 ** 971]);
    expect(max).toBe((2n ** 53n - 1n) * unit!);
  });

  it('scaling a double by 2^k scales its integer by exactly 2^k', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-200, max: 1e200, noNaN: true }), fc.integer({ min: -60, max: 60 }), (x, k) => {
        const [rx, ry] = exactRatios([x, x * 2 ** k]);
        if (k >= 0) expect(ry).toBe(rx! << BigInt(k));
        else expect(rx).toBe(ry! << BigInt(-k));
      }),
    );
  });
});

describe('quantise', () => {
  it('splits a total in proportion with largest remainders, summing exactly', () => {
    expect(quantise([1, 1, 1], 100n)).toEqual([34n, 33n, 33n]);
    expect(quantise([1 / 15, 2 / 15, 4 / 15, 8 / 15], 1_000_000_000n).reduce((a, b) => a + b, 0n)).toBe(1_000_000_000n);
  });
});

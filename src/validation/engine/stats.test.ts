import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binomialCdf, binomialSf, logGamma } from './stats.js';

/** Reference values from SciPy 1.17 (`binom.cdf(k, n, p)` and `binom.sf(k − 1, n, p)`). */
const CDF: ReadonlyArray<[number, number, number, number]> = [
  [3, 100, 0.1, 0.00783648712118442],
  [0, 10, 0.5, 0.0009765625],
  [2, 20, 0.3, 0.03548313229846864],
  [10, 1000, 0.02, 0.010236548159763267],
  [5, 1000, 0.02, 6.400906688292924e-5],
  [0, 250, 0.02, 0.00640499688879492],
  [0, 2000, 0.05, 2.800338799355165e-45],
  [4999, 10000, 0.5, 0.49601067693030826],
  [900, 1_000_000, 0.001, 0.0006940154622868455],
  [3, 5, 0.9, 0.08146],
];
const SF: ReadonlyArray<[number, number, number, number]> = [
  [8, 10, 0.5, 0.0546875],
  [17, 30, 0.3, 0.00212469075065431],
  [10, 10, 0.3, 5.9049e-6],
  [1200, 1_000_000, 0.001, 4.589638606100776e-10],
  [90, 100, 0.3, 4.477482114901701e-36],
  [5001, 10000, 0.5, 0.49601067693030826],
];

/** The tail summed term by term with exact binomial coefficients: an independent oracle for small n. */
function exactCdf(k: number, n: number, p: number): number {
  let sum = 0;
  let coefficient = 1;
  for (let i = 0; i <= k; i++) {
    sum += coefficient * p ** i * (1 - p) ** (n - i);
    coefficient = (coefficient * (n - i)) / (i + 1);
  }
  return sum;
}

describe('binomial tails', () => {
  it.each(CDF)('P(X ≤ %i | n=%i, p=%f) = %f', (k, n, p, expected) => {
    expect(binomialCdf(k, n, p) / expected).toBeCloseTo(1, 8);
  });

  it.each(SF)('P(X ≥ %i | n=%i, p=%f) = %f', (k, n, p, expected) => {
    expect(binomialSf(k, n, p) / expected).toBeCloseTo(1, 8);
  });

  it('matches the exact sum for small n, and the two tails add up to one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0.001, max: 0.999, noNaN: true }), fc.nat(), (n, p, seed) => {
        const k = seed % (n + 1);
        expect(binomialCdf(k, n, p)).toBeCloseTo(exactCdf(k, n, p), 12);
        expect(binomialCdf(k, n, p) + binomialSf(k + 1, n, p)).toBeCloseTo(1, 12);
      }),
    );
  });

  it('edges: k below 0 or beyond n, p of 0 or 1', () => {
    expect(binomialCdf(-1, 10, 0.5)).toBe(0);
    expect(binomialCdf(10, 10, 0.5)).toBe(1);
    expect(binomialSf(0, 10, 0.5)).toBe(1);
    expect(binomialSf(11, 10, 0.5)).toBe(0);
    expect(binomialCdf(0, 10, 0)).toBe(1);
    expect(binomialSf(1, 10, 0)).toBe(0);
    expect(binomialCdf(9, 10, 1)).toBe(0);
  });

  it('refuses what is not a binomial', () => {
    expect(() => binomialCdf(1.5, 10, 0.5)).toThrow(RangeError);
    expect(() => binomialCdf(1, -1, 0.5)).toThrow(RangeError);
    expect(() => binomialSf(1, 10, 1.5)).toThrow(RangeError);
    expect(() => binomialSf(1, 10, Number.NaN)).toThrow(RangeError);
  });

  it('log-gamma: Γ(n) = (n − 1)! and Γ(½) = √π', () => {
    expect(logGamma(1)).toBeCloseTo(0, 13);
    expect(logGamma(11)).toBeCloseTo(Math.log(3628800), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
  });
});

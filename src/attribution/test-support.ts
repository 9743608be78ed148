import fc from 'fast-check';
import type { AggregatedPath } from './index.js';

/**
 * Random campaigns for property tests: a few creators, short paths, small counts, at least one
 * conversion (the data-driven models need one to have anything to apportion).
 */
export function arbitraryPaths(options: { creators: number; maxPaths?: number; maxLength?: number }): fc.Arbitrary<AggregatedPath[]> {
  const names = Array.from({ length: options.creators }, (_, i) => `c${i}`);
  const path = fc.record({
    path: fc.array(fc.constantFrom(...names), { minLength: 1, maxLength: options.maxLength ?? 4 }),
    conversions: fc.nat(6),
    nulls: fc.nat(6),
  });
  return fc
    .array(path, { minLength: 1, maxLength: options.maxPaths ?? 8 })
    .filter((paths) => paths.some((p) => p.conversions > 0));
}

/** Σ of a map's values. */
export function total(values: Iterable<number>): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum;
}

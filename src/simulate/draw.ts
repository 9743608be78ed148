import type { Random } from '../random/index.js';

/**
 * Drawing helpers on top of the seeded generator: every number the simulator uses comes from one
 * `Random`, so a seed replays a run exactly.
 */

/** Uniform in [lo, hi). */
export function between(rng: Random, lo: number, hi: number): number {
  return lo + rng.next() * (hi - lo);
}

/** Log-uniform in [lo, hi): as many draws between 1 s and 10 s as between 10 s and 100 s. */
export function logUniform(rng: Random, lo: number, hi: number): number {
  return Math.exp(between(rng, Math.log(lo), Math.log(hi)));
}

/** Standard normal (Box–Muller). */
export function normal(rng: Random): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** Poisson-like count with mean `x` for small means, cheap for large ones (normal approximation). */
export function countAround(rng: Random, mean: number): number {
  if (mean <= 0) return 0;
  if (mean < 30) {
    // Knuth's method: exact and fast for small means.
    const limit = Math.exp(-mean);
    let k = 0;
    let p = rng.next();
    while (p > limit) {
      k++;
      p *= rng.next();
    }
    return k;
  }
  return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(rng)));
}

/** Picks from items by weight in O(log n): build once, draw many times. */
export class WeightedPicker<T> {
  readonly items: readonly T[];
  readonly #cumulative: number[];

  constructor(items: readonly T[], weight: (item: T) => number) {
    this.items = items;
    let total = 0;
    this.#cumulative = items.map((item) => (total += Math.max(0, weight(item))));
  }

  get size(): number {
    return this.items.length;
  }

  pick(rng: Random): T {
    const total = this.#cumulative.at(-1) ?? 0;
    const target = rng.next() * total;
    let lo = 0;
    let hi = this.#cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#cumulative[mid] as number) > target) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo] as T;
  }
}

/** `count` distinct items of `xs` in random order (all of them if there are fewer). */
export function sample<T>(rng: Random, xs: readonly T[], count: number): T[] {
  const copy = [...xs];
  const n = Math.min(count, copy.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rng.next() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, n);
}

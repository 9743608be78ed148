import { assert } from '../errors/index.js';
import { creatorsOf } from './journeys.js';
import type { AggregatedPath } from './models.js';

export interface RemovalEffects {
  /** Creators in order of first appearance in the paths. */
  creators: string[];
  /** P(a journey reaches CONV) in the chain estimated from the paths. */
  conversionProbability: number;
  /** RE_i = 1 − P(conv with i removed) / P(conv), per creator. */
  removalEffects: number[];
}

/**
 * First-order Markov removal effects (Anderl et al. 2016), solved exactly from the absorbing chain.
 *
 * States: START (0), one per creator, and the absorbing CONV and NULL. Every path contributes its
 * journeys (conversions + nulls) to START→first, to each step between touches and, at its last
 * touch, its conversions to →CONV and its nulls to →NULL; rows are normalised to probabilities.
 *
 * With N = (I − Q)⁻¹ the fundamental matrix over the transient states, x = N·b is each state's
 * probability of ending in CONV, P(conv) = x[START]. Removing creator i (sending every transition
 * into i to NULL) loses exactly the journeys that reach i and then convert, so
 *   P(conv with i removed) = P(conv) − h_i·x_i, with h_i = N[START][i] / N[i][i]
 * the probability of ever reaching i. One inversion gives every removal effect, RE_i = h_i·x_i / P(conv),
 * without re-solving the chain once per creator and without the cancellation of 1 − P₋ᵢ/P.
 *
 * Cost: O(distinct paths × length) to count, O(n³) for the inversion over n creators.
 * Requires P(conv) > 0 (some conversion); the caller checks.
 */
export function markovRemovalEffects(paths: readonly AggregatedPath[]): RemovalEffects {
  const { creators, index } = creatorsOf(paths);
  const size = creators.length + 1;
  const transitions = new Float64Array(size * size);
  const toConversion = new Float64Array(size);
  const outgoing = new Float64Array(size);
  for (const { path, conversions, nulls } of paths) {
    const journeys = conversions + nulls;
    if (journeys === 0) continue;
    let from = 0;
    for (const creator of path) {
      const to = index.get(creator)! + 1; // state 0 is START
      transitions[from * size + to]! += journeys;
      outgoing[from]! += journeys;
      from = to;
    }
    toConversion[from]! += conversions;
    outgoing[from]! += nulls + conversions;
  }

  // A = I − Q; every transient state has an exit to CONV or NULL, so A is invertible.
  const a = new Float64Array(size * size);
  const b = new Float64Array(size);
  for (let s = 0; s < size; s++) {
    const out = outgoing[s]!;
    assert(out > 0, `markov: state ${s} has no outgoing transitions`);
    for (let t = 0; t < size; t++) a[s * size + t] = (s === t ? 1 : 0) - transitions[s * size + t]! / out;
    b[s] = toConversion[s]! / out;
  }
  const n = invert(a, size);
  const x = new Float64Array(size);
  for (let s = 0; s < size; s++) {
    let sum = 0;
    for (let t = 0; t < size; t++) sum += n[s * size + t]! * b[t]!;
    x[s] = sum;
  }
  const conversionProbability = x[0]!;
  assert(conversionProbability > 0, 'markov: the chain never converts');
  const removalEffects = creators.map((_, k) => {
    const i = k + 1;
    const reach = n[i]! / n[i * size + i]!;
    return (reach * x[i]!) / conversionProbability;
  });
  return { creators, conversionProbability, removalEffects };
}

/** Gauss–Jordan inversion with partial pivoting of a dense row-major size×size matrix. */
function invert(matrix: Float64Array, size: number): Float64Array {
  const m = Float64Array.from(matrix);
  const inv = new Float64Array(size * size);
  for (let i = 0; i < size; i++) inv[i * size + i] = 1;
  for (let col = 0; col < size; col++) {
    let pivot = col;
    for (let r = col + 1; r < size; r++) {
      if (Math.abs(m[r * size + col]!) > Math.abs(m[pivot * size + col]!)) pivot = r;
    }
    assert(m[pivot * size + col] !== 0, 'markov: singular transition system');
    if (pivot !== col) {
      swapRows(m, size, pivot, col);
      swapRows(inv, size, pivot, col);
    }
    const scale = 1 / m[col * size + col]!;
    for (let c = 0; c < size; c++) {
      m[col * size + c]! *= scale;
      inv[col * size + c]! *= scale;
    }
    for (let r = 0; r < size; r++) {
      const factor = m[r * size + col]!;
      if (r === col || factor === 0) continue;
      for (let c = 0; c < size; c++) {
        m[r * size + c]! -= factor * m[col * size + c]!;
        inv[r * size + c]! -= factor * inv[col * size + c]!;
      }
    }
  }
  return inv;
}

function swapRows(m: Float64Array, size: number, a: number, b: number): void {
  for (let c = 0; c < size; c++) {
    const t = m[a * size + c]!;
    m[a * size + c] = m[b * size + c]!;
    m[b * size + c] = t;
  }
}

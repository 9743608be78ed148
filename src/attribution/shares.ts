import { assert } from '../errors/index.js';
import { allocate } from '../money/index.js';
import { type CreatorShare, SHARE_SCALE } from './models.js';

const FLOAT = new Float64Array(1);
const BITS = new BigUint64Array(FLOAT.buffer);
const FRACTION_MASK = (1n << 52n) - 1n;

/**
 * Integers in exactly the ratios of non-negative finite doubles. A double is m·2^e with an integer
 * m, so shifting every mantissa by its exponent above the smallest one loses nothing: what is split
 * afterwards is what the model computed, not a rounded copy of it.
 */
export function exactRatios(values: readonly number[]): bigint[] {
  const parts = values.map((value) => {
    assert(Number.isFinite(value) && value >= 0, `exactRatios: ${value} is not a non-negative finite number`);
    FLOAT[0] = value;
    const bits = BITS[0]!;
    const exponentBits = Number((bits >> 52n) & 0x7ffn);
    const fraction = bits & FRACTION_MASK;
    // Subnormals have no implicit leading 1 and the exponent of the smallest normal.
    return exponentBits === 0
      ? { mantissa: fraction, exponent: -1074 }
      : { mantissa: fraction | (1n << 52n), exponent: exponentBits - 1075 };
  });
  const lowest = parts.reduce((min, p) => (p.mantissa > 0n && p.exponent < min ? p.exponent : min), Number.POSITIVE_INFINITY);
  return parts.map((p) => (p.mantissa === 0n ? 0n : p.mantissa << BigInt(p.exponent - lowest)));
}

/**
 * Non-negative integers summing to exactly `total`, in proportion to `values`, by the same
 * largest-remainder rule (ties to the lower index) that later splits the money.
 */
export function quantise(values: readonly number[], total: bigint): bigint[] {
  return allocate(total, exactRatios(values));
}

/**
 * Distinct creators of a path in order of first touch, and for each touch the index of its creator,
 * so per-touch credit can be summed per creator (a creator touching twice gets both touches' credit).
 */
export function distinctCreators(path: readonly string[]): { creators: string[]; touchCreator: number[] } {
  const index = new Map<string, number>();
  const creators: string[] = [];
  const touchCreator = path.map((creator) => {
    let i = index.get(creator);
    if (i === undefined) {
      i = creators.length;
      index.set(creator, i);
      creators.push(creator);
    }
    return i;
  });
  return { creators, touchCreator };
}

/** Shares from integer weights (their sum must be positive): share = weight / Σ weights. */
export function sharesFromWeights(creators: readonly string[], weights: readonly number[]): CreatorShare[] {
  const sum = weights.reduce((a, w) => a + w, 0);
  assert(sum > 0 && Number.isSafeInteger(sum), `shares need a positive safe-integer weight sum, got ${sum}`);
  return creators.map((creator, i) => {
    const weight = weights[i]!;
    assert(Number.isSafeInteger(weight) && weight >= 0, `weight ${weight} of ${creator} is not a non-negative integer`);
    return { creator, share: weight / sum, weight };
  });
}

/**
 * Shares from non-negative doubles (their sum must be positive): share = value / Σ values as computed,
 * weight = the same share in parts per billion (SHARE_SCALE), summing exactly, so shares and weights
 * differ by less than one part per billion.
 */
export function sharesFromDoubles(creators: readonly string[], values: readonly number[]): CreatorShare[] {
  const sum = values.reduce((a, v) => a + v, 0);
  assert(sum > 0 && Number.isFinite(sum), `shares need a positive finite sum, got ${sum}`);
  const weights = quantise(values, BigInt(SHARE_SCALE));
  return creators.map((creator, i) => ({ creator, share: values[i]! / sum, weight: Number(weights[i]!) }));
}

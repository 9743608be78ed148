import { AppError, assert } from '../errors/index.js';

/**
 * Splits `total` minor units in proportion to `ratios` without creating or losing a unit
 * (largest-remainder method):
 * 1. each part gets floor(|total| × ratio / sum(ratios));
 * 2. the units left over go one each to the parts with the largest remainders, ties going to the
 *    lower index, so the result is deterministic and independent of sort stability.
 * A negative total is allocated by magnitude and every part negated, so the parts sum to `total`
 * and carry its sign. A zero ratio always gets 0 (its remainder is 0, and the leftover is always
 * smaller than the number of parts with a non-zero remainder).
 * Ratios must be non-negative integers (numbers must be safe integers), not all zero.
 */
export function allocate(total: bigint, ratios: readonly (bigint | number)[]): bigint[] {
  assert(typeof total === 'bigint', 'allocate expects a bigint total');
  const weights = toWeights(ratios);
  const weightSum = weights.reduce((sum, weight) => sum + weight, 0n);
  if (weightSum === 0n) {
    throw new AppError('invalid_allocation', 'invalid allocation: at least one ratio must be positive');
  }
  const magnitude = total < 0n ? -total : total;
  const parts = weights.map((weight) => (magnitude * weight) / weightSum);
  const remainders = weights.map((weight) => (magnitude * weight) % weightSum);
  const leftover = magnitude - parts.reduce((sum, part) => sum + part, 0n);
  for (const index of indicesByLargestRemainder(remainders).slice(0, Number(leftover))) {
    parts[index]! += 1n;
  }
  const signed = total < 0n ? parts.map((part) => -part) : parts;
  assertFairAllocation(total, weights, weightSum, signed);
  return signed;
}

function toWeights(ratios: readonly (bigint | number)[]): bigint[] {
  if (!Array.isArray(ratios) || ratios.length === 0) {
    throw new AppError('invalid_allocation', 'invalid allocation: the list of ratios is empty');
  }
  return ratios.map((ratio, index) => {
    const isInteger = typeof ratio === 'bigint' || Number.isSafeInteger(ratio);
    if (!isInteger || ratio < 0) {
      throw new AppError(
        'invalid_allocation',
        `invalid allocation ratio ${String(ratio)} at index ${index}: expected a non-negative integer`,
      );
    }
    return BigInt(ratio);
  });
}

/** Indices ordered by remainder, largest first; equal remainders keep index order. */
function indicesByLargestRemainder(remainders: readonly bigint[]): number[] {
  return remainders
    .map((_, index) => index)
    .sort((a, b) => {
      const ra = remainders[a]!;
      const rb = remainders[b]!;
      if (ra !== rb) return ra > rb ? -1 : 1;
      return a - b;
    });
}

function assertFairAllocation(
  total: bigint,
  weights: readonly bigint[],
  weightSum: bigint,
  parts: readonly bigint[],
): void {
  const partSum = parts.reduce((sum, part) => sum + part, 0n);
  assert(partSum === total, `allocate: parts sum to ${partSum}, not ${total}`);
  parts.forEach((part, index) => {
    // |part − total × w / Σw| < 1, scaled by Σw to stay in integers.
    const scaledError = part * weightSum - total * weights[index]!;
    const absoluteError = scaledError < 0n ? -scaledError : scaledError;
    assert(absoluteError < weightSum, `allocate: part ${index} is not within 1 unit of its share`);
  });
}

import { AppError, assert } from '../errors/index.js';

/**
 * The only place money is rounded. Returns `numerator / denominator` rounded to the nearest
 * integer; an exact half goes to the even neighbour (banker's rounding: 5/2 → 2, 7/2 → 4,
 * -5/2 → -2, -7/2 → -4). The rule is symmetric in sign, so negating either argument negates the
 * result, and half-even does not drift up or down on average over many roundings (half-up would
 * systematically favour one side of every fee).
 * A zero denominator is a programmer error (assertion failure), not user input.
 */
export function divRound(numerator: bigint, denominator: bigint): bigint {
  assert(denominator !== 0n, 'divRound: denominator must not be zero');
  // Work with a positive denominator so that "floor" and "remainder" mean one thing.
  const n = denominator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  let floor = n / d; // BigInt division truncates toward zero …
  let remainder = n - floor * d;
  if (remainder < 0n) {
    // … so step down once for negative numerators to get the true floor, with 0 <= remainder < d.
    floor -= 1n;
    remainder += d;
  }
  const twiceRemainder = 2n * remainder;
  if (twiceRemainder < d) return floor;
  if (twiceRemainder > d) return floor + 1n;
  return floor % 2n === 0n ? floor : floor + 1n;
}

/** `a * b / c` with one rounding (half to even) at the end, so no precision is lost on the way. */
export function mulDivRound(a: bigint, b: bigint, c: bigint): bigint {
  return divRound(a * b, c);
}

const BASIS_POINTS_PER_WHOLE = 10_000n;

/** Up to 100× (10,000%), so bonuses above 100% are expressible while typos like 1e9 are refused. */
export const MAX_BASIS_POINTS = 1_000_000n;

/** Validates a basis-point rate: a non-negative integer up to `MAX_BASIS_POINTS`. */
export function toBasisPoints(bps: bigint | number): bigint {
  const isIntegerInput = typeof bps === 'bigint' || Number.isSafeInteger(bps);
  const value = isIntegerInput ? BigInt(bps) : -1n;
  if (value < 0n || value > MAX_BASIS_POINTS) {
    throw new AppError(
      'invalid_amount',
      `invalid basis points ${String(bps)}: expected an integer from 0 to ${MAX_BASIS_POINTS}`,
    );
  }
  return value;
}

/** `amount × bps / 10,000`, rounded half to even (250 bps of 1000n → 25n). */
export function applyBps(amount: bigint, bps: bigint | number): bigint {
  return mulDivRound(amount, toBasisPoints(bps), BASIS_POINTS_PER_WHOLE);
}

export interface FeeSplit {
  readonly fee: bigint;
  readonly net: bigint;
}

/**
 * Splits `gross` into a rounded fee and the rest. `net` is derived by subtraction, never rounded
 * separately, so `fee + net === gross` always holds and no unit is created or lost.
 * A fee above 100% is refused: it would make the net flow in the opposite direction to the gross.
 */
export function splitFee(gross: bigint, feeBps: bigint | number): FeeSplit {
  const bps = toBasisPoints(feeBps);
  if (bps > BASIS_POINTS_PER_WHOLE) {
    throw new AppError(
      'invalid_amount',
      `invalid fee of ${bps} basis points: a fee cannot exceed ${BASIS_POINTS_PER_WHOLE} (100%)`,
    );
  }
  const fee = applyBps(gross, bps);
  const net = gross - fee;
  assert(fee + net === gross, 'splitFee: fee + net must equal gross');
  return { fee, net };
}

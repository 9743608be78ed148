import { AppError, assert } from '../errors/index.js';
import { currencyExponent, quoteForMessage } from './currencies.js';

/**
 * Amounts are stored in a Postgres int8 column. The range is kept symmetric (the int8 minimum
 * -2^63 is excluded) so that negating a valid amount is always valid.
 */
export const MAX_MINOR_UNITS = 9223372036854775807n;
export const MIN_MINOR_UNITS = -MAX_MINOR_UNITS;

// Plain ASCII decimal: optional minus, digits, optional "." followed by digits.
// No "+", exponent, grouping, whitespace or bare "." on either side: anything else is ambiguous.
const DECIMAL_AMOUNT = /^(-?)([0-9]+)(?:\.([0-9]+))?$/;

// Far above any int8 amount (19 digits) plus exact trailing zeros, and bounds the work BigInt()
// does on hostile input.
const MAX_AMOUNT_TEXT_LENGTH = 100;

export function isInMinorUnitRange(minor: bigint): boolean {
  return minor >= MIN_MINOR_UNITS && minor <= MAX_MINOR_UNITS;
}

/** Throws `invalid_amount` unless `minor` fits the int8 column. */
export function requireMinorUnitRange(minor: bigint, currency: string): bigint {
  if (!isInMinorUnitRange(minor)) {
    throw new AppError(
      'invalid_amount',
      `amount of ${minor} minor units of ${currency} is outside the storable range ±${MAX_MINOR_UNITS}`,
    );
  }
  return minor;
}

/**
 * Parses a plain decimal string like "12.34" into minor units of `currency` ("12.34" USD → 1234n).
 * Digits beyond the currency's exponent are allowed only when they are zeros ("12.340" USD is
 * exact); otherwise the amount would need rounding and `inexact_amount` is thrown.
 */
export function parseAmount(text: string, currency: string): bigint {
  assert(typeof text === 'string', 'parseAmount expects a string');
  const exponent = currencyExponent(currency);
  const match = text.length <= MAX_AMOUNT_TEXT_LENGTH ? DECIMAL_AMOUNT.exec(text) : null;
  if (match === null) {
    throw new AppError(
      'invalid_amount',
      `invalid amount ${quoteForMessage(text)}: expected a plain decimal like "12.34"`,
    );
  }
  const [, sign = '', integerDigits = '', fractionDigits = ''] = match;
  const significantFraction = fractionDigits.slice(0, exponent);
  if (/[^0]/.test(fractionDigits.slice(exponent))) {
    throw new AppError(
      'inexact_amount',
      `amount ${quoteForMessage(text)} has more than ${exponent} decimal places for ${currency}`,
    );
  }
  const magnitude = BigInt(integerDigits + significantFraction.padEnd(exponent, '0'));
  const minor = sign === '-' ? -magnitude : magnitude;
  return requireMinorUnitRange(minor, currency);
}

/**
 * Formats minor units as a plain decimal with exactly the currency's exponent of decimals
 * (1234n USD → "12.34", -5n USD → "-0.05", 7n JPY → "7"): the inverse of `parseAmount`.
 */
export function formatAmount(minor: bigint, currency: string): string {
  assert(typeof minor === 'bigint', 'formatAmount expects a bigint amount');
  const exponent = currencyExponent(currency);
  const sign = minor < 0n ? '-' : '';
  const magnitude = minor < 0n ? -minor : minor;
  if (exponent === 0) return sign + magnitude.toString();
  const digits = magnitude.toString().padStart(exponent + 1, '0');
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/**
 * Exact money: amounts are `bigint` minor units plus an ISO 4217 code, never JS numbers.
 * All rounding goes through `divRound` (half to even); allocation never creates or loses a unit.
 */
export { CURRENCY_EXPONENTS, currencyExponent, isCurrency } from './currencies.js';
export type { CurrencyCode } from './currencies.js';
export {
  MAX_MINOR_UNITS,
  MIN_MINOR_UNITS,
  formatAmount,
  isInMinorUnitRange,
  parseAmount,
} from './amount.js';
export {
  MAX_BASIS_POINTS,
  applyBps,
  divRound,
  mulDivRound,
  splitFee,
  toBasisPoints,
} from './rounding.js';
export type { FeeSplit } from './rounding.js';
export { allocate } from './allocate.js';
export { Money } from './money.js';
export type { MoneyJSON } from './money.js';

import { AppError, assert } from '../errors/index.js';
import { allocate } from './allocate.js';
import { formatAmount, parseAmount, requireMinorUnitRange } from './amount.js';
import { currencyExponent, quoteForMessage } from './currencies.js';
import { applyBps } from './rounding.js';

/** Wire/JSON form: the amount is an integer string of minor units, because JSON numbers lose precision. */
export interface MoneyJSON {
  readonly amount: string;
  readonly currency: string;
}

const INTEGER_STRING = /^(?:0|-?[1-9][0-9]*)$/; // canonical: no "-0", no leading zeros

/**
 * An exact amount of one currency: `amount` is in minor units (cents for USD) and always fits the
 * int8 column. Immutable; every operation returns a new Money and re-checks the range, so an
 * overflowing sum is refused with `invalid_amount` instead of being stored wrongly.
 */
export class Money {
  readonly amount: bigint;
  readonly currency: string;

  private constructor(amount: bigint, currency: string) {
    this.amount = amount;
    this.currency = currency;
    Object.freeze(this);
  }

  static of(amount: bigint, currency: string): Money {
    assert(typeof amount === 'bigint', 'Money.of expects a bigint amount of minor units');
    currencyExponent(currency); // validates the code
    return new Money(requireMinorUnitRange(amount, currency), currency);
  }

  static zero(currency: string): Money {
    return Money.of(0n, currency);
  }

  /** From a decimal string in major units: Money.parse("12.34", "USD") is 1234 cents. */
  static parse(text: string, currency: string): Money {
    return Money.of(parseAmount(text, currency), currency);
  }

  /** Inverse of `toJSON`; the amount must be a canonical integer string of minor units. */
  static fromJSON(json: MoneyJSON): Money {
    if (typeof json?.amount !== 'string' || !INTEGER_STRING.test(json.amount)) {
      throw new AppError(
        'invalid_amount',
        `invalid minor-unit amount ${quoteForMessage(json?.amount)}: expected an integer string like "1234"`,
      );
    }
    return Money.of(BigInt(json.amount), json.currency);
  }

  add(other: Money): Money {
    this.requireSameCurrency(other, 'add');
    return Money.of(this.amount + other.amount, this.currency);
  }

  subtract(other: Money): Money {
    this.requireSameCurrency(other, 'subtract');
    return Money.of(this.amount - other.amount, this.currency);
  }

  negate(): Money {
    return Money.of(-this.amount, this.currency);
  }

  isZero(): boolean {
    return this.amount === 0n;
  }

  isNegative(): boolean {
    return this.amount < 0n;
  }

  isPositive(): boolean {
    return this.amount > 0n;
  }

  /** -1, 0 or 1; comparing different currencies is refused because no order exists without a rate. */
  compare(other: Money): -1 | 0 | 1 {
    this.requireSameCurrency(other, 'compare');
    if (this.amount === other.amount) return 0;
    return this.amount < other.amount ? -1 : 1;
  }

  /** Same currency and amount. Different currencies are simply not equal (no error). */
  equals(other: Money): boolean {
    return this.currency === other.currency && this.amount === other.amount;
  }

  /** This amount × bps / 10,000, rounded half to even (see `applyBps`). */
  mulBps(bps: bigint | number): Money {
    return Money.of(applyBps(this.amount, bps), this.currency);
  }

  /** Splits this amount by `ratios` without losing a unit (see `allocate`). */
  allocate(ratios: readonly (bigint | number)[]): Money[] {
    return allocate(this.amount, ratios).map((part) => Money.of(part, this.currency));
  }

  /** Decimal in major units without the code: "12.34". */
  format(): string {
    return formatAmount(this.amount, this.currency);
  }

  /** "12.34 USD" */
  toString(): string {
    return `${this.format()} ${this.currency}`;
  }

  toJSON(): MoneyJSON {
    return { amount: this.amount.toString(), currency: this.currency };
  }

  private requireSameCurrency(other: Money, operation: string): void {
    assert(other instanceof Money, `Money.${operation} expects a Money`);
    if (other.currency !== this.currency) {
      throw new AppError(
        'currency_mismatch',
        `cannot ${operation} ${other.currency} and ${this.currency}: currencies differ`,
      );
    }
  }
}

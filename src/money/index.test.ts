import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError, AssertionFailure, type ErrorCode } from '../errors/index.js';
import {
  CURRENCY_EXPONENTS,
  MAX_MINOR_UNITS,
  MIN_MINOR_UNITS,
  Money,
  allocate,
  applyBps,
  currencyExponent,
  divRound,
  formatAmount,
  isCurrency,
  mulDivRound,
  parseAmount,
  splitFee,
} from './index.js';

function expectAppError(action: () => unknown, code: ErrorCode): void {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(AppError);
  expect((thrown as AppError).code).toBe(code);
  expect((thrown as AppError).message).not.toContain('\n');
}

const abs = (value: bigint): bigint => (value < 0n ? -value : value);

describe('currencies', () => {
  it.each([
    ['USD', 2], ['EUR', 2], ['GBP', 2], ['JPY', 0], ['KRW', 0], ['CLP', 0], ['ISK', 0],
    ['VND', 0], ['KWD', 3], ['BHD', 3], ['JOD', 3], ['OMR', 3], ['TND', 3], ['LYD', 3],
    ['IQD', 3], ['CLF', 4], ['UYW', 4], ['CHF', 2], ['CAD', 2], ['AUD', 2], ['INR', 2],
    ['BRL', 2], ['MXN', 2], ['SEK', 2], ['NOK', 2], ['DKK', 2], ['PLN', 2], ['CZK', 2],
    ['HUF', 2], ['ZAR', 2], ['NZD', 2], ['SGD', 2], ['HKD', 2], ['CNY', 2],
    ['XOF', 0], ['XAF', 0], ['UGX', 0], ['PYG', 0], ['IDR', 2], ['XCG', 2], ['ZWG', 2],
  ] as const)('%s has exponent %i', (code, exponent) => {
    expect(isCurrency(code)).toBe(true);
    expect(currencyExponent(code)).toBe(exponent);
    expect(CURRENCY_EXPONENTS[code]).toBe(exponent);
  });

  it('is a frozen table of 3-letter codes with exponents 0..4', () => {
    expect(Object.isFrozen(CURRENCY_EXPONENTS)).toBe(true);
    expect(Object.keys(CURRENCY_EXPONENTS).length).toBeGreaterThan(150);
    for (const [code, exponent] of Object.entries(CURRENCY_EXPONENTS)) {
      expect(code).toMatch(/^[A-Z]{3}$/);
      expect([0, 2, 3, 4]).toContain(exponent);
    }
  });

  it.each(['usd', 'Usd', 'US', 'USDD', ' USD', 'XAU', 'XXX', 'HRK', 'ABC', '', 'constructor', 'toString'])(
    'refuses %j',
    (code) => {
      expect(isCurrency(code)).toBe(false);
      expectAppError(() => currencyExponent(code), 'unknown_currency');
    },
  );
});

describe('parseAmount / formatAmount', () => {
  it.each([
    ['12.34', 'USD', 1234n],
    ['12', 'USD', 1200n],
    ['12.3', 'USD', 1230n],
    ['-5.00', 'USD', -500n],
    ['12.340', 'USD', 1234n],
    ['12.3400000', 'USD', 1234n],
    ['0.01', 'USD', 1n],
    ['-0.05', 'USD', -5n],
    ['-0', 'USD', 0n],
    ['-0.00', 'USD', 0n],
    ['0', 'USD', 0n],
    ['007.50', 'USD', 750n],
    ['7', 'JPY', 7n],
    ['7.000', 'JPY', 7n],
    ['-1500', 'JPY', -1500n],
    ['0.001', 'KWD', 1n],
    ['1.234', 'KWD', 1234n],
    ['1.2345', 'CLF', 12345n],
    ['0.0001', 'CLF', 1n],
    ['92233720368547758.07', 'USD', MAX_MINOR_UNITS],
    ['-92233720368547758.07', 'USD', MIN_MINOR_UNITS],
    ['9223372036854775807', 'JPY', MAX_MINOR_UNITS],
  ] as const)('parses %j %s as %s', (text, currency, minor) => {
    expect(parseAmount(text, currency)).toBe(minor);
  });

  it.each([
    ['0.001', 'USD'],
    ['1.5', 'JPY'],
    ['12.345', 'EUR'],
    ['0.0001', 'KWD'],
    ['0.00001', 'CLF'],
    ['1.0000000001', 'USD'],
  ])('refuses %j %s as inexact', (text, currency) => {
    expectAppError(() => parseAmount(text, currency), 'inexact_amount');
  });

  it.each([
    '', ' 1', '1 ', '+1', '1e3', '1,000', '1.', '.5', 'abc', '0x10', '--1', '-', 'NaN',
    'Infinity', '-Infinity', '１２', '١٢', '1_000', '1.2.3', '1\n', '\t1', '- 1',
    '92233720368547758.08', '-92233720368547758.08', '99999999999999999999', '1'.repeat(200),
  ])('refuses %j as invalid', (text) => {
    expectAppError(() => parseAmount(text, 'USD'), 'invalid_amount');
  });

  it('refuses an unknown or lower-case currency', () => {
    expectAppError(() => parseAmount('1', 'usd'), 'unknown_currency');
    expectAppError(() => parseAmount('1', 'ZZZ'), 'unknown_currency');
  });

  it.each([
    [1234n, 'USD', '12.34'],
    [-5n, 'USD', '-0.05'],
    [0n, 'USD', '0.00'],
    [100n, 'USD', '1.00'],
    [-100n, 'USD', '-1.00'],
    [7n, 'JPY', '7'],
    [-7n, 'JPY', '-7'],
    [0n, 'JPY', '0'],
    [1n, 'KWD', '0.001'],
    [-1234n, 'KWD', '-1.234'],
    [1n, 'CLF', '0.0001'],
    [123456n, 'CLF', '12.3456'],
    [MAX_MINOR_UNITS, 'USD', '92233720368547758.07'],
    [MIN_MINOR_UNITS, 'KWD', '-9223372036854775.807'],
  ] as const)('formats %s %s as %j', (minor, currency, text) => {
    expect(formatAmount(minor, currency)).toBe(text);
  });

  it('round-trips parse(format(x)) === x over the int8 range', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: MIN_MINOR_UNITS, max: MAX_MINOR_UNITS }),
        fc.constantFrom('USD', 'JPY', 'KWD', 'CLF', 'EUR', 'BHD', 'UYW', 'VND'),
        (minor, currency) => {
          expect(parseAmount(formatAmount(minor, currency), currency)).toBe(minor);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('round-trips small amounts too (where padding matters)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -100_000n, max: 100_000n }), fc.constantFrom('USD', 'JPY', 'KWD', 'CLF'), (minor, currency) => {
        expect(parseAmount(formatAmount(minor, currency), currency)).toBe(minor);
      }),
    );
  });
});

describe('divRound (half to even)', () => {
  it.each([
    [5n, 2n, 2n], [7n, 2n, 4n], [-5n, 2n, -2n], [-7n, 2n, -4n],
    [1n, 3n, 0n], [2n, 3n, 1n], [-1n, 3n, 0n], [-2n, 3n, -1n],
    [5n, -2n, -2n], [7n, -2n, -4n], [-5n, -2n, 2n], [-7n, -2n, 4n],
    [1n, -3n, 0n], [2n, -3n, -1n], [-2n, -3n, 1n],
    [1n, 2n, 0n], [3n, 2n, 2n], [-1n, 2n, 0n], [-3n, 2n, -2n],
    [0n, 7n, 0n], [0n, -7n, 0n], [10n, 5n, 2n], [-10n, 5n, -2n],
    [25n, 10n, 2n], [35n, 10n, 4n], [26n, 10n, 3n], [24n, 10n, 2n], [-26n, 10n, -3n],
  ])('divRound(%s, %s) = %s', (numerator, denominator, expected) => {
    expect(divRound(numerator, denominator)).toBe(expected);
  });

  it('asserts on a zero denominator', () => {
    expect(() => divRound(1n, 0n)).toThrow(AssertionFailure);
  });

  it('is the nearest integer, with exact halves going to the even neighbour', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }), fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }), (n, d) => {
        fc.pre(d !== 0n);
        const q = divRound(n, d);
        const twiceError = 2n * abs(n - q * d);
        expect(twiceError <= abs(d)).toBe(true);
        if (twiceError === abs(d)) expect(q % 2n).toBe(0n);
        expect(divRound(-n, d)).toBe(-q);
        expect(divRound(n, -d)).toBe(-q);
      }),
      { numRuns: 2000 },
    );
  });

  it('mulDivRound rounds once, after multiplying', () => {
    expect(mulDivRound(3n, 5n, 10n)).toBe(2n); // 1.5 → 2
    expect(mulDivRound(5n, 5n, 10n)).toBe(2n); // 2.5 → 2
    expect(mulDivRound(10n ** 18n, 3n, 7n)).toBe(428571428571428571n); // 428571428571428571.43
  });
});

describe('applyBps / splitFee', () => {
  it.each([
    [1000n, 250, 25n],
    [10000n, 1, 1n],
    [1n, 5000, 0n], // 0.5 → 0
    [3n, 5000, 2n], // 1.5 → 2
    [-3n, 5000, -2n],
    [5n, 5000, 2n], // 2.5 → 2
    [100n, 0, 0n],
    [100n, 10000, 100n],
    [100n, 15000, 150n],
    [100n, 1_000_000, 10000n],
    [12345n, 333n, 411n], // 411.0885
    [MAX_MINOR_UNITS, 10000n, MAX_MINOR_UNITS],
  ] as const)('applyBps(%s, %s) = %s', (amount, bps, expected) => {
    expect(applyBps(amount, bps)).toBe(expected);
  });

  it.each([-1, -1n, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1_000_001, 1_000_001n, 2 ** 53])(
    'refuses %s bps',
    (bps) => {
      expectAppError(() => applyBps(100n, bps), 'invalid_amount');
    },
  );

  it.each([
    [10000n, 250, 250n, 9750n],
    [5n, 1000, 0n, 5n], // fee 0.5 → 0
    [15n, 1000, 2n, 13n], // fee 1.5 → 2
    [25n, 1000, 2n, 23n], // fee 2.5 → 2
    [-15n, 1000, -2n, -13n],
    [0n, 500, 0n, 0n],
    [1000n, 0, 0n, 1000n],
    [1000n, 10000, 1000n, 0n],
  ] as const)('splitFee(%s, %s) = fee %s, net %s', (gross, bps, fee, net) => {
    expect(splitFee(gross, bps)).toEqual({ fee, net });
  });

  it('refuses a fee above 100% or an invalid rate', () => {
    expectAppError(() => splitFee(1000n, 10001), 'invalid_amount');
    expectAppError(() => splitFee(1000n, -1), 'invalid_amount');
    expectAppError(() => splitFee(1000n, 2.5), 'invalid_amount');
  });

  it('always has fee + net === gross', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: MIN_MINOR_UNITS, max: MAX_MINOR_UNITS }), fc.integer({ min: 0, max: 10000 }), (gross, bps) => {
        const { fee, net } = splitFee(gross, bps);
        expect(fee + net).toBe(gross);
        expect(abs(fee) <= abs(gross)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('allocate', () => {
  it.each([
    [100n, [1, 1, 1], [34n, 33n, 33n]],
    [5n, [1, 1], [3n, 2n]],
    [1n, [0, 1], [0n, 1n]],
    [1n, [1, 0], [1n, 0n]],
    [-100n, [1, 1, 1], [-34n, -33n, -33n]],
    [10n, [3, 7], [3n, 7n]],
    // exact shares 0.7, 1.4, 2.1, 2.8 → floors 0, 1, 2, 2 (sum 5); the 2 leftover units go to the
    // largest remainders .8 (index 3) and .7 (index 0).
    [7n, [1, 2, 3, 4], [1n, 1n, 2n, 3n]],
    [-7n, [1, 2, 3, 4], [-1n, -1n, -2n, -3n]],
    [0n, [1, 2], [0n, 0n]],
    [2n, [1, 1, 1], [1n, 1n, 0n]],
    [1n, [0, 0, 5], [0n, 0n, 1n]],
    [100n, [1], [100n]],
    [100n, [0n, 3n, 1n], [0n, 75n, 25n]],
    [10n, [1, 0, 1, 0, 1], [4n, 0n, 3n, 0n, 3n]],
    [MAX_MINOR_UNITS, [1, 1], [4611686018427387904n, 4611686018427387903n]],
  ] as const)('allocate(%s, %o) = %o', (total, ratios, expected) => {
    expect(allocate(total, ratios)).toEqual(expected);
  });

  it.each([
    [[]],
    [[0]],
    [[0, 0, 0]],
    [[-1, 2]],
    [[-1n, 2n]],
    [[1.5, 1]],
    [[Number.NaN]],
    [[Number.POSITIVE_INFINITY]],
    [[2 ** 53, 1]],
  ])('refuses ratios %o', (ratios) => {
    expectAppError(() => allocate(100n, ratios), 'invalid_allocation');
  });

  const totals = fc.oneof(
    fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }),
    fc.bigInt({ min: -1000n, max: 1000n }),
  );
  const ratioLists = fc
    .array(fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 3 })), {
      minLength: 1,
      maxLength: 20,
    })
    .filter((ratios) => ratios.some((ratio) => ratio > 0));

  it('parts sum to the total, each within 1 unit of its exact share, with the total\'s sign', () => {
    fc.assert(
      fc.property(totals, ratioLists, (total, ratios) => {
        const parts = allocate(total, ratios);
        const sum = BigInt(ratios.reduce((a, b) => a + b, 0));
        expect(parts).toHaveLength(ratios.length);
        expect(parts.reduce((a, b) => a + b, 0n)).toBe(total);
        parts.forEach((part, i) => {
          expect(abs(part * sum - total * BigInt(ratios[i]!)) < sum).toBe(true);
          if (total > 0n) expect(part >= 0n).toBe(true);
          if (total < 0n) expect(part <= 0n).toBe(true);
          if (ratios[i] === 0) expect(part).toBe(0n);
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('gives the leftover units to the largest remainders, lower index first, deterministically', () => {
    fc.assert(
      fc.property(totals, ratioLists, (total, ratios) => {
        const parts = allocate(total, ratios);
        expect(allocate(total, ratios)).toEqual(parts);
        const magnitude = abs(total);
        const sum = BigInt(ratios.reduce((a, b) => a + b, 0));
        const rounded = ratios.map((ratio, i) => {
          const exact = magnitude * BigInt(ratio);
          return { i, remainder: exact % sum, gotExtra: abs(parts[i]!) > exact / sum };
        });
        for (const winner of rounded.filter((r) => r.gotExtra)) {
          for (const loser of rounded.filter((r) => !r.gotExtra && r.remainder > 0n)) {
            const ranksHigher =
              winner.remainder > loser.remainder ||
              (winner.remainder === loser.remainder && winner.i < loser.i);
            expect(ranksHigher).toBe(true);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('breaks ties stably: equal ratios never give a later index more than an earlier one', () => {
    fc.assert(
      fc.property(totals, fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 20 }), (total, ratio, count) => {
        const parts = allocate(total, Array.from({ length: count }, () => ratio)).map(abs);
        for (let i = 1; i < parts.length; i++) {
          expect(parts[i - 1]! >= parts[i]!).toBe(true);
          expect(parts[0]! - parts[i]! <= 1n).toBe(true);
        }
      }),
    );
  });

  it('accepts bigint and number ratios alike', () => {
    fc.assert(
      fc.property(totals, ratioLists, (total, ratios) => {
        expect(allocate(total, ratios.map(BigInt))).toEqual(allocate(total, ratios));
      }),
    );
  });
});

describe('Money', () => {
  it('constructs, parses and formats', () => {
    const price = Money.parse('12.34', 'USD');
    expect(price.amount).toBe(1234n);
    expect(price.currency).toBe('USD');
    expect(price.toString()).toBe('12.34 USD');
    expect(price.format()).toBe('12.34');
    expect(Money.of(7n, 'JPY').toString()).toBe('7 JPY');
    expect(Money.zero('KWD').toString()).toBe('0.000 KWD');
    expect(Money.of(-5n, 'USD').toString()).toBe('-0.05 USD');
  });

  it('is immutable', () => {
    const money = Money.of(1n, 'USD');
    expect(Object.isFrozen(money)).toBe(true);
    expect(() => {
      (money as { amount: bigint }).amount = 2n;
    }).toThrow(TypeError);
  });

  it('refuses bad construction input', () => {
    expectAppError(() => Money.of(1n, 'usd'), 'unknown_currency');
    expectAppError(() => Money.zero('XYZ'), 'unknown_currency');
    expectAppError(() => Money.of(MAX_MINOR_UNITS + 1n, 'USD'), 'invalid_amount');
    expectAppError(() => Money.parse('1.001', 'USD'), 'inexact_amount');
    expect(() => Money.of(1 as unknown as bigint, 'USD')).toThrow(AssertionFailure);
  });

  it('does arithmetic and comparisons', () => {
    const a = Money.of(1000n, 'EUR');
    const b = Money.of(250n, 'EUR');
    expect(a.add(b).equals(Money.of(1250n, 'EUR'))).toBe(true);
    expect(a.subtract(b).amount).toBe(750n);
    expect(b.subtract(a).isNegative()).toBe(true);
    expect(a.negate().amount).toBe(-1000n);
    expect(Money.zero('EUR').isZero()).toBe(true);
    expect(a.isPositive()).toBe(true);
    expect(a.isNegative()).toBe(false);
    expect(a.compare(b)).toBe(1);
    expect(b.compare(a)).toBe(-1);
    expect(a.compare(Money.of(1000n, 'EUR'))).toBe(0);
    expect(a.equals(Money.of(1000n, 'USD'))).toBe(false);
  });

  it('refuses mixed-currency arithmetic and comparison', () => {
    const usd = Money.of(100n, 'USD');
    const eur = Money.of(100n, 'EUR');
    expectAppError(() => usd.add(eur), 'currency_mismatch');
    expectAppError(() => usd.subtract(eur), 'currency_mismatch');
    expectAppError(() => usd.compare(eur), 'currency_mismatch');
  });

  it('refuses sums that leave the int8 range', () => {
    const max = Money.of(MAX_MINOR_UNITS, 'USD');
    expectAppError(() => max.add(Money.of(1n, 'USD')), 'invalid_amount');
    expectAppError(() => max.negate().subtract(Money.of(1n, 'USD')), 'invalid_amount');
    expect(max.negate().amount).toBe(MIN_MINOR_UNITS);
  });

  it('delegates mulBps and allocate', () => {
    expect(Money.of(1000n, 'USD').mulBps(250).equals(Money.of(25n, 'USD'))).toBe(true);
    expect(Money.of(100n, 'USD').allocate([1, 1, 1]).map((m) => m.toString())).toEqual([
      '0.34 USD',
      '0.33 USD',
      '0.33 USD',
    ]);
    expectAppError(() => Money.of(100n, 'USD').mulBps(-5), 'invalid_amount');
    expectAppError(() => Money.of(100n, 'USD').allocate([]), 'invalid_allocation');
  });

  it('serialises amounts as integer strings and reads them back', () => {
    const money = Money.of(1234n, 'USD');
    expect(money.toJSON()).toEqual({ amount: '1234', currency: 'USD' });
    expect(JSON.stringify({ price: money })).toBe('{"price":{"amount":"1234","currency":"USD"}}');
    expect(Money.fromJSON({ amount: '-9223372036854775807', currency: 'JPY' }).amount).toBe(MIN_MINOR_UNITS);
    expect(Money.fromJSON(money.toJSON()).equals(money)).toBe(true);
    for (const amount of ['', '1.5', '01', '-0', '+1', ' 1', '1e3']) {
      expectAppError(() => Money.fromJSON({ amount, currency: 'USD' }), 'invalid_amount');
    }
    expectAppError(() => Money.fromJSON({ amount: '1', currency: 'usd' }), 'unknown_currency');
  });
});

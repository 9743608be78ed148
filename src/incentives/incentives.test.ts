import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError, AssertionFailure, type ErrorCode } from '../errors/index.js';
import { divRound } from '../money/index.js';
import {
  admitResult,
  bonusCorrection,
  type Caps,
  capResults,
  computeBonus,
  type IncentivesContext,
  incentivesInputSchema,
  incentivesSchema,
  isClosed,
  normaliseIncentives,
  type Period,
  type PeriodRule,
  payable,
  periodOf,
  periodsBetween,
  presentIncentives,
  progress,
  type RateOverride,
  rateFor,
  type Tier,
  tierThresholds,
} from './index.js';

const USD_CPL: IncentivesContext = { currency: 'USD', objective: 'cpl' };
const NO_CAPS: Caps = { results_per_period: null, amount_per_period: null };

/** The first issue of a failed parse: where and why. */
function firstIssue(input: unknown, ctx: IncentivesContext = USD_CPL) {
  const r = incentivesSchema(ctx).safeParse(input);
  expect(r.success).toBe(false);
  const issue = r.error!.issues[0]!;
  const appError = (issue as { params?: { appError?: AppError } }).params?.appError;
  return { path: issue.path.join('.'), message: issue.message, code: appError?.code };
}

function expectAppError(action: () => unknown, code: ErrorCode, field: string): void {
  try {
    action();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe(code);
    expect((e as AppError).details?.field).toBe(field);
    return;
  }
  expect.fail(`expected AppError ${code}`);
}

const tier = (threshold: Tier['threshold'], bonus: Tier['bonus']): Tier => ({ threshold, bonus });

describe('incentivesSchema', () => {
  it('documents its defaults: an empty object is "no incentives"', () => {
    expect(incentivesSchema(USD_CPL).parse({})).toEqual({
      period: 'campaign',
      time_zone: 'UTC',
      week_starts_on: 'monday',
      target: null,
      tiers: [],
      rate_overrides: [],
      caps: { results_per_period: null, amount_per_period: null },
    });
  });

  it('reads amounts as the terms do: decimal strings in the major unit become bigint minor units', () => {
    const inc = incentivesSchema(USD_CPL).parse({
      period: 'month',
      time_zone: 'Europe/Berlin',
      target: 100,
      tiers: [
        { threshold: { results: 10 }, bonus: { fixed: '50' } },
        { threshold: { results: 20 }, bonus: { fixed: '200.05' } },
      ],
      rate_overrides: [{ match: { country: ['DE', 'AT'], sku: ['PRO-1'] }, rate: '12.50' }],
      caps: { results_per_period: 500, amount_per_period: '10000.00' },
    });
    expect(inc.tiers.map((t) => t.bonus)).toEqual([{ fixed: 5000n }, { fixed: 20005n }]);
    expect(inc.rate_overrides).toEqual([{ match: { country: ['DE', 'AT'], sku: ['PRO-1'] }, rate: 1250n }]);
    expect(inc.caps).toEqual({ results_per_period: 500, amount_per_period: 1_000_000n });
  });

  it('uses the currency exponent (JPY has none, KWD three)', () => {
    const tiers = [{ threshold: { results: 1 }, bonus: { fixed: '500' } }];
    expect(incentivesSchema({ currency: 'JPY', objective: 'cpl' }).parse({ tiers }).tiers[0]!.bonus).toEqual({ fixed: 500n });
    expect(incentivesSchema({ currency: 'KWD', objective: 'cpl' }).parse({ tiers }).tiers[0]!.bonus).toEqual({ fixed: 500_000n });
  });

  it('keeps the money module codes for amounts it cannot read exactly, with the field', () => {
    expect(firstIssue({ tiers: [{ threshold: { results: 1 }, bonus: { fixed: '5.001' } }] })).toMatchObject({
      path: 'tiers.0.bonus.fixed',
      code: 'inexact_amount',
    });
    expect(firstIssue({ caps: { amount_per_period: '1.5' } }, { currency: 'JPY', objective: 'cpl' })).toMatchObject({
      path: 'caps.amount_per_period',
      code: 'inexact_amount',
    });
    expectAppError(() => normaliseIncentives(incentivesInputSchema.parse({ caps: { amount_per_period: '0.00' } }), USD_CPL), 'invalid_request', 'caps.amount_per_period');
    expect(firstIssue({ caps: { amount_per_period: '-5' } }).path).toBe('caps.amount_per_period');
  });

  it('takes override rates in the unit of the campaign rate: rate_bps for cpa_percent, rate otherwise', () => {
    const pct: IncentivesContext = { currency: 'EUR', objective: 'cpa_percent' };
    expect(incentivesSchema(pct).parse({ rate_overrides: [{ match: { sku: ['A'] }, rate_bps: 1500 }] }).rate_overrides[0]!.rate).toBe(1500n);
    expect(firstIssue({ rate_overrides: [{ match: { sku: ['A'] }, rate: '1.00' }] }, pct)).toMatchObject({ path: 'rate_overrides.0.rate', code: 'invalid_request' });
    expect(firstIssue({ rate_overrides: [{ match: { sku: ['A'] } }] }, pct)).toMatchObject({ path: 'rate_overrides.0.rate_bps', code: 'invalid_request' });
    expect(firstIssue({ rate_overrides: [{ match: { sku: ['A'] }, rate_bps: 100 }] })).toMatchObject({ path: 'rate_overrides.0.rate_bps', code: 'invalid_request' });
    expect(firstIssue({ rate_overrides: [{ match: { sku: ['A'] } }] })).toMatchObject({ path: 'rate_overrides.0.rate', code: 'invalid_request' });
    expect(firstIssue({ rate_overrides: [{ match: { sku: ['A'] }, rate_bps: 10_001 }] }, pct).path).toBe('rate_overrides.0.rate_bps');
  });

  it('accepts IANA time zones only', () => {
    for (const zone of ['UTC', 'Asia/Kolkata', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5']) {
      expect(incentivesSchema(USD_CPL).parse({ time_zone: zone }).time_zone).toBe(zone);
    }
    for (const zone of ['Mars/Olympus', '+05:30', '', 'Europe/Berlin ', 'Local']) {
      expect(firstIssue({ time_zone: zone })).toMatchObject({ path: 'time_zone', message: expect.stringMatching(/IANA/) });
    }
  });

  it.each([
    ['equal', [10, 10]],
    ['decreasing', [20, 10]],
  ])('refuses %s thresholds', (_, [a, b]) => {
    const tiers = [
      { threshold: { results: a }, bonus: { bps: 100 } },
      { threshold: { results: b }, bonus: { bps: 200 } },
    ];
    expect(firstIssue({ tiers })).toMatchObject({ path: 'tiers.1.threshold', message: expect.stringMatching(/strictly increasing/) });
  });

  it('refuses tiers that do not pay more than the one below (bps in the schema, fixed once parsed)', () => {
    const bps = [
      { threshold: { results: 10 }, bonus: { bps: 200 } },
      { threshold: { results: 20 }, bonus: { bps: 200 } },
    ];
    expect(firstIssue({ tiers: bps })).toMatchObject({ path: 'tiers.1.bonus', message: expect.stringMatching(/pay more/) });
    const fixed = [
      { threshold: { results: 10 }, bonus: { fixed: '5.00' } },
      { threshold: { results: 20 }, bonus: { fixed: '5' } },
    ];
    expect(firstIssue({ tiers: fixed })).toMatchObject({ path: 'tiers.1.bonus.fixed', code: 'invalid_request' });
  });

  it('refuses mixed kinds of thresholds or bonuses', () => {
    expect(
      firstIssue({
        target: 10,
        tiers: [
          { threshold: { results: 10 }, bonus: { bps: 100 } },
          { threshold: { percent_of_target: 150 }, bonus: { bps: 200 } },
        ],
      }).path,
    ).toBe('tiers.1.threshold');
    expect(
      firstIssue({
        tiers: [
          { threshold: { results: 10 }, bonus: { bps: 100 } },
          { threshold: { results: 20 }, bonus: { fixed: '100.00' } },
        ],
      }).path,
    ).toBe('tiers.1.bonus');
  });

  it('needs exactly one kind per threshold and per bonus', () => {
    expect(firstIssue({ tiers: [{ threshold: { results: 1, percent_of_target: 100 }, bonus: { bps: 1 } }] }).path).toBe('tiers.0.threshold');
    expect(firstIssue({ tiers: [{ threshold: {}, bonus: { bps: 1 } }] }).path).toBe('tiers.0.threshold');
    expect(firstIssue({ tiers: [{ threshold: { results: 1 }, bonus: { bps: 1, fixed: '1.00' } }] }).path).toBe('tiers.0.bonus');
  });

  it('needs a target for percent thresholds', () => {
    const tiers = [{ threshold: { percent_of_target: 120 }, bonus: { bps: 1000 } }];
    expect(firstIssue({ tiers })).toMatchObject({ path: 'target', message: expect.stringMatching(/need a target/) });
    expect(incentivesSchema(USD_CPL).parse({ target: 7, tiers }).tiers[0]!.threshold).toEqual({ percent_of_target: 120 });
  });

  it('refuses a results threshold the results cap makes unreachable (at the cap is fine)', () => {
    const at = (n: number) => ({ caps: { results_per_period: 50 }, tiers: [{ threshold: { results: n }, bonus: { bps: 1 } }] });
    expect(incentivesSchema(USD_CPL).safeParse(at(50)).success).toBe(true);
    expect(firstIssue(at(51))).toMatchObject({ path: 'tiers.0.threshold', message: expect.stringMatching(/never be reached/) });
  });

  it('checks country codes: upper-case ISO 3166-1, no aliases, no unknown codes', () => {
    const override = (country: string[]) => ({ rate_overrides: [{ match: { country }, rate: '1.00' }] });
    expect(incentivesSchema(USD_CPL).safeParse(override(['GB', 'US'])).success).toBe(true);
    expect(firstIssue(override(['us'])).path).toBe('rate_overrides.0.match.country.0');
    expect(firstIssue(override(['GB', 'XX'])).message).toMatch(/unknown country code XX/);
    expect(firstIssue(override(['UK'])).message).toMatch(/use GB/);
  });

  it('refuses an override that matches on nothing, and unknown fields anywhere', () => {
    expect(firstIssue({ rate_overrides: [{ match: {}, rate: '1.00' }] }).path).toBe('rate_overrides.0.match');
    expect(firstIssue({ rate_overrides: [{ match: { sku: [] }, rate: '1.00' }] }).path).toBe('rate_overrides.0.match.sku');
    expect(incentivesInputSchema.safeParse({ perod: 'month' }).success).toBe(false);
    expect(incentivesInputSchema.safeParse({ caps: { results: 5 } }).success).toBe(false);
  });

  it('presentIncentives is the inverse of the schema (the JSON form to store and show)', () => {
    for (const ctx of [USD_CPL, { currency: 'JPY', objective: 'cpa_percent' } as const]) {
      const wire = {
        period: 'week',
        time_zone: 'Asia/Kolkata',
        week_starts_on: 'sunday',
        target: 40,
        tiers: [
          { threshold: { percent_of_target: 100 }, bonus: { fixed: ctx.currency === 'JPY' ? '500' : '5.00' } },
          { threshold: { percent_of_target: 150 }, bonus: { fixed: ctx.currency === 'JPY' ? '2000' : '20.00' } },
        ],
        rate_overrides: [
          { match: { country: ['IN'] }, ...(ctx.objective === 'cpa_percent' ? { rate_bps: 700 } : { rate: '0.40' }) },
          { match: { sku: ['X'] }, ...(ctx.objective === 'cpa_percent' ? { rate_bps: 900 } : { rate: '0.90' }) },
        ],
        caps: { results_per_period: 1000 },
      };
      const parsed = incentivesSchema(ctx).parse(wire);
      const presented = presentIncentives(parsed, ctx);
      expect(presented).toEqual(wire);
      expect(JSON.parse(JSON.stringify(presented))).toEqual(wire);
      expect(incentivesSchema(ctx).parse(presented)).toEqual(parsed);
    }
  });
});

describe('tiers', () => {
  const results3 = [
    tier({ results: 10 }, { bps: 500 }),
    tier({ results: 20 }, { bps: 1000 }),
    tier({ results: 30 }, { bps: 2000 }),
  ];
  const bonusAt = (n: number, tiers: readonly Tier[] = results3, target: number | null = null) =>
    computeBonus({ validatedResults: n, baseEarnings: BigInt(n) * 1000n, target, tiers, caps: NO_CAPS });

  it.each([
    [0, null, { index: 0, threshold: 10, remaining: 10 }],
    [9, null, { index: 0, threshold: 10, remaining: 1 }],
    [10, 0, { index: 1, threshold: 20, remaining: 10 }],
    [11, 0, { index: 1, threshold: 20, remaining: 9 }],
    [19, 0, { index: 1, threshold: 20, remaining: 1 }],
    [20, 1, { index: 2, threshold: 30, remaining: 10 }],
    [21, 1, { index: 2, threshold: 30, remaining: 9 }],
    [29, 1, { index: 2, threshold: 30, remaining: 1 }],
    [30, 2, null],
    [31, 2, null],
  ])('%i results reach tier %s (next %j)', (n, tierReached, nextTier) => {
    const o = bonusAt(n);
    expect(o.tierReached).toBe(tierReached);
    expect(o.nextTier).toEqual(nextTier);
    const bps = tierReached === null ? 0n : BigInt([500, 1000, 2000][tierReached]!);
    expect(o.bonus).toBe((BigInt(n) * 1000n * bps) / 10_000n);
  });

  it.each([
    // target 7: 120 % is 8.4 results → 9 needed (8 is only 114 %); 150 % is 10.5 → 11.
    [7, 8, null],
    [7, 9, 0],
    [7, 10, 0],
    [7, 11, 1],
    [7, 12, 1],
    // target 3: 3.6 → 4, 4.5 → 5.
    [3, 3, null],
    [3, 4, 0],
    [3, 5, 1],
    [3, 6, 1],
    // target 10 divides: 12 and 15 exactly.
    [10, 11, null],
    [10, 12, 0],
    [10, 14, 0],
    [10, 15, 1],
  ])('percent of target %i: %i results reach tier %s', (target, n, tierReached) => {
    const tiers = [tier({ percent_of_target: 120 }, { bps: 1000 }), tier({ percent_of_target: 150 }, { bps: 2000 })];
    expect(bonusAt(n, tiers, target).tierReached).toBe(tierReached);
  });

  it('resolves percent thresholds in whole results, per creator target', () => {
    const tiers = [tier({ percent_of_target: 120 }, { bps: 1000 }), tier({ percent_of_target: 150 }, { bps: 2000 })];
    expect(tierThresholds(tiers, 7)).toEqual([9, 11]);
    expect(tierThresholds(tiers, 3)).toEqual([4, 5]);
    expect(tierThresholds(tiers, 1)).toEqual([2, 2]);
    // A target of 1 puts both tiers at 2 results: the higher one wins.
    expect(bonusAt(2, tiers, 1).tierReached).toBe(1);
    expect(() => tierThresholds(tiers, null)).toThrow(AssertionFailure);
  });

  it("pays the issue's example: +10 % of the period's earnings at ≥ 120 % of target, +20 % at ≥ 150 %", () => {
    const tiers = [tier({ percent_of_target: 120 }, { bps: 1000 }), tier({ percent_of_target: 150 }, { bps: 2000 })];
    const rate = 200n; // 2.00 per result
    const at = (n: number) => computeBonus({ validatedResults: n, baseEarnings: BigInt(n) * rate, target: 100, tiers, caps: NO_CAPS });
    expect(at(119)).toMatchObject({ tierReached: null, bonus: 0n, nextTier: { index: 0, threshold: 120, remaining: 1 } });
    expect(at(120)).toMatchObject({ tierReached: 0, bonus: 2_400n, nextTier: { index: 1, threshold: 150, remaining: 30 } });
    expect(at(149)).toMatchObject({ tierReached: 0, bonus: 2_980n });
    expect(at(150)).toMatchObject({ tierReached: 1, bonus: 6_000n, nextTier: null });
  });

  it('rounds bps bonuses half to even with the money module', () => {
    const tiers = [tier({ results: 1 }, { bps: 1000 })];
    const bonus = (base: bigint) => computeBonus({ validatedResults: 1, baseEarnings: base, target: null, tiers, caps: NO_CAPS }).bonus;
    expect(bonus(125n)).toBe(12n); // 12.5 → 12 (even)
    expect(bonus(135n)).toBe(14n); // 13.5 → 14 (even)
    expect(bonus(5n)).toBe(0n); // 0.5 → 0
    expect(bonus(15n)).toBe(2n); // 1.5 → 2
    expect(bonus(126n)).toBe(13n); // 12.6 → 13
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.integer({ min: 1, max: 1_000_000 }), (base, bps) => {
        const got = computeBonus({ validatedResults: 1, baseEarnings: base, target: null, tiers: [tier({ results: 1 }, { bps })], caps: NO_CAPS });
        expect(got.bonus).toBe(divRound(base * BigInt(bps), 10_000n));
      }),
    );
  });

  it('pays fixed bonuses whatever the earnings', () => {
    const tiers = [tier({ results: 5 }, { fixed: 5_000n }), tier({ results: 10 }, { fixed: 20_000n })];
    const at = (n: number, base: bigint) => computeBonus({ validatedResults: n, baseEarnings: base, target: null, tiers, caps: NO_CAPS }).bonus;
    expect(at(4, 1_000_000n)).toBe(0n);
    expect(at(5, 1n)).toBe(5_000n);
    expect(at(9, 999_999n)).toBe(5_000n);
    expect(at(10, 0n)).toBe(20_000n);
  });

  it('pays nothing without tiers', () => {
    expect(computeBonus({ validatedResults: 1000, baseEarnings: 10n ** 9n, target: 10, tiers: [], caps: NO_CAPS })).toEqual({
      tierReached: null,
      bonus: 0n,
      bonusBeforeCap: 0n,
      nextTier: null,
    });
  });
});

describe('caps', () => {
  const tenPercent = [tier({ results: 1 }, { bps: 1000 })];

  it('cuts the bonus to the room left under amount_per_period: base plus bonus never exceed it', () => {
    const caps: Caps = { results_per_period: null, amount_per_period: 1000n };
    const at = (base: bigint) => computeBonus({ validatedResults: 10, baseEarnings: base, target: null, tiers: tenPercent, caps });
    expect(at(900n)).toMatchObject({ bonus: 90n, bonusBeforeCap: 90n }); // fits exactly
    expect(at(950n)).toMatchObject({ bonus: 50n, bonusBeforeCap: 95n });
    expect(at(1000n)).toMatchObject({ tierReached: 0, bonus: 0n, bonusBeforeCap: 100n });
  });

  it('caps fixed bonuses the same way', () => {
    const caps: Caps = { results_per_period: null, amount_per_period: 10_000n };
    const tiers = [tier({ results: 1 }, { fixed: 5_000n })];
    expect(computeBonus({ validatedResults: 1, baseEarnings: 7_000n, target: null, tiers, caps }).bonus).toBe(3_000n);
    expect(computeBonus({ validatedResults: 1, baseEarnings: 5_000n, target: null, tiers, caps }).bonus).toBe(5_000n);
  });

  it('counts at most results_per_period results; the rest neither count nor earn', () => {
    const caps: Caps = { results_per_period: 2, amount_per_period: null };
    expect(capResults([300n, 300n, 300n, 300n], caps)).toEqual({ counted: 2, baseEarnings: 600n, earned: [300n, 300n, 0n, 0n] });
    expect(capResults([300n, 300n], caps)).toEqual({ counted: 2, baseEarnings: 600n, earned: [300n, 300n] });
  });

  it('pays the result that crosses amount_per_period the remainder; later ones earn nothing but still count', () => {
    const caps: Caps = { results_per_period: null, amount_per_period: 1000n };
    expect(capResults([300n, 300n, 300n, 300n, 300n], caps)).toEqual({ counted: 5, baseEarnings: 1000n, earned: [300n, 300n, 300n, 100n, 0n] });
    expect(capResults([500n, 500n], caps)).toEqual({ counted: 2, baseEarnings: 1000n, earned: [500n, 500n] });
    expect(capResults([], caps)).toEqual({ counted: 0, baseEarnings: 0n, earned: [] });
  });

  it('applies both caps together', () => {
    const caps: Caps = { results_per_period: 3, amount_per_period: 700n };
    expect(capResults([300n, 300n, 300n, 300n], caps)).toEqual({ counted: 3, baseEarnings: 700n, earned: [300n, 300n, 100n, 0n] });
    expect(admitResult({ results: 3, earnings: 0n }, 1n, caps)).toEqual({ counts: false, earns: 0n });
    expect(admitResult({ results: 2, earnings: 0n }, 1n, caps)).toEqual({ counts: true, earns: 1n });
  });

  it('shows no next tier above the results cap', () => {
    const tiers = [tier({ results: 5 }, { bps: 100 }), tier({ results: 10 }, { bps: 200 })];
    const caps: Caps = { results_per_period: 9, amount_per_period: null };
    expect(computeBonus({ validatedResults: 4, baseEarnings: 0n, target: null, tiers, caps }).nextTier).toEqual({ index: 0, threshold: 5, remaining: 1 });
    expect(computeBonus({ validatedResults: 5, baseEarnings: 0n, target: null, tiers, caps }).nextTier).toBeNull();
  });

  it('refuses inputs that were not counted through the caps (a programmer error)', () => {
    const caps: Caps = { results_per_period: 5, amount_per_period: 100n };
    expect(() => computeBonus({ validatedResults: 6, baseEarnings: 0n, target: null, tiers: tenPercent, caps })).toThrow(AssertionFailure);
    expect(() => computeBonus({ validatedResults: 1, baseEarnings: 101n, target: null, tiers: tenPercent, caps })).toThrow(AssertionFailure);
  });
});

describe('rate overrides', () => {
  const overrides: RateOverride[] = [
    { match: { country: ['DE', 'AT'], sku: null }, rate: 300n },
    { match: { country: null, sku: ['PRO'] }, rate: 500n },
    { match: { country: ['DE'], sku: ['PRO'] }, rate: 400n },
    { match: { country: ['IN'], sku: null }, rate: 50n },
  ];

  it.each([
    ['no match → base', { country: 'US', sku: 'BASIC' }, 200n],
    ['country match', { country: 'AT', sku: 'BASIC' }, 300n],
    ['the highest of three matches wins', { country: 'DE', sku: 'PRO' }, 500n],
    ['sku only', { country: 'US', sku: 'PRO' }, 500n],
    ['country and sku must both match', { country: 'AT', sku: 'PRO' }, 500n],
    ['an override may lower the rate', { country: 'IN' }, 50n],
    ['unknown country matches no country criterion', { country: null, sku: 'BASIC' }, 200n],
    ['attributes absent', {}, 200n],
  ])('%s', (_, result, expected) => {
    expect(rateFor(result, 200n, overrides)).toBe(expected);
  });

  it('needs both criteria of one override', () => {
    expect(rateFor({ country: 'DE', sku: 'LITE' }, 200n, [{ match: { country: ['DE'], sku: ['PRO'] }, rate: 999n }])).toBe(200n);
    expect(rateFor({ country: 'DE', sku: 'PRO' }, 200n, [])).toBe(200n);
  });
});

describe('corrections and shortfall', () => {
  const tiers = [tier({ percent_of_target: 120 }, { bps: 1000 }), tier({ percent_of_target: 150 }, { bps: 2000 })];
  const due = (n: number) => computeBonus({ validatedResults: n, baseEarnings: BigInt(n) * 200n, target: 100, tiers, caps: NO_CAPS }).bonus;

  it('claws back the whole bonus when a clawed-back result drops the creator below the tier', () => {
    const paid = due(120);
    expect(paid).toBe(2_400n);
    expect(bonusCorrection(paid, due(119))).toBe(-2_400n);
  });

  it('claws back the difference when the tier holds but the earnings shrink', () => {
    expect(bonusCorrection(due(151), due(150))).toBe(6_000n - 6_040n);
  });

  it('pays more when the tier drops but a shortfall left less paid than is now due', () => {
    const { pay } = payable(due(150), 1_000n);
    expect(bonusCorrection(pay, due(149))).toBe(2_980n - 1_000n);
    expect(bonusCorrection(2_980n, 2_980n)).toBe(0n);
  });

  it('pays what escrow covers and records the rest as a shortfall', () => {
    expect(payable(6_000n, 2_500n)).toEqual({ pay: 2_500n, shortfall: 3_500n });
    expect(payable(6_000n, 6_000n)).toEqual({ pay: 6_000n, shortfall: 0n });
    expect(payable(6_000n, 10_000n)).toEqual({ pay: 6_000n, shortfall: 0n });
    expect(payable(0n, 0n)).toEqual({ pay: 0n, shortfall: 0n });
    expect(() => payable(-1n, 10n)).toThrow(AssertionFailure);
  });
});

describe('progress', () => {
  const tiers = [tier({ percent_of_target: 120 }, { bps: 1000 }), tier({ percent_of_target: 150 }, { bps: 2000 })];

  it('shows the tier, the next one, results to go and percentages', () => {
    expect(progress({ validatedResults: 87, target: 100, tiers, baseEarnings: 17_400n })).toEqual({
      tier: null,
      nextTier: { index: 0, threshold: 120, remaining: 33 },
      resultsToGo: 33,
      percentOfTarget: 87,
      percentToNextTier: 72, // 87/120 = 72.5 %, rounded down
      bonus: 0n,
    });
    expect(progress({ validatedResults: 130, target: 100, tiers, baseEarnings: 26_000n })).toEqual({
      tier: 0,
      nextTier: { index: 1, threshold: 150, remaining: 20 },
      resultsToGo: 20,
      percentOfTarget: 130,
      percentToNextTier: 86,
      bonus: 2_600n,
    });
    expect(progress({ validatedResults: 150, target: 100, tiers, baseEarnings: 30_000n })).toMatchObject({
      tier: 1,
      nextTier: null,
      resultsToGo: null,
      percentToNextTier: null,
      bonus: 6_000n,
    });
  });

  it('uses the creator target, rounds percentages down and works without a target', () => {
    expect(progress({ validatedResults: 2, target: 3, tiers, baseEarnings: 0n }).percentOfTarget).toBe(66);
    const byResults = [tier({ results: 10 }, { fixed: 1_000n })];
    expect(progress({ validatedResults: 3, target: null, tiers: byResults, baseEarnings: 0n })).toMatchObject({
      percentOfTarget: null,
      percentToNextTier: 30,
      resultsToGo: 7,
    });
  });

  it('applies caps when given', () => {
    const caps: Caps = { results_per_period: 120, amount_per_period: 24_500n };
    expect(progress({ validatedResults: 120, target: 100, tiers, baseEarnings: 24_000n, caps })).toMatchObject({
      tier: 0,
      nextTier: null,
      bonus: 500n,
    });
  });
});

describe('periods', () => {
  const wide = { starts_at: new Date('2000-01-01T00:00:00Z'), ends_at: new Date('2040-01-01T00:00:00Z') };
  const rule = (time_zone: string, period: PeriodRule['period'] = 'month', week_starts_on: PeriodRule['week_starts_on'] = 'monday'): PeriodRule => ({
    period,
    time_zone,
    week_starts_on,
  });
  const iso = (p: Period) => ({ key: p.key, start: p.start.toISOString(), end: p.end.toISOString() });
  const at = (instant: string, r: PeriodRule, campaign = wide) => iso(periodOf(new Date(instant), r, campaign));

  it('puts 2026-03-31T23:30Z in April in Berlin and in March in New York', () => {
    expect(at('2026-03-31T23:30:00Z', rule('Europe/Berlin'))).toEqual({ key: '2026-04', start: '2026-03-31T22:00:00.000Z', end: '2026-04-30T22:00:00.000Z' });
    expect(at('2026-03-31T23:30:00Z', rule('America/New_York'))).toEqual({ key: '2026-03', start: '2026-03-01T05:00:00.000Z', end: '2026-04-01T04:00:00.000Z' });
  });

  it('rolls over exactly at local midnight: the boundary instant is the new month, a millisecond before is the old', () => {
    expect(at('2026-03-31T22:00:00.000Z', rule('Europe/Berlin')).key).toBe('2026-04');
    expect(at('2026-03-31T21:59:59.999Z', rule('Europe/Berlin')).key).toBe('2026-03');
    expect(at('2026-12-31T23:59:59.999Z', rule('UTC')).key).toBe('2026-12');
    expect(at('2027-01-01T00:00:00.000Z', rule('UTC'))).toEqual({ key: '2027-01', start: '2027-01-01T00:00:00.000Z', end: '2027-02-01T00:00:00.000Z' });
  });

  it('spans DST changes: a month and a week are not a fixed number of hours', () => {
    // Berlin springs forward on 2026-03-29 and falls back on 2026-10-25.
    expect(at('2026-03-15T12:00:00Z', rule('Europe/Berlin'))).toEqual({ key: '2026-03', start: '2026-02-28T23:00:00.000Z', end: '2026-03-31T22:00:00.000Z' });
    const spring = periodOf(new Date('2026-03-27T12:00:00Z'), rule('Europe/Berlin', 'week'), wide);
    expect(iso(spring)).toEqual({ key: '2026-W13', start: '2026-03-22T23:00:00.000Z', end: '2026-03-29T22:00:00.000Z' });
    expect((spring.end.getTime() - spring.start.getTime()) / 3_600_000).toBe(167);
    const autumn = periodOf(new Date('2026-10-25T12:00:00Z'), rule('Europe/Berlin', 'week'), wide);
    expect((autumn.end.getTime() - autumn.start.getTime()) / 3_600_000).toBe(169);
    // New York springs forward on 2026-03-08: the week of Sunday 8th starts at midnight EST.
    expect(at('2026-03-08T12:00:00Z', rule('America/New_York', 'week', 'sunday'))).toEqual({
      key: '2026-03-08',
      start: '2026-03-08T05:00:00.000Z',
      end: '2026-03-15T04:00:00.000Z',
    });
  });

  it('handles half-hour offsets and the southern hemisphere: Kolkata (+5:30), Auckland (+13 → +12 in April)', () => {
    expect(at('2026-03-31T18:29:59Z', rule('Asia/Kolkata')).key).toBe('2026-03');
    expect(at('2026-03-31T18:30:00Z', rule('Asia/Kolkata'))).toEqual({ key: '2026-04', start: '2026-03-31T18:30:00.000Z', end: '2026-04-30T18:30:00.000Z' });
    expect(at('2026-03-31T10:59:59Z', rule('Pacific/Auckland')).key).toBe('2026-03');
    expect(at('2026-03-31T11:00:00Z', rule('Pacific/Auckland'))).toEqual({ key: '2026-04', start: '2026-03-31T11:00:00.000Z', end: '2026-04-30T12:00:00.000Z' });
    expect(at('2026-11-18T10:00:00Z', rule('Asia/Kolkata', 'week'))).toEqual({ key: '2026-W47', start: '2026-11-15T18:30:00.000Z', end: '2026-11-22T18:30:00.000Z' });
    // Monday 16 November starts on Sunday the 15th in UTC, and Tuesday already in Auckland.
    expect(at('2026-11-15T18:29:59Z', rule('Asia/Kolkata', 'week')).key).toBe('2026-W46');
    expect(at('2026-11-15T11:00:00Z', rule('Pacific/Auckland', 'week')).key).toBe('2026-W47');
  });

  it('starts a day whose midnight does not exist at the DST jump (Santiago, 2026-09-06 00:00 → 01:00)', () => {
    expect(at('2026-09-06T12:00:00Z', rule('America/Santiago', 'week', 'sunday'))).toEqual({
      key: '2026-09-06',
      start: '2026-09-06T04:00:00.000Z',
      end: '2026-09-13T03:00:00.000Z',
    });
    expect(at('2026-09-06T03:59:59Z', rule('America/Santiago', 'week', 'sunday')).key).toBe('2026-08-30');
  });

  it('starts a day whose midnight happens twice at the first one (Amman, 2021-10-29 01:00 → 00:00)', () => {
    expect(at('2021-10-28T22:30:00Z', rule('Asia/Amman', 'week', 'friday'))).toEqual({
      key: '2021-10-29',
      start: '2021-10-28T21:00:00.000Z',
      end: '2021-11-04T22:00:00.000Z',
    });
    expect(at('2021-10-28T20:59:59Z', rule('Asia/Amman', 'week', 'friday')).key).toBe('2021-10-22');
  });

  it('names ISO weeks by their week-numbering year', () => {
    expect(at('2026-12-31T12:00:00Z', rule('UTC', 'week')).key).toBe('2026-W53');
    expect(at('2027-01-03T12:00:00Z', rule('UTC', 'week')).key).toBe('2026-W53');
    expect(at('2027-01-04T00:00:00Z', rule('UTC', 'week')).key).toBe('2027-W01');
    expect(at('2024-12-30T00:00:00Z', rule('UTC', 'week')).key).toBe('2025-W01');
  });

  it('clips periods to the campaign and lists them contiguously', () => {
    const campaign = { starts_at: new Date('2026-03-15T12:00:00Z'), ends_at: new Date('2026-05-10T00:00:00Z') };
    expect(periodsBetween(campaign.starts_at, campaign.ends_at, rule('UTC'), campaign).map(iso)).toEqual([
      { key: '2026-03', start: '2026-03-15T12:00:00.000Z', end: '2026-04-01T00:00:00.000Z' },
      { key: '2026-04', start: '2026-04-01T00:00:00.000Z', end: '2026-05-01T00:00:00.000Z' },
      { key: '2026-05', start: '2026-05-01T00:00:00.000Z', end: '2026-05-10T00:00:00.000Z' },
    ]);
    expect(periodsBetween(new Date('2020-01-01T00:00:00Z'), new Date('2026-04-02T00:00:00Z'), rule('UTC'), campaign).map((p) => p.key)).toEqual(['2026-03', '2026-04']);
    expect(periodsBetween(new Date('2026-06-01T00:00:00Z'), new Date('2026-07-01T00:00:00Z'), rule('UTC'), campaign)).toEqual([]);
    expect(at('2026-04-20T00:00:00Z', rule('UTC', 'campaign'), campaign)).toEqual({ key: 'campaign', start: '2026-03-15T12:00:00.000Z', end: '2026-05-10T00:00:00.000Z' });
  });

  it('refuses instants outside the campaign [starts_at, ends_at)', () => {
    const campaign = { starts_at: new Date('2026-03-15T12:00:00Z'), ends_at: new Date('2026-05-10T00:00:00Z') };
    expect(() => periodOf(campaign.ends_at, rule('UTC'), campaign)).toThrow(AssertionFailure);
    expect(() => periodOf(new Date(campaign.starts_at.getTime() - 1), rule('UTC'), campaign)).toThrow(AssertionFailure);
    expect(periodOf(campaign.starts_at, rule('UTC'), campaign).key).toBe('2026-03');
  });

  it('closes a period when its end has passed', () => {
    const p = periodOf(new Date('2026-03-10T00:00:00Z'), rule('UTC'), wide);
    expect(isClosed(p, new Date('2026-03-31T23:59:59.999Z'))).toBe(false);
    expect(isClosed(p, new Date('2026-04-01T00:00:00Z'))).toBe(true);
  });

  /** Local calendar date through a formatter of its own: an oracle independent of the offset arithmetic. */
  const localDate = (t: number, zone: string) => new Intl.DateTimeFormat('sv-SE', { timeZone: zone, dateStyle: 'short' }).format(new Date(t));
  const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Pacific/Auckland', 'Asia/Kolkata', 'America/Santiago', 'Asia/Amman', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Asia/Kathmandu', 'America/St_Johns', 'Pacific/Kiritimati', 'Africa/Casablanca', 'America/Havana', 'Asia/Tehran'];
  const instant = fc.integer({ min: Date.UTC(2015, 0, 1), max: Date.UTC(2035, 0, 1) });

  it('puts every instant in a month whose bounds are the first local instants of that month and the next', () => {
    fc.assert(
      fc.property(instant, fc.constantFrom(...ZONES), (t, zone) => {
        const p = periodOf(new Date(t), rule(zone), wide);
        const [start, end] = [p.start.getTime(), p.end.getTime()];
        expect(start <= t && t < end).toBe(true);
        expect(localDate(t, zone).slice(0, 7)).toBe(p.key);
        expect(localDate(start, zone)).toBe(`${p.key}-01`);
        expect(localDate(start - 1000, zone).slice(0, 7)).not.toBe(p.key);
        expect(localDate(end, zone).slice(8)).toBe('01');
        expect(localDate(end - 1000, zone).slice(0, 7)).toBe(p.key);
      }),
      { numRuns: 300 },
    );
  });

  it('puts every instant in a week that starts at the first local instant of the chosen weekday', () => {
    const weekday = (t: number, zone: string) => new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'long' }).format(new Date(t)).toLowerCase();
    const days = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
    fc.assert(
      fc.property(instant, fc.constantFrom(...ZONES), fc.constantFrom(...days), (t, zone, startsOn) => {
        const p = periodOf(new Date(t), rule(zone, 'week', startsOn), wide);
        const [start, end] = [p.start.getTime(), p.end.getTime()];
        expect(start <= t && t < end).toBe(true);
        expect(weekday(start, zone)).toBe(startsOn);
        expect(weekday(end, zone)).toBe(startsOn);
        expect(weekday(start - 1000, zone)).not.toBe(startsOn);
        expect(weekday(end - 1000, zone)).not.toBe(startsOn);
        expect((end - start) / 3_600_000).toBeGreaterThanOrEqual(166);
        expect((end - start) / 3_600_000).toBeLessThanOrEqual(170);
        if (startsOn !== 'monday') expect(p.key).toBe(localDate(start, zone));
        expect(periodOf(p.start, rule(zone, 'week', startsOn), wide)).toEqual(p);
      }),
      { numRuns: 300 },
    );
  });

  it('lists contiguous, clipped, increasing periods that cover any range of a campaign', () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: 1, max: 200 * 86_400_000 }), fc.constantFrom(...ZONES), fc.constantFrom('month' as const, 'week' as const), (from, length, zone, kind) => {
        const campaign = { starts_at: new Date(from), ends_at: new Date(from + length) };
        const periods = periodsBetween(campaign.starts_at, campaign.ends_at, rule(zone, kind), campaign);
        expect(periods[0]!.start).toEqual(campaign.starts_at);
        expect(periods.at(-1)!.end).toEqual(campaign.ends_at);
        periods.forEach((p, i) => {
          expect(p.start < p.end).toBe(true);
          if (i > 0) {
            expect(p.start).toEqual(periods[i - 1]!.end);
            expect(p.key > periods[i - 1]!.key).toBe(true);
          }
        });
      }),
      { numRuns: 100 },
    );
  });
});

describe('properties of bonuses', () => {
  /** Valid tiers as the schema admits them: one kind each, thresholds and bonuses strictly increasing. */
  const tiersArb = fc
    .record({
      thresholds: fc.uniqueArray(fc.integer({ min: 1, max: 300 }), { minLength: 0, maxLength: 5 }),
      bonuses: fc.uniqueArray(fc.integer({ min: 1, max: 50_000 }), { minLength: 5, maxLength: 5 }),
      percent: fc.boolean(),
      fixed: fc.boolean(),
    })
    .map(({ thresholds, bonuses, percent, fixed }) => {
      const ts = [...thresholds].sort((a, b) => a - b);
      const bs = [...bonuses].sort((a, b) => a - b);
      return ts.map(
        (t, i): Tier => tier(percent ? { percent_of_target: t } : { results: t }, fixed ? { fixed: BigInt(bs[i]!) } : { bps: bs[i]! }),
      );
    });
  const capsArb = fc.record({
    results_per_period: fc.option(fc.integer({ min: 1, max: 300 }), { nil: null }),
    amount_per_period: fc.option(fc.bigInt({ min: 1n, max: 200_000n }), { nil: null }),
  });
  const grossesArb = fc.array(fc.bigInt({ min: 0n, max: 2_000n }), { maxLength: 300 });
  const target = fc.integer({ min: 1, max: 200 });

  const outcome = (grosses: readonly bigint[], tiers: Tier[], caps: Caps, t: number) => {
    const { counted, baseEarnings } = capResults(grosses, caps);
    return { counted, baseEarnings, ...computeBonus({ validatedResults: counted, baseEarnings, target: t, tiers, caps }) };
  };

  it('never pays a negative bonus and never exceeds the caps', () => {
    fc.assert(
      fc.property(grossesArb, tiersArb, capsArb, target, (grosses, tiers, caps, t) => {
        const o = outcome(grosses, tiers, caps, t);
        expect(o.bonus >= 0n).toBe(true);
        expect(o.bonus <= o.bonusBeforeCap).toBe(true);
        if (caps.results_per_period !== null) expect(o.counted).toBeLessThanOrEqual(caps.results_per_period);
        if (caps.amount_per_period !== null) expect(o.baseEarnings + o.bonus <= caps.amount_per_period).toBe(true);
        else expect(o.bonus).toBe(o.bonusBeforeCap);
      }),
    );
  });

  it('is monotone in results: one more result never lowers what the creator earns (nor, without an amount cap, the bonus)', () => {
    fc.assert(
      fc.property(grossesArb, fc.bigInt({ min: 0n, max: 2_000n }), tiersArb, capsArb, target, (grosses, extra, tiers, caps, t) => {
        const before = outcome(grosses, tiers, caps, t);
        const after = outcome([...grosses, extra], tiers, caps, t);
        expect(after.baseEarnings + after.bonus >= before.baseEarnings + before.bonus).toBe(true);
        expect((after.tierReached ?? -1) >= (before.tierReached ?? -1)).toBe(true);
        if (caps.amount_per_period === null) expect(after.bonus >= before.bonus).toBe(true);
      }),
    );
  });

  it('corrections and shortfalls never create or lose a unit', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.bigInt({ min: 0n, max: 10n ** 12n }), (a, b) => {
        expect(a + bonusCorrection(a, b)).toBe(b);
        const { pay, shortfall } = payable(a, b);
        expect(pay + shortfall).toBe(a);
        expect(pay <= b && pay >= 0n && shortfall >= 0n).toBe(true);
      }),
    );
  });
});

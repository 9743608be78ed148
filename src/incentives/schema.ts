import { z } from 'zod';
import type { Objective } from '../validation/index.js';
import { AppError, isAppError } from '../errors/index.js';
import { formatAmount, MAX_BASIS_POINTS, parseAmount } from '../money/index.js';
import { isKnownTimeZone } from './zoned.js';

/**
 * A campaign's incentive terms: the period bonuses are counted over, per-creator targets, bonus tiers,
 * conditional rates and caps. On the wire amounts are decimal strings in the major unit ("50.00" USD),
 * as everywhere in the campaign terms; inside they are bigint minor units of the campaign currency.
 *
 * Defaults (an empty object means "no incentives": base rate only, no bonus, no caps):
 * - period `campaign` (one period from starts_at to ends_at), time_zone `UTC`, week_starts_on `monday`
 *   (ISO 8601 weeks);
 * - no target, no tiers, no rate overrides, no caps.
 *
 * Units: a tier threshold is a number of validated results, or `percent_of_target` in whole percent
 * (120 = 120 % of the creator's target); a bonus is `bps` of the period's base earnings (1000 = 10 %)
 * or a `fixed` amount. An override's rate has the unit of the campaign's own rate: `rate` (decimal
 * string) per result, or `rate_bps` of the order value for cpa_percent campaigns.
 */
export const PERIODS = ['campaign', 'month', 'week'] as const;
export type PeriodKind = (typeof PERIODS)[number];

/** In ISO order: index + 1 is the ISO weekday number. */
export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const MAX_TIERS = 20;
export const MAX_RATE_OVERRIDES = 100;

const positiveDecimal = z.string().max(40).regex(/^\d+(\.\d+)?$/, 'must be a positive decimal string such as "12.50"');
const count = z.number().int().min(1).max(1_000_000_000);

// Area/Location names, "UTC" and the like: rules out offsets such as "+05:30", which are not zones
// and carry no DST rules.
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;
const timeZone = z
  .string()
  .max(64)
  .refine((name) => IANA_NAME.test(name) && isKnownTimeZone(name), 'must be an IANA time zone name such as Europe/Berlin');

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });

/**
 * An ISO 3166-1 alpha-2 code, upper case as conversions send it. Deprecated aliases are refused with
 * their replacement ("UK" → "GB"): customers arrive with the canonical code, so an override on the
 * alias would silently never match.
 */
const country = z
  .string()
  .length(2)
  .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as US')
  .superRefine((code, ctx) => {
    // Zod runs refinements even after the pattern failed: Intl throws on what is not a region code.
    if (!/^[A-Z]{2}$/.test(code)) return;
    if (regionNames.of(code) === undefined) {
      ctx.addIssue({ code: 'custom', message: `unknown country code ${code}` });
      return;
    }
    const canonical = Intl.getCanonicalLocales(`und-${code}`)[0]?.slice(4);
    if (canonical !== code) ctx.addIssue({ code: 'custom', message: `${code} is an alias: use ${canonical}` });
  });

function exactlyOne(keys: readonly string[]) {
  return (value: Record<string, unknown>) => keys.filter((k) => value[k] !== undefined).length === 1;
}

const oneThreshold = exactlyOne(['results', 'percent_of_target']);
const thresholdInput = z
  .strictObject({
    results: count.optional(),
    percent_of_target: z.number().int().min(1).max(100_000).optional(),
  })
  .refine(oneThreshold, 'give exactly one of results or percent_of_target');

const oneBonus = exactlyOne(['bps', 'fixed']);
const bonusInput = z
  .strictObject({
    bps: z.number().int().min(1).max(Number(MAX_BASIS_POINTS)).optional(),
    fixed: positiveDecimal.optional(),
  })
  .refine(oneBonus, 'give exactly one of bps or fixed');

const overrideInput = z.strictObject({
  match: z
    .strictObject({
      country: z.array(country).min(1).max(300).optional(),
      sku: z.array(z.string().min(1).max(64)).min(1).max(1000).optional(),
    })
    .refine((m) => m.country !== undefined || m.sku !== undefined, 'match on country, sku or both'),
  rate: positiveDecimal.optional(),
  rate_bps: z.number().int().min(1).max(10_000).optional(),
});

/** The wire form, checked for everything that does not depend on the campaign's currency or objective. */
export const incentivesInputSchema = z
  .strictObject({
    period: z.enum(PERIODS).default('campaign'),
    time_zone: timeZone.default('UTC'),
    week_starts_on: z.enum(WEEKDAYS).default('monday'),
    /** Validated results per creator per period; an enrolment may set its own. */
    target: count.optional(),
    tiers: z
      .array(z.strictObject({ threshold: thresholdInput, bonus: bonusInput }))
      .max(MAX_TIERS)
      .default([]),
    rate_overrides: z.array(overrideInput).max(MAX_RATE_OVERRIDES).default([]),
    caps: z
      .strictObject({
        results_per_period: count.optional(),
        amount_per_period: positiveDecimal.optional(),
      })
      .prefault({}),
  })
  .superRefine(checkTiers);
export type IncentivesInput = z.infer<typeof incentivesInputSchema>;
type TierInput = IncentivesInput['tiers'][number];

/**
 * One kind of threshold and one kind of bonus per campaign, both strictly increasing: then a higher
 * tier always needs more and pays more, so a creator's earnings never drop when a result is added.
 * (Mixed kinds cannot be ordered: 100 results against 120 % of a per-creator target, 50.00 fixed
 * against 10 % of earnings not yet known.) Fixed bonuses are compared once parsed, in
 * `normaliseIncentives`.
 */
function checkTiers(v: IncentivesInput, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  // A tier with both or neither kind already has its own issue: ordering it would only add noise.
  if (!v.tiers.every((t) => oneThreshold(t.threshold) && oneBonus(t.bonus))) return;
  v.tiers.forEach((tier, i) => {
    const previous = v.tiers[i - 1];
    if (previous !== undefined) {
      if (thresholdKind(tier) !== thresholdKind(previous)) {
        issue(['tiers', i, 'threshold'], 'every tier must use the same kind of threshold as tier 0');
      } else if (thresholdValue(tier) <= thresholdValue(previous)) {
        issue(['tiers', i, 'threshold'], `thresholds must be strictly increasing: tier ${i} must need more than tier ${i - 1}`);
      }
      if ((tier.bonus.bps === undefined) !== (previous.bonus.bps === undefined)) {
        issue(['tiers', i, 'bonus'], 'every tier must use the same kind of bonus as tier 0');
      } else if (tier.bonus.bps !== undefined && tier.bonus.bps <= previous.bonus.bps!) {
        issue(['tiers', i, 'bonus'], `bonuses must be strictly increasing: tier ${i} must pay more than tier ${i - 1}`);
      }
    }
    const cap = v.caps.results_per_period;
    if (tier.threshold.results !== undefined && cap !== undefined && tier.threshold.results > cap) {
      issue(['tiers', i, 'threshold'], `can never be reached: caps.results_per_period is ${cap}`);
    }
  });
  if (v.target === undefined && v.tiers.some((t) => t.threshold.percent_of_target !== undefined)) {
    issue(['target'], 'tiers with percent_of_target need a target');
  }
}

function thresholdKind(t: TierInput): 'results' | 'percent_of_target' {
  return t.threshold.results !== undefined ? 'results' : 'percent_of_target';
}

function thresholdValue(t: TierInput): number {
  return t.threshold.results ?? t.threshold.percent_of_target!;
}

export type Threshold = { results: number } | { percent_of_target: number };
export type Bonus = { bps: number } | { fixed: bigint };
export interface Tier {
  threshold: Threshold;
  bonus: Bonus;
}

/** Criteria absent (null) match anything; present ones must all match. */
export interface RateOverride {
  match: { country: readonly string[] | null; sku: readonly string[] | null };
  /** Minor units per result (per 1,000 views for cpm), or basis points of the order value for cpa_percent. */
  rate: bigint;
}

export interface Caps {
  results_per_period: number | null;
  /** Base earnings plus bonus, minor units. */
  amount_per_period: bigint | null;
}

export interface Incentives {
  period: PeriodKind;
  time_zone: string;
  week_starts_on: Weekday;
  target: number | null;
  tiers: Tier[];
  rate_overrides: RateOverride[];
  caps: Caps;
}

/** What the incentives need to know about their campaign: the unit of amounts and of rates. */
export interface IncentivesContext {
  currency: string;
  objective: Objective;
}

/**
 * Wire form → amounts in minor units. Throws AppError with `details.field` (a path inside the
 * incentives object, e.g. "tiers.1.bonus.fixed"): `invalid_amount`/`inexact_amount`/`unknown_currency`
 * from the money module for amounts that cannot be read exactly, `invalid_request` otherwise.
 * This is what `normaliseTerms` calls when the incentives are embedded in the campaign terms.
 */
export function normaliseIncentives(input: IncentivesInput, campaign: IncentivesContext): Incentives {
  const amount = (text: string, field: string) => positiveAmount(text, campaign.currency, field);
  const tiers = input.tiers.map((t, i): Tier => ({
    threshold: t.threshold.results !== undefined ? { results: t.threshold.results } : { percent_of_target: t.threshold.percent_of_target! },
    bonus: t.bonus.bps !== undefined ? { bps: t.bonus.bps } : { fixed: amount(t.bonus.fixed!, `tiers.${i}.bonus.fixed`) },
  }));
  tiers.forEach((tier, i) => {
    const previous = tiers[i - 1]?.bonus;
    if (previous && 'fixed' in previous && 'fixed' in tier.bonus && tier.bonus.fixed <= previous.fixed) {
      throw invalid(`tiers.${i}.bonus.fixed`, `bonuses must be strictly increasing: tier ${i} must pay more than tier ${i - 1}`);
    }
  });
  const percent = campaign.objective === 'cpa_percent';
  const rate_overrides = input.rate_overrides.map((o, i): RateOverride => {
    if (percent && o.rate !== undefined) throw invalid(`rate_overrides.${i}.rate`, 'cpa_percent campaigns take rate_bps, not rate');
    if (!percent && o.rate_bps !== undefined) throw invalid(`rate_overrides.${i}.rate_bps`, 'only cpa_percent campaigns take rate_bps');
    const rate = percent ? o.rate_bps : o.rate;
    if (rate === undefined) {
      const field = percent ? 'rate_bps' : 'rate';
      throw invalid(`rate_overrides.${i}.${field}`, `a ${campaign.objective} override needs ${field}`);
    }
    return {
      match: { country: o.match.country ?? null, sku: o.match.sku ?? null },
      rate: typeof rate === 'number' ? BigInt(rate) : amount(rate, `rate_overrides.${i}.rate`),
    };
  });
  const cap = input.caps.amount_per_period;
  return {
    period: input.period,
    time_zone: input.time_zone,
    week_starts_on: input.week_starts_on,
    target: input.target ?? null,
    tiers,
    rate_overrides,
    caps: {
      results_per_period: input.caps.results_per_period ?? null,
      amount_per_period: cap === undefined ? null : amount(cap, 'caps.amount_per_period'),
    },
  };
}

/**
 * The schema that turns the wire form into `Incentives` in one parse, for the campaign's currency and
 * objective. An amount error keeps its money-module code: it travels as `params.appError`, which the
 * API layer rethrows as is.
 */
export function incentivesSchema(campaign: IncentivesContext) {
  return incentivesInputSchema.transform((input, ctx): Incentives => {
    try {
      return normaliseIncentives(input, campaign);
    } catch (e) {
      if (!isAppError(e)) throw e;
      const field = String(e.details?.field ?? '');
      ctx.addIssue({ code: 'custom', message: e.message, path: field.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s)), params: { appError: e } });
      return z.NEVER;
    }
  });
}

/**
 * `Incentives` back to the wire form: the inverse of `incentivesSchema` (amounts as decimal strings,
 * absent criteria and caps omitted). Also the JSON form to store with the terms, since bigint does not
 * serialise.
 */
export function presentIncentives(inc: Incentives, campaign: IncentivesContext): IncentivesInput {
  const money = (minor: bigint) => formatAmount(minor, campaign.currency);
  const percent = campaign.objective === 'cpa_percent';
  return {
    period: inc.period,
    time_zone: inc.time_zone,
    week_starts_on: inc.week_starts_on,
    ...(inc.target === null ? {} : { target: inc.target }),
    tiers: inc.tiers.map((t) => ({
      threshold: { ...t.threshold },
      bonus: 'bps' in t.bonus ? { bps: t.bonus.bps } : { fixed: money(t.bonus.fixed) },
    })),
    rate_overrides: inc.rate_overrides.map((o) => ({
      match: {
        ...(o.match.country === null ? {} : { country: [...o.match.country] }),
        ...(o.match.sku === null ? {} : { sku: [...o.match.sku] }),
      },
      ...(percent ? { rate_bps: Number(o.rate) } : { rate: money(o.rate) }),
    })),
    caps: {
      ...(inc.caps.results_per_period === null ? {} : { results_per_period: inc.caps.results_per_period }),
      ...(inc.caps.amount_per_period === null ? {} : { amount_per_period: money(inc.caps.amount_per_period) }),
    },
  };
}

/** Reads an amount exactly and requires it above zero; errors name the field. */
function positiveAmount(text: string, currency: string, field: string): bigint {
  let minor: bigint;
  try {
    minor = parseAmount(text, currency);
  } catch (e) {
    if (!isAppError(e)) throw e;
    throw new AppError(e.code, `${field}: ${e.message}`, { cause: e, details: { field } });
  }
  if (minor <= 0n) throw invalid(field, `${field} must be more than zero`);
  return minor;
}

function invalid(field: string, message: string): AppError {
  return new AppError('invalid_request', `${field}: ${message}`, { details: { field } });
}

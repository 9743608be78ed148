import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type Objective, OBJECTIVES, type RuleSettingsInput, type ViewRuleSettingsInput } from '../validation/index.js';
import { AppError, assert } from '../errors/index.js';
import { timestamp } from '../wire/index.js';
import { currencyExponent, divRound, formatAmount, isCurrency, parseAmount } from '../money/index.js';
import { LEAD_FIELDS, ruleSettingsFor, type ValidationTerms, viewSettingsFor } from './validation.js';
import { type Incentives, type IncentivesContext, type IncentivesInput, incentivesInputSchema, normaliseIncentives, presentIncentives, rateFor } from '../incentives/index.js';
import { DEFAULT_HALF_LIFE_DAYS, type ModelName, MODELS } from '../attribution/index.js';

/**
 * A campaign's performance contract. Creators accept one exact version (by its SHA-256); a change after
 * that is a new version. Amounts are decimal strings in the currency's major unit on the wire
 * ("12.50" USD) and bigint minor units inside.
 */
export { type Objective, OBJECTIVES };

const decimal = z.string().max(40).regex(/^-?\d+(\.\d+)?$/, 'must be a decimal string such as "12.50"');
const isoTime = timestamp();

export const termsInputSchema = z.strictObject({
  objective: z.enum(OBJECTIVES),
  /** Per result (per 1,000 views for cpm); omitted for cpa_percent. */
  rate: decimal.optional(),
  /** Basis points of the order value, for cpa_percent only. */
  rate_bps: z.number().int().min(1).max(10_000).optional(),
  currency: z.string().max(3).refine(isCurrency, 'must be an ISO 4217 code such as USD'),
  budget: decimal,
  destination_url: z.url({ protocol: /^https?$/ }).max(2000),
  starts_at: isoTime,
  ends_at: isoTime,
  kpi_target: z.number().int().min(0).max(1_000_000_000),
  hold_days: z.number().int().min(0).max(365).default(30),
  /** How long a result the escrow cannot cover waits for the brand to top up before it is final over_budget. */
  budget_grace_days: z
    .number()
    .int()
    .min(0)
    .max(90)
    .optional()
    .describe('Days a result the escrow cannot cover waits as awaiting_funds for a top-up; 0: over_budget at once; default 7'),
  attribution_window_days: z.number().int().min(1).max(365).default(30),
  fee_bps: z.number().int().min(0).max(10_000).default(2_000),
  guarantee_bps: z.number().int().min(0).max(10_000).default(10_000),
  promo_max_uses: z.number().int().min(1).nullable().default(null),
  promo_once_per_customer: z.boolean().default(true),
  validation: z
    .strictObject({
      min_ctit_seconds: z.number().int().min(0).max(86_400).default(10),
      dedupe_leads: z.boolean().default(true),
      self_referral: z.boolean().default(true),
      target_countries: z
        .array(z.string().length(2).regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 codes such as US'))
        .min(1)
        .max(300)
        .nullable()
        .optional()
        .describe('Countries whose leads are paid; default null: any'),
      age_min: z.number().int().min(0).max(150).nullable().optional().describe('Inclusive; default null: no bound'),
      age_max: z.number().int().min(0).max(150).nullable().optional().describe('Inclusive; default null: no bound'),
      paid_traffic: z.enum(['allowed', 'forbidden']).optional().describe('forbidden: clicks from paid ads are invalid; default allowed'),
      required_fields: z.array(z.enum(LEAD_FIELDS)).max(LEAD_FIELDS.length).optional().describe('Lead fields the brand must send; default none'),
      min_lead_score: z.number().min(0).max(100).optional().describe('Leads scoring under it (0–100) are reviewed; default 50'),
      rules: z
        .custom<RuleSettingsInput>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'must be an object of rule settings')
        .optional()
        .describe("Overrides of the validation engine's rule settings (docs/validation.md)"),
      views: z
        .custom<ViewRuleSettingsInput>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'must be an object of view-report rule settings')
        .optional()
        .describe('CPM view reports: overrides of the plausibility rules (followers, engagement, velocity, round_numbers, insights; docs/validation.md)'),
    })
    .superRefine((v, ctx) => {
      if (v.age_min != null && v.age_max != null && v.age_min > v.age_max) {
        ctx.addIssue({ code: 'custom', path: ['age_max'], message: 'must not be below age_min' });
      }
      const rules = ruleSettingsFor(v);
      // The settings as the engine will run them: an unknown rule or an inconsistent threshold is refused now, not at the first conversion.
      for (const issue of rules.error?.issues ?? []) ctx.addIssue({ code: 'custom', path: ['rules', ...issue.path.map(String)], message: issue.message });
      const views = viewSettingsFor(v);
      for (const issue of views.error?.issues ?? []) ctx.addIssue({ code: 'custom', path: ['views', ...issue.path.map(String)], message: issue.message });
    })
    .default({ min_ctit_seconds: 10, dedupe_leads: true, self_referral: true }),
  /** Tiered bonuses, rate overrides and caps per period (docs/incentives.md); none when absent. */
  incentives: incentivesInputSchema.optional(),
  /** How a conversion reached through several creators is split among them (docs/attribution.md). */
  attribution: z
    .strictObject({
      model: z.enum(MODELS).default('last_click').describe('Default last_click'),
      half_life_days: z.number().positive().max(365).default(DEFAULT_HALF_LIFE_DAYS).describe('time_decay only; default 7'),
    })
    .optional(),
});
export type TermsInput = z.infer<typeof termsInputSchema>;

/** Terms as stored and hashed: amounts in minor units as integer strings. */
export interface Terms {
  objective: Objective;
  rate_minor: string | null;
  rate_bps: number | null;
  currency: string;
  budget_minor: string;
  destination_url: string;
  starts_at: string;
  ends_at: string;
  kpi_target: number;
  hold_days: number;
  /** Absent in terms written before results could wait for funds: the default, 7. */
  budget_grace_days?: number;
  attribution_window_days: number;
  fee_bps: number;
  guarantee_bps: number;
  promo_max_uses: number | null;
  promo_once_per_customer: boolean;
  validation: ValidationTerms;
  /** In their canonical wire form (presentIncentives), so the hash a creator accepts covers them; absent in terms written before them. */
  incentives?: IncentivesInput | null;
  /** Absent in terms written before multi-touch attribution: last click, as they were paid. */
  attribution?: AttributionTerms | null;
}

export interface AttributionTerms {
  model: ModelName;
  half_life_days: number;
}

export const DEFAULT_ATTRIBUTION: AttributionTerms = { model: 'last_click', half_life_days: DEFAULT_HALF_LIFE_DAYS };

export const DEFAULT_BUDGET_GRACE_DAYS = 7;

/** How long a result the escrow cannot cover waits for funds (the default for terms written before the term). */
export function budgetGraceDaysOf(t: Pick<Terms, 'budget_grace_days'>): number {
  return t.budget_grace_days ?? DEFAULT_BUDGET_GRACE_DAYS;
}

/** The campaign's attribution model (last click when the terms name none). */
export function attributionOf(t: Pick<Terms, 'attribution'>): AttributionTerms {
  return t.attribution ?? DEFAULT_ATTRIBUTION;
}

export function normaliseTerms(input: TermsInput): Terms {
  const currency = input.currency;
  if (input.objective === 'cpa_percent') {
    if (input.rate_bps === undefined) throw invalid('rate_bps', 'cpa_percent campaigns need rate_bps (basis points of the order value)');
    if (input.rate !== undefined) throw invalid('rate', 'cpa_percent campaigns take rate_bps, not rate');
  } else {
    if (input.rate === undefined) throw invalid('rate', `${input.objective} campaigns need a rate`);
    if (input.rate_bps !== undefined) throw invalid('rate_bps', 'only cpa_percent campaigns take rate_bps');
  }
  const rate = input.rate === undefined ? null : parseAmount(input.rate, currency);
  if (rate !== null && rate <= 0n) throw invalid('rate', 'rate must be positive');
  const budget = parseAmount(input.budget, currency);
  if (budget <= 0n) throw invalid('budget', 'budget must be positive');
  const starts = Date.parse(input.starts_at);
  const ends = Date.parse(input.ends_at);
  if (!(ends > starts)) throw invalid('ends_at', 'ends_at must be after starts_at');
  return {
    objective: input.objective,
    rate_minor: rate === null ? null : rate.toString(),
    rate_bps: input.rate_bps ?? null,
    currency,
    budget_minor: budget.toString(),
    destination_url: input.destination_url,
    starts_at: new Date(starts).toISOString(),
    ends_at: new Date(ends).toISOString(),
    kpi_target: input.kpi_target,
    hold_days: input.hold_days,
    budget_grace_days: input.budget_grace_days ?? DEFAULT_BUDGET_GRACE_DAYS,
    attribution_window_days: input.attribution_window_days,
    fee_bps: input.fee_bps,
    guarantee_bps: input.guarantee_bps,
    promo_max_uses: input.promo_max_uses,
    promo_once_per_customer: input.promo_once_per_customer,
    validation: input.validation,
    incentives: input.incentives === undefined ? null : canonicalIncentives(input.incentives, { currency, objective: input.objective }),
    attribution: input.attribution ?? DEFAULT_ATTRIBUTION,
  };
}

/** Validated against the campaign (amounts exact in its currency, rates in its unit), then written back canonically. */
function canonicalIncentives(input: IncentivesInput, campaign: IncentivesContext): IncentivesInput {
  try {
    return presentIncentives(normaliseIncentives(input, campaign), campaign);
  } catch (e) {
    if (e instanceof AppError && typeof e.details?.field === 'string') {
      throw new AppError(e.code, e.message, { details: { ...e.details, field: `incentives.${e.details.field}` }, cause: e });
    }
    throw e;
  }
}

/** The campaign's incentives in minor units, or null when it has none. */
export function incentivesOf(t: Pick<Terms, 'incentives' | 'currency' | 'objective'>): Incentives | null {
  return t.incentives ? normaliseIncentives(t.incentives, { currency: t.currency, objective: t.objective }) : null;
}

function invalid(field: string, message: string): AppError {
  return new AppError('invalid_request', message, { details: { field } });
}

/** Terms shown to people: amounts back to decimal strings. */
export function presentTerms(t: Terms) {
  const { rate_minor, budget_minor, ...rest } = t;
  return {
    ...rest,
    attribution: attributionOf(t),
    budget_grace_days: budgetGraceDaysOf(t),
    rate: rate_minor === null ? null : formatAmount(BigInt(rate_minor), t.currency),
    budget: formatAmount(BigInt(budget_minor), t.currency),
  };
}

/**
 * The exact text a creator's acceptance covers: the stored terms (amounts as integer strings of minor
 * units, times as ISO 8601 UTC with milliseconds, incentives in their canonical wire form) in the JSON
 * Canonicalization Scheme of RFC 8785 — no whitespace; object members sorted by their keys' UTF-16 code
 * units at every level; arrays in order; strings and numbers as ECMAScript's JSON.stringify writes them
 * (numbers in their shortest round-trip form; in strings only `"`, `\` and control characters are
 * escaped: `\"`, `\\`, `\b \f \n \r \t`, others as `\u00xx`, lowercase hex; everything else is written as
 * is); members whose value is undefined left out, as JSON leaves them out. `terms_sha256` is
 * the SHA-256 of its UTF-8 bytes, in lowercase hex. Terms written before a term existed lack its key
 * (its default applies, see presentTerms); their text and hash are as they were accepted.
 */
export function termsCanonical(t: Terms): string {
  return canonicalJson(t);
}

/** SHA-256 of termsCanonical (UTF-8), hex: what a creator accepts. */
export function termsHash(t: Terms): string {
  return createHash('sha256').update(termsCanonical(t), 'utf8').digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  assert(value === null || ['string', 'boolean'].includes(typeof value) || (typeof value === 'number' && Number.isFinite(value)), `terms hold a ${typeof value}, not JSON`);
  return JSON.stringify(value);
}

/**
 * What one result pays, gross (before the platform fee): the rate; bps of the order value for
 * cpa_percent; rate × views / 1,000 for cpm. Rounding: half to even, in `divRound`.
 */
export function grossPayout(t: Terms, p: { orderAmount?: bigint; views?: bigint; country?: string | null; sku?: string | null }): bigint {
  const rate = rateOf(t, p);
  switch (t.objective) {
    case 'cpa_percent':
      return divRound((p.orderAmount ?? 0n) * rate, 10_000n);
    case 'cpm':
      return divRound(rate * (p.views ?? 0n), 1000n);
    default:
      return rate;
  }
}

const parsedIncentives = new WeakMap<Terms, Incentives | null>();

/**
 * The rate one result earns: the campaign's (minor units, or bps of the order value for cpa_percent),
 * or the highest of its incentives' rate overrides that match the customer's country or the product
 * sold (docs/incentives.md).
 */
export function rateOf(t: Terms, p: { country?: string | null; sku?: string | null }): bigint {
  const base = t.objective === 'cpa_percent' ? BigInt(t.rate_bps ?? 0) : BigInt(t.rate_minor ?? '0');
  let incentives = parsedIncentives.get(t);
  if (incentives === undefined) {
    incentives = incentivesOf(t);
    parsedIncentives.set(t, incentives);
  }
  if (!incentives || incentives.rate_overrides.length === 0) return base;
  return rateFor({ country: p.country ?? null, sku: p.sku ?? null }, base, incentives.rate_overrides);
}

/** The least a campaign must hold to pay one result (activation needs at least this in escrow). */
export function onePayout(t: Terms): bigint {
  if (t.objective === 'cpa_percent') return 1n;
  if (t.objective === 'cpm') {
    const perView = divRound(BigInt(t.rate_minor ?? '0'), 1000n);
    return perView > 0n ? perView : 1n;
  }
  return BigInt(t.rate_minor ?? '0');
}

export function exponentOf(t: Terms): number {
  return currencyExponent(t.currency);
}

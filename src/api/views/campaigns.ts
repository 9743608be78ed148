import { z } from 'zod';
import { MODELS } from '../../attribution/index.js';
import { CAMPAIGN_STATUSES } from '../../campaigns/index.js';
import { OBJECTIVES, termsInputSchema } from '../../terms/index.js';
import { BONUS_STATUSES } from '../../bonuses/index.js';
import { incentivesInputSchema } from '../../incentives/index.js';
import { listOf, moneySchema, prefixedId, timestamp } from './common.js';

const T = '2026-12-04T14:25:17.000Z';
const usd = (amount: string) => ({ amount, currency: 'USD' });
const SHA = '9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c0b2d4f6e8a0c2e4f6a8b0d2f4e6a8c0b';

/** The terms as shown (presentTerms): amounts as decimal strings, defaults filled in. */
export const termsSchema = z
  .object({
    objective: z.enum(OBJECTIVES),
    rate: z.string().nullable().describe('Per result (per 1,000 views for cpm); null for cpa_percent'),
    rate_bps: z.number().int().nullable().describe('cpa_percent: basis points of the order value'),
    currency: z.string(),
    budget: z.string(),
    destination_url: z.string(),
    starts_at: timestamp,
    ends_at: timestamp,
    kpi_target: z.number().int(),
    hold_days: z.number().int(),
    budget_grace_days: z.number().int().describe('Days a result the escrow cannot cover waits as awaiting_funds'),
    attribution_window_days: z.number().int(),
    fee_bps: z.number().int(),
    guarantee_bps: z.number().int(),
    promo_max_uses: z.number().int().nullable(),
    promo_once_per_customer: z.boolean(),
    validation: termsInputSchema.shape.validation,
    incentives: incentivesInputSchema.nullable().optional().describe('Tiered bonuses, rate overrides and caps (docs/incentives.md); null: none'),
    attribution: z.object({ model: z.enum(MODELS), half_life_days: z.number() }),
  })
  .meta({ id: 'Terms' });

export const TERMS_EXAMPLE = {
  objective: 'cpl',
  rate: '2.50',
  rate_bps: null,
  currency: 'USD',
  budget: '1000.00',
  destination_url: 'https://acme.example/spring',
  starts_at: '2026-12-01T00:00:00.000Z',
  ends_at: '2027-01-31T00:00:00.000Z',
  kpi_target: 100,
  hold_days: 30,
  budget_grace_days: 7,
  attribution_window_days: 30,
  fee_bps: 2000,
  guarantee_bps: 10000,
  promo_max_uses: null,
  promo_once_per_customer: true,
  validation: { min_ctit_seconds: 10, dedupe_leads: true, self_referral: true },
  incentives: null,
  attribution: { model: 'last_click', half_life_days: 7 },
};

export const awaitingFundsSchema = z
  .object({
    results: z.number().int().describe('Results waiting for the escrow to cover them'),
    amount: moneySchema.describe('What holding them all would reserve'),
    first_expires_at: timestamp.nullable().describe('When the first of them becomes over_budget unless the brand tops up'),
  })
  .meta({ id: 'AwaitingFunds' });

export const bonusExposureSchema = z
  .object({
    amount: moneySchema,
    basis: z.enum(['bps_of_budget', 'fixed_per_creator_period']),
    top_bps: z.number().int().nullable(),
    top_fixed: moneySchema.nullable(),
    creators: z.number().int().nullable(),
    periods: z.number().int().nullable(),
  })
  .meta({ id: 'BonusExposure', description: 'The most tier bonuses can cost the brand on top of base earnings' });

const campaignShape = z
  .object({
    id: prefixedId('cmp'),
    org_id: prefixedId('org'),
    name: z.string(),
    status: z.enum(CAMPAIGN_STATUSES),
    paused_reason: z.string().nullable().describe("over_budget when the escrow ran out; else the brand's reason"),
    currency: z.string(),
    terms_version: z.number().int(),
    terms_sha256: z.string().regex(/^[0-9a-f]{64}$/).describe('What a creator accepts: SHA-256 of terms_canonical'),
    terms_canonical: z.string().describe('The exact text terms_sha256 is the SHA-256 of (UTF-8): RFC 8785 canonical JSON of the stored terms, amounts in minor units (docs/api-conventions.md#terms-and-their-hash)'),
    terms: termsSchema,
    escrow: z.object({
      funded: moneySchema,
      spent: moneySchema,
      held: moneySchema,
      available: moneySchema,
      low: z.boolean().describe("available is at or below the brand's low_threshold"),
      low_threshold: moneySchema.nullable(),
    }),
    awaiting_funds: awaitingFundsSchema,
    bonus_exposure: bonusExposureSchema.nullable(),
    created_at: timestamp,
    ended_at: timestamp.nullable(),
    settled_at: timestamp.nullable(),
  });

const CANONICAL =
  '{"budget_minor":"100000","currency":"USD","destination_url":"https://shop.example/trails","fee_bps":2000,"hold_days":14,"objective":"cpl","rate_minor":"250"}';

export const CAMPAIGN_EXAMPLE = {
  id: 'cmp_01jdx4a1b2c3d4e5f6g7h8j9k0',
  org_id: 'org_01jdx3k2v8m4q6r7s9t0w1y2z3',
  name: 'Spring trails',
  status: 'active',
  paused_reason: null,
  currency: 'USD',
  terms_version: 1,
  terms_sha256: SHA,
  terms_canonical: CANONICAL,
  terms: TERMS_EXAMPLE,
  escrow: { funded: usd('1000.00'), spent: usd('25.00'), held: usd('7.50'), available: usd('967.50'), low: false, low_threshold: usd('100.00') },
  awaiting_funds: { results: 0, amount: usd('0.00'), first_expires_at: null },
  bonus_exposure: null,
  created_at: T,
  ended_at: null,
  settled_at: null,
};
export const campaignSchema = campaignShape.meta({ id: 'Campaign', examples: [CAMPAIGN_EXAMPLE] });

export const campaignListSchema = listOf(campaignSchema, CAMPAIGN_EXAMPLE);

const enrolmentShape = z
  .object({
    id: prefixedId('enr'),
    campaign_id: prefixedId('cmp'),
    creator_id: prefixedId('cr'),
    terms_version: z.number().int(),
    terms_sha256: z.string().regex(/^[0-9a-f]{64}$/),
    terms_canonical: z.string().describe('The canonical text of the accepted terms version; its SHA-256 is terms_sha256'),
    accepted_at: timestamp.describe('When the terms version it is bound to was accepted'),
    link_code: z.string(),
    tracking_path: z.string().describe('The tracking link on this server: /c/{link_code}'),
    tracking_url: z.url().describe("The full tracking link, on the server's PUBLIC_URL"),
    promo_code: z.string(),
    promo_max_uses: z.number().int().nullable(),
    promo_once_per_customer: z.boolean(),
    target: z.number().int().nullable().describe("The creator's own incentive target; null: the campaign's"),
    created_at: timestamp.describe('When the creator joined'),
  });

export const ENROLMENT_EXAMPLE = {
  id: 'enr_01jdx4c3d4e5f6g7h8j9k0m1n2',
  campaign_id: CAMPAIGN_EXAMPLE.id,
  creator_id: 'cr_01jdx3m5a7b9c1d3e5f7g9h1j3',
  terms_version: 1,
  terms_sha256: SHA,
  terms_canonical: CANONICAL,
  accepted_at: T,
  link_code: 'k7Qm2xPa',
  tracking_path: '/c/k7Qm2xPa',
  tracking_url: 'https://track.example.com/c/k7Qm2xPa',
  promo_code: 'ADA-7QM2',
  promo_max_uses: null,
  promo_once_per_customer: true,
  target: null,
  created_at: T,
};
export const enrolmentSchema = enrolmentShape.meta({ id: 'Enrolment', examples: [ENROLMENT_EXAMPLE] });

export const enrolmentListSchema = listOf(enrolmentSchema, ENROLMENT_EXAMPLE);

const periodSchema = z.object({ key: z.string(), start: timestamp, end: timestamp });

export const bonusSchema = z
  .object({
    enrolment_id: prefixedId('enr'),
    creator_id: prefixedId('cr'),
    period: periodSchema,
    status: z.enum(BONUS_STATUSES),
    target: z.number().int().nullable(),
    tier: z.number().int().nullable(),
    counted_results: z.number().int(),
    base_earnings: moneySchema,
    bonus_due: moneySchema,
    held: moneySchema,
    paid_net: moneySchema,
    fees: moneySchema,
    clawed_back: moneySchema,
    kept_net: moneySchema,
    shortfall: moneySchema.describe('What the escrow could not cover'),
    closed_at: timestamp.nullable(),
    released_at: timestamp.nullable(),
  })
  .meta({ id: 'TierBonus' });

const BONUS_EXAMPLE = {
  enrolment_id: ENROLMENT_EXAMPLE.id,
  creator_id: ENROLMENT_EXAMPLE.creator_id,
  period: { key: '2026-12', start: '2026-12-01T00:00:00.000Z', end: '2027-01-01T00:00:00.000Z' },
  status: 'held',
  target: 20,
  tier: 0,
  counted_results: 24,
  base_earnings: usd('60.00'),
  bonus_due: usd('6.00'),
  held: usd('6.00'),
  paid_net: usd('0.00'),
  fees: usd('0.00'),
  clawed_back: usd('0.00'),
  kept_net: usd('0.00'),
  shortfall: usd('0.00'),
  closed_at: '2027-01-01T00:00:05.000Z',
  released_at: null,
};
export const bonusListSchema = listOf(bonusSchema, BONUS_EXAMPLE);

export const standingSchema = z
  .object({
    campaign_id: prefixedId('cmp'),
    period: periodSchema.nullable(),
    target: z.number().int().nullable(),
    validated_results: z.number().int(),
    held_results: z.number().int(),
    base_earnings: moneySchema,
    tier: z.number().int().nullable(),
    next_tier: z.object({ index: z.number().int(), threshold: z.number().int(), remaining: z.number().int() }).nullable(),
    percent_of_target: z.number().int().nullable(),
    percent_to_next_tier: z.number().int().nullable(),
    bonus_if_closed_now: moneySchema.nullable(),
  })
  .meta({
    id: 'IncentiveProgress',
    examples: [
      {
        campaign_id: CAMPAIGN_EXAMPLE.id,
        period: BONUS_EXAMPLE.period,
        target: 20,
        validated_results: 12,
        held_results: 3,
        base_earnings: usd('30.00'),
        tier: null,
        next_tier: { index: 0, threshold: 20, remaining: 8 },
        percent_of_target: 60,
        percent_to_next_tier: 60,
        bonus_if_closed_now: usd('0.00'),
      },
    ],
  });

import { z } from 'zod';
import { CAMPAIGN_STATUSES } from '../../campaigns/index.js';
import { awaitingFundsSchema, CAMPAIGN_EXAMPLE } from './campaigns.js';
import { moneySchema, prefixedId, timestamp } from './common.js';

const usd = (amount: string) => ({ amount, currency: 'USD' });
const failure = z.object({ code: z.string(), message: z.string() });

export const settlementReportSchema = z
  .object({
    approved: z.number().int(),
    reviewed: z.number().int().describe('Due results the release re-check sent to review instead'),
    batches: z.number().int(),
    campaigns_ended: z.array(z.string()),
    awaiting_funds: z.object({ held: z.number().int(), expired: z.number().int() }).describe('Results awaiting funds held this run, and made over_budget'),
    bonuses: z.object({
      held: z.number().int(),
      released: z.number().int(),
      paid: z.number().int(),
      clawed_back: z.number().int(),
      failures: z.array(failure.extend({ enrolment_id: z.string(), period_key: z.string() })),
    }),
    campaigns_settled: z.array(
      z.object({
        campaign_id: prefixedId('cmp'),
        unspent_refunded: moneySchema,
        fees_refunded: moneySchema,
        validated: z.number().int(),
        kpi_target: z.number().int(),
      }),
    ),
    failures: z.array(failure.extend({ campaign_id: z.string() })),
  })
  .meta({
    id: 'SettlementReport',
    examples: [
      {
        approved: 12,
        reviewed: 1,
        batches: 1,
        campaigns_ended: [],
        awaiting_funds: { held: 0, expired: 0 },
        bonuses: { held: 0, released: 0, paid: 0, clawed_back: 0, failures: [] },
        campaigns_settled: [],
        failures: [],
      },
    ],
  });

export const statementSchema = z
  .object({
    campaign: z.object({
      id: prefixedId('cmp'),
      org_id: prefixedId('org'),
      name: z.string(),
      status: z.enum(CAMPAIGN_STATUSES),
      paused_reason: z.string().nullable(),
      currency: z.string(),
      ended_at: timestamp.nullable(),
      settled_at: timestamp.nullable(),
    }),
    funded: moneySchema,
    paid_to_creators: moneySchema,
    clawed_back: moneySchema,
    platform_fees_gross: moneySchema,
    fees_returned: moneySchema.describe('Fees of reversed results and lowered bonuses returned to the brand: into the escrow while open, the wallet after'),
    fees_refunded: moneySchema.describe('Refunded under the money-back guarantee, with its adjustments after reversals past settlement'),
    platform_fees_kept: moneySchema.describe('platform_fees_gross − fees_returned − fees_refunded'),
    unspent_refunded: moneySchema,
    clawbacks_refunded: moneySchema,
    fees_returned_to_brand: moneySchema.describe("The part of fees_returned credited to the brand's wallet after the escrow closed (part of unspent_refunded)"),
    escrow_balance: moneySchema,
    escrow: z.object({ held: moneySchema, available: moneySchema, closed: z.boolean(), low: z.boolean(), low_threshold: moneySchema.nullable() }),
    creator_id: prefixedId('cr').nullable().describe("A creator's own statement: their id (creators, results and awaiting_funds are theirs only); null for the brand and operators"),
    awaiting_funds: awaitingFundsSchema,
    bonuses: z.object({
      held: moneySchema,
      paid: moneySchema,
      fees: moneySchema,
      clawed_back: moneySchema,
      shortfall: moneySchema,
      periods: z.number().int(),
      periods_held: z.number().int(),
    }),
    results: z
      .record(z.string(), z.object({ count: z.number().int(), reasons: z.record(z.string(), z.number().int()) }))
      .describe('By result status: how many, and how often each reason code was given'),
    creators: z.array(
      z.object({
        creator_id: prefixedId('cr'),
        results: z.number().int(),
        shared_results: z.number().int(),
        credited_conversions: z.number(),
        earned: moneySchema,
        held: moneySchema,
        awaiting_funds: moneySchema,
      }),
    ),
    kpi: z.object({ target: z.number().int(), validated: z.number().int(), met: z.boolean() }),
    guarantee: z.object({
      guarantee_bps: z.number().int(),
      decided: z.boolean(),
      applied: z.boolean(),
      fees_standing: moneySchema.describe('Fees on what stands: platform_fees_gross less the fees of reversed results and lowered bonuses'),
      refund_due: moneySchema.describe('The guarantee on the standing results, once the escrow is closed (0 before)'),
      formula: z.string(),
    }),
    identity: z.string(),
    reconciles: z.boolean().describe('The figures add up exactly (identity)'),
  })
  .meta({
    id: 'CampaignStatement',
    examples: [
      {
        campaign: {
          id: CAMPAIGN_EXAMPLE.id,
          org_id: CAMPAIGN_EXAMPLE.org_id,
          name: CAMPAIGN_EXAMPLE.name,
          status: 'active',
          paused_reason: null,
          currency: 'USD',
          ended_at: null,
          settled_at: null,
        },
        funded: usd('1000.00'),
        paid_to_creators: usd('20.00'),
        clawed_back: usd('0.00'),
        platform_fees_gross: usd('5.00'),
        fees_returned: usd('0.00'),
        fees_refunded: usd('0.00'),
        platform_fees_kept: usd('5.00'),
        unspent_refunded: usd('0.00'),
        clawbacks_refunded: usd('0.00'),
        fees_returned_to_brand: usd('0.00'),
        escrow_balance: usd('975.00'),
        escrow: { held: usd('7.50'), available: usd('967.50'), closed: false, low: false, low_threshold: usd('100.00') },
        creator_id: null,
        awaiting_funds: { results: 0, amount: usd('0.00'), first_expires_at: null },
        bonuses: { held: usd('0.00'), paid: usd('0.00'), fees: usd('0.00'), clawed_back: usd('0.00'), shortfall: usd('0.00'), periods: 0, periods_held: 0 },
        results: { approved: { count: 10, reasons: {} }, pending: { count: 3, reasons: {} }, rejected: { count: 2, reasons: { ctit_too_short: 2 } } },
        creators: [
          { creator_id: 'cr_01jdx3m5a7b9c1d3e5f7g9h1j3', results: 13, shared_results: 0, credited_conversions: 13, earned: usd('20.00'), held: usd('6.00'), awaiting_funds: usd('0.00') },
        ],
        kpi: { target: 100, validated: 10, met: false },
        guarantee: {
          guarantee_bps: 10000,
          decided: false,
          applied: false,
          fees_standing: usd('5.00'),
          refund_due: usd('0.00'),
          formula:
            'if validated < kpi_target: refund = round_half_even(fees_standing × guarantee_bps / 10000), else 0; fees_standing = platform_fees_gross − fees of reversed results and lowered bonuses',
        },
        identity:
          'funded = paid_to_creators + bonuses.paid + (platform_fees_gross − fees_returned) + unspent_refunded + escrow_balance, where escrow_balance = escrow.held + escrow.available',
        reconciles: true,
      },
    ],
  });

import { z } from 'zod';
import { MODELS } from '../../attribution/index.js';
import { RESULT_KINDS, RESULT_STATUSES } from '../../results/index.js';
import { customerSchema, listOf, moneySchema, prefixedId, reasonCodes, timestamp } from './common.js';

const usd = (amount: string) => ({ amount, currency: 'USD' });

const resultShape = z
  .object({
    id: prefixedId('res'),
    campaign_id: prefixedId('cmp'),
    creator_id: prefixedId('cr'),
    enrolment_id: prefixedId('enr'),
    kind: z.enum(RESULT_KINDS),
    source_id: z.string().describe('The click, conversion or view report it comes from'),
    status: z.enum(RESULT_STATUSES),
    reasons: reasonCodes,
    reviewed: z.boolean().describe('An operator approved it after a review'),
    payout: moneySchema.describe('Gross, platform fee included'),
    platform_fee: moneySchema,
    creator_net: moneySchema,
    paid: moneySchema.nullable().describe("Set when the incentives' caps per period cut what it earned at payment"),
    attribution: z
      .object({ model: z.enum(MODELS).nullable(), share: z.number(), source_payout: moneySchema.nullable() })
      .nullable()
      .describe("This creator's part of a source credited to several creators; null: the whole of it"),
    occurred_at: timestamp,
    recorded_at: timestamp,
    hold_until: timestamp.nullable().describe('Null while awaiting funds: the hold period starts when its hold is placed'),
    awaiting_funds_until: timestamp
      .nullable()
      .describe('When a result awaiting funds becomes over_budget unless the brand tops up; null if it never waited'),
    decided_at: timestamp.nullable(),
    decided_by: z.string().nullable(),
    decision_note: z.string().nullable(),
  });

export const RESULT_EXAMPLE = {
  id: 'res_01jdx5e5f6g7h8j9k0m1n2p3q4',
  campaign_id: 'cmp_01jdx4a1b2c3d4e5f6g7h8j9k0',
  creator_id: 'cr_01jdx3m5a7b9c1d3e5f7g9h1j3',
  enrolment_id: 'enr_01jdx4c3d4e5f6g7h8j9k0m1n2',
  kind: 'lead',
  source_id: 'cnv_01jdx5d4e5f6g7h8j9k0m1n2p3',
  status: 'awaiting_funds',
  reasons: [],
  reviewed: false,
  payout: usd('2.50'),
  platform_fee: usd('0.50'),
  creator_net: usd('2.00'),
  paid: null,
  attribution: null,
  occurred_at: '2026-12-04T14:25:17.000Z',
  recorded_at: '2026-12-04T14:25:18.000Z',
  hold_until: null,
  awaiting_funds_until: '2026-12-11T14:25:18.000Z',
  decided_at: null,
  decided_by: null,
  decision_note: null,
};
export const resultSchema = resultShape.meta({ id: 'Result', examples: [RESULT_EXAMPLE] });

export const resultListSchema = listOf(resultSchema, RESULT_EXAMPLE);

const decisionSchema = z.object({
  from_status: z.string(),
  to_status: z.string(),
  reasons: reasonCodes,
  note: z.string().nullable(),
  by: z.object({ kind: z.string(), id: z.string() }),
  decided_at: timestamp,
});

const evidenceSchema = z.object({
  conversion: z
    .object({
      id: prefixedId('cnv'),
      external_id: z.string(),
      type: z.enum(['lead', 'sale']),
      attributed_by: z.enum(['click', 'promo']).nullable(),
      promo_code: z.string().nullable(),
      occurred_at: timestamp,
      recorded_at: timestamp,
      customer: customerSchema,
      user_agent: z.string().nullable(),
      ip_recorded: z.boolean(),
    })
    .nullable(),
  click: z
    .object({
      id: prefixedId('clk'),
      occurred_at: timestamp,
      status: z.string(),
      user_agent: z.string().nullable(),
      referrer: z.string().nullable(),
      country: z.string().nullable(),
    })
    .nullable(),
  ctit_seconds: z.number().nullable().describe('Seconds from the click to the conversion'),
});

export const reviewItemSchema = resultSchema
  .extend({ evidence: evidenceSchema, decisions: z.array(decisionSchema) })
  .meta({ id: 'ReviewItem' });

export const reviewListSchema = listOf(reviewItemSchema, {
  ...RESULT_EXAMPLE,
  status: 'review',
  reasons: ['lead_score_low'],
  hold_until: '2027-01-03T14:25:18.000Z',
  awaiting_funds_until: null,
  evidence: { conversion: null, click: null, ctit_seconds: null },
  decisions: [],
});

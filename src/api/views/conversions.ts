import { z } from 'zod';
import { CONVERSION_TYPES, VIEW_REPORT_STATUSES } from '../../conversions/index.js';
import { customerSchema, listOf, prefixedId, reasonCodes, timestamp } from './common.js';
import { RESULT_EXAMPLE, resultSchema } from './results.js';

const CONVERSION_STATUSES = ['recording', 'attributed', 'unattributed', 'rejected', 'over_budget'] as const;

/** The answer to POST /v1/conversions, stored with the conversion so a replay answers the same. */
export const conversionAnswerSchema = z
  .object({
    id: prefixedId('cnv'),
    external_id: z.string(),
    status: z.enum(CONVERSION_STATUSES),
    campaign_id: prefixedId('cmp').nullable(),
    result: resultSchema.nullable().describe("The last-click creator's part (the whole result when one creator is credited)"),
    results: z.array(resultSchema).describe("Every credited creator's part (docs/attribution.md)"),
    attribution: z.object({ model: z.string(), fallback: z.string().nullable() }).nullable(),
  })
  .meta({
    id: 'ConversionRecorded',
    examples: [
      {
        id: 'cnv_01jdx5d4e5f6g7h8j9k0m1n2p3',
        external_id: 'order-10442',
        status: 'attributed',
        campaign_id: RESULT_EXAMPLE.campaign_id,
        result: { ...RESULT_EXAMPLE, status: 'pending', hold_until: '2027-01-03T14:25:18.000Z', awaiting_funds_until: null },
        results: [{ ...RESULT_EXAMPLE, status: 'pending', hold_until: '2027-01-03T14:25:18.000Z', awaiting_funds_until: null }],
        attribution: { model: 'last_click', fallback: null },
      },
    ],
  });

const CONVERSION_EXAMPLE = {
  id: 'cnv_01jdx5d4e5f6g7h8j9k0m1n2p3',
  external_id: 'order-10442',
  type: 'sale',
  status: 'attributed',
  campaign_id: RESULT_EXAMPLE.campaign_id,
  result_id: RESULT_EXAMPLE.id,
  attributed_by: 'click',
  click_id: 'clk_01jdx5a1b2c3d4e5f6g7h8j9k0',
  sku: null,
  split: null,
  reasons: [],
  occurred_at: '2026-12-04T14:25:17.000Z',
  created_at: '2026-12-04T14:25:18.000Z',
  request: {
    external_id: 'order-10442',
    type: 'sale',
    click_id: 'clk_01jdx5a1b2c3d4e5f6g7h8j9k0',
    click_ids: null,
    promo_code: null,
    sku: null,
    customer: { id: 'user-311', email: null, phone: null, country: null, age: null },
    amount: '129.90',
    currency: 'USD',
    occurred_at: '2026-12-04T14:25:17Z',
  },
};

export const conversionSchema = z
  .object({
    id: prefixedId('cnv'),
    external_id: z.string(),
    type: z.enum(CONVERSION_TYPES),
    status: z.enum(CONVERSION_STATUSES),
    campaign_id: prefixedId('cmp').nullable(),
    result_id: prefixedId('res').nullable(),
    attributed_by: z.enum(['click', 'promo']).nullable(),
    click_id: z.string().nullable(),
    sku: z.string().nullable(),
    split: z
      .object({
        model: z.string(),
        fallback: z.string().nullable(),
        credits: z.array(
          z.object({ enrolment_id: z.string(), creator_id: z.string(), share: z.number(), weight: z.number(), reasons: reasonCodes.optional() }),
        ),
      })
      .nullable()
      .describe("How the campaign's model split it among creators; null: one creator, or unattributed"),
    reasons: reasonCodes,
    occurred_at: timestamp,
    created_at: timestamp.describe('When Earnest received it'),
    request: z
      .object({
        external_id: z.string(),
        type: z.enum(CONVERSION_TYPES),
        click_id: z.string().nullable(),
        click_ids: z.array(z.string()).nullable(),
        promo_code: z.string().nullable(),
        sku: z.string().nullable(),
        customer: customerSchema,
        amount: z.string().nullable(),
        currency: z.string().nullable(),
        occurred_at: z.string().nullable(),
      })
      .describe('The conversion as the brand reported it (normalised)'),
  })
  .meta({ id: 'Conversion', examples: [CONVERSION_EXAMPLE] });

export const conversionListSchema = listOf(conversionSchema, CONVERSION_EXAMPLE);

const VIEW_REPORT_EXAMPLE = {
  id: 'vr_01jdx6a1b2c3d4e5f6g7h8j9k0',
  external_id: 'post-2026-12-04',
  campaign_id: RESULT_EXAMPLE.campaign_id,
  enrolment_id: RESULT_EXAMPLE.enrolment_id,
  creator_id: RESULT_EXAMPLE.creator_id,
  views: 12000,
  evidence_url: 'https://social.example/@ada/posts/991',
  status: 'submitted',
  decision_reason: null,
  decision_note: null,
  result_id: null,
  created_at: '2026-12-04T14:25:17.000Z',
  decided_at: null,
  platform: 'instagram',
  post_id: '991',
  posted_at: '2026-12-01T18:00:00.000Z',
  likes: 840,
  comments: 52,
  reasons: [],
  findings: [],
  verified_at: null,
  insights_views: null,
  cleared_at: null,
  cleared_by: null,
  clear_note: null,
};

const count = z.number().int().min(0);
const findingSchema = z
  .object({
    code: z.string().describe('A reason code (docs/validation.md, "View reports")'),
    detail: z.string().describe('What was measured against what'),
  })
  .meta({ id: 'ViewFinding' });

const viewReportShape = z.object({
  id: prefixedId('vr'),
  external_id: z.string().nullable().describe("The creator's own id for the report (its business key), when given"),
  campaign_id: prefixedId('cmp'),
  enrolment_id: prefixedId('enr'),
  creator_id: prefixedId('cr'),
  views: z.number().int(),
  evidence_url: z.string(),
  status: z.enum(VIEW_REPORT_STATUSES),
  decision_reason: z.string().nullable(),
  decision_note: z.string().nullable(),
  result_id: prefixedId('res').nullable(),
  created_at: timestamp,
  decided_at: timestamp.nullable(),
  platform: z.string().nullable(),
  post_id: z.string().nullable(),
  posted_at: timestamp.nullable(),
  likes: count.nullable(),
  comments: count.nullable(),
  reasons: z.array(z.string()).describe("The findings' reason codes: why the report is (or was) in review; kept once cleared"),
  findings: z.array(findingSchema),
  verified_at: timestamp.nullable().describe('When official insights of the post matched the report (within the tolerance)'),
  insights_views: count.nullable().describe("The official insights' views of the post the report was last checked against"),
  cleared_at: timestamp.nullable(),
  cleared_by: z.enum(['operator', 'insights']).nullable().describe('Who took the report out of review: an operator, or official insights that matched it'),
  clear_note: z.string().nullable().describe("The operator's note when clearing"),
});

export const viewReportSchema = viewReportShape.meta({ id: 'ViewReport', examples: [VIEW_REPORT_EXAMPLE] });
export const viewReportListSchema = listOf(viewReportSchema, VIEW_REPORT_EXAMPLE);

export const viewConfirmedSchema = viewReportShape.extend({ result: resultSchema }).meta({
  id: 'ViewReportConfirmed',
  examples: [
    {
      ...VIEW_REPORT_EXAMPLE,
      status: 'confirmed',
      result_id: RESULT_EXAMPLE.id,
      decided_at: '2026-12-05T09:00:00.000Z',
      result: { ...RESULT_EXAMPLE, kind: 'views', source_id: VIEW_REPORT_EXAMPLE.id, status: 'pending', hold_until: '2027-01-04T09:00:00.000Z', awaiting_funds_until: null },
    },
  ],
});

const IMPORT_EXAMPLE = {
  id: 'ins_01jdx7a1b2c3d4e5f6g7h8j9k0',
  enrolment_id: RESULT_EXAMPLE.enrolment_id,
  source: 'csv',
  trust: 'official',
  uploaded_by: 'organization',
  row_count: 14,
  content_sha256: 'a3f1c2d4e5b6a7980a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071',
  created_at: '2026-12-05T09:00:00.000Z',
};

export const insightsImportedSchema = z
  .object({
    import: z.object({
      id: prefixedId('ins'),
      enrolment_id: prefixedId('enr'),
      source: z.string().describe('csv, or the API adapter that fetched the rows'),
      trust: z.enum(['official', 'creator']).describe("official: a brand's or operator's upload (or a platform API); creator: the creator's own file, evidence for the reviewer only"),
      uploaded_by: z.enum(['organization', 'creator', 'operator']),
      row_count: z.number().int().min(1),
      content_sha256: z.string().describe('SHA-256 of the rows as imported'),
      created_at: timestamp,
    }),
    reports: z.array(viewReportSchema).describe('The open reports of the enrolment this import re-checked, as they stand after it'),
  })
  .meta({ id: 'InsightsImported', examples: [{ import: IMPORT_EXAMPLE, reports: [{ ...VIEW_REPORT_EXAMPLE, verified_at: '2026-12-05T09:00:00.000Z', insights_views: 12040 }] }] });


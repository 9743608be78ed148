import { z } from 'zod';
import {
  type ConversionOutcome,
  type ConversionRow,
  confirmViewReport,
  conversionInputSchema,
  getConversion,
  getViewReport,
  listConversions,
  listViewReports,
  recordConversionGrouped,
  rejectViewReport,
  submitViewReport,
  VIEW_REPORT_STATUSES,
  type ViewReport,
} from '../../conversions/index.js';
import { AppError } from '../../errors/index.js';
import type { Principal } from '../auth.js';
import { type Endpoint, endpoint, respond } from '../endpoint.js';
import { replayHeaders } from '../idempotency.js';
import { idParams, page, pageQuery, pageRequest } from '../schemas.js';
import { resultView } from './results.js';
import { conversionAnswerSchema, conversionListSchema, conversionSchema, viewConfirmedSchema, viewReportListSchema, viewReportSchema } from '../views/conversions.js';

/** The answer to POST /v1/conversions, stored with the conversion so a replay answers the same. */
export function conversionAnswer({ conversion, result, results, attribution }: ConversionOutcome) {
  return {
    id: conversion.id,
    external_id: conversion.external_id,
    status: conversion.status,
    campaign_id: conversion.campaign_id,
    /** The last-click creator's part (the whole result when one creator is credited). */
    result: result ? resultView(result) : null,
    /** Every credited creator's part: share and amount each (docs/attribution.md). */
    results: results.map(resultView),
    attribution,
  };
}

export function conversionView(c: ConversionRow) {
  return {
    id: c.id,
    external_id: c.external_id,
    type: c.type,
    status: c.status,
    campaign_id: c.campaign_id,
    result_id: c.result_id,
    attributed_by: c.attributed_by,
    click_id: c.click_id,
    sku: c.sku,
    split: c.split,
    reasons: c.reasons,
    occurred_at: c.occurred_at,
    created_at: c.created_at,
    request: c.request,
  };
}

export function viewReportView(v: ViewReport) {
  return {
    id: v.id,
    external_id: v.external_id,
    campaign_id: v.campaign_id,
    enrolment_id: v.enrolment_id,
    creator_id: v.creator_id,
    views: Number(v.views),
    evidence_url: v.evidence_url,
    status: v.status,
    decision_reason: v.decision_reason,
    decision_note: v.decision_note,
    result_id: v.result_id,
    created_at: v.created_at,
    decided_at: v.decided_at,
  };
}

function orgOf(principal: Principal): string {
  if (principal.kind !== 'organization') throw new AppError('forbidden', 'only a brand key may do this');
  return principal.id;
}

function viewScope(principal: Principal): { orgId?: string; creatorId?: string } {
  if (principal.kind === 'organization') return { orgId: principal.id };
  if (principal.kind === 'creator') return { creatorId: principal.id };
  return {};
}

const conversionsQuery = pageQuery.extend({
  campaign_id: z.string().max(100).optional(),
  status: z.enum(['recording', 'attributed', 'unattributed', 'rejected', 'over_budget']).optional(),
});
const viewBody = z.strictObject({
  external_id: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe("The creator's own id for this report, unique per creator: the idempotency key (the same report again answers the original)"),
  campaign_id: z.string().min(1).max(100),
  views: z.number().int().min(1).max(1_000_000_000_000),
  evidence_url: z.url({ protocol: /^https$/ }).max(2000).describe('An https link to the post or analytics screenshot showing the views'),
});
const viewsQuery = pageQuery.extend({
  campaign_id: z.string().max(100).optional(),
  status: z.enum(VIEW_REPORT_STATUSES).optional(),
});
const rejectBody = z.strictObject({
  reason: z.string().max(64).regex(/^[a-z][a-z0-9_]{1,63}$/, 'a reason code such as evidence_unclear'),
  note: z.string().max(1000).optional(),
});

export const conversionsEndpoints: Endpoint<any, any, any>[] = [
  endpoint({
    method: 'POST',
    path: '/v1/conversions',
    summary: 'Report a lead or sale: attributed, validated and held (idempotent on external_id: a replay answers the original 201 with Idempotent-Replayed: true)',
    tag: 'conversions',
    response: conversionAnswerSchema,
    access: ['organization'],
    limit: 'conversions',
    body: conversionInputSchema,
    status: 201,
    handle: async ({ body, principal, services }) => {
      const r = await recordConversionGrouped(services.db, { orgId: orgOf(principal), input: body, present: conversionAnswer });
      return respond(201, r.answer, replayHeaders(!r.created));
    },
  }),
  endpoint({
    method: 'GET',
    path: '/v1/conversions',
    summary: "The brand's conversions with their attribution and reason codes; newest first (created_at: when Earnest received them)",
    tag: 'conversions',
    response: conversionListSchema,
    access: ['organization'],
    query: conversionsQuery,
    handle: async ({ query, principal, services }) => {
      const filter = {
        orgId: orgOf(principal),
        ...(query.campaign_id ? { campaignId: query.campaign_id } : {}),
        ...(query.status ? { status: query.status } : {}),
      };
      return page(await listConversions(services.db, filter, pageRequest(query)), conversionView);
    },
  }),
  endpoint({
    method: 'GET',
    path: '/v1/conversions/{id}',
    summary: 'One conversion',
    tag: 'conversions',
    response: conversionSchema,
    access: ['organization'],
    params: idParams,
    handle: async ({ params, principal, services }) => conversionView(await getConversion(services.db, orgOf(principal), params.id)),
  }),
  endpoint({
    method: 'POST',
    path: '/v1/views',
    summary: 'Report views on a CPM campaign with evidence, for the brand to confirm (idempotent on external_id, when given)',
    tag: 'views',
    response: viewReportSchema,
    access: ['creator'],
    body: viewBody,
    status: 201,
    handle: async ({ body, principal, services }) => {
      if (principal.kind !== 'creator') throw new AppError('forbidden', 'only creators report views');
      const r = await submitViewReport(services.db, {
        creatorId: principal.id,
        campaignId: body.campaign_id,
        views: BigInt(body.views),
        evidenceUrl: body.evidence_url,
        externalId: body.external_id ?? null,
      });
      return respond(201, viewReportView(r.report), replayHeaders(r.replayed));
    },
  }),
  endpoint({
    method: 'GET',
    path: '/v1/views',
    summary: "View reports: a creator's own, a brand's campaigns', or all (operators); newest first (created_at)",
    tag: 'views',
    response: viewReportListSchema,
    access: ['organization', 'creator', 'operator'],
    query: viewsQuery,
    handle: async ({ query, principal, services }) => {
      const filter = { ...(query.campaign_id ? { campaignId: query.campaign_id } : {}), ...(query.status ? { status: query.status } : {}) };
      return page(await listViewReports(services.db, viewScope(principal), filter, pageRequest(query)), viewReportView);
    },
  }),
  endpoint({
    method: 'GET',
    path: '/v1/views/{id}',
    summary: 'One view report',
    tag: 'views',
    response: viewReportSchema,
    access: ['organization', 'creator', 'operator'],
    params: idParams,
    handle: async ({ params, principal, services }) => viewReportView(await getViewReport(services.db, params.id, viewScope(principal))),
  }),
  endpoint({
    method: 'POST',
    path: '/v1/views/{id}/confirm',
    summary: 'Confirm a view report: its result (rate × views / 1,000) is held on the escrow; confirming again answers the same',
    tag: 'views',
    response: viewConfirmedSchema,
    access: ['organization'],
    params: idParams,
    handle: async ({ params, principal, services }) => {
      const orgId = orgOf(principal);
      const { report, result } = await confirmViewReport(services.db, { orgId, id: params.id });
      return { ...viewReportView(report), result: resultView(result) };
    },
  }),
  endpoint({
    method: 'POST',
    path: '/v1/views/{id}/reject',
    summary: 'Reject a submitted view report with a reason code; nothing is held',
    tag: 'views',
    response: viewReportSchema,
    access: ['organization'],
    params: idParams,
    body: rejectBody,
    handle: async ({ params, body, principal, services }) =>
      viewReportView(await rejectViewReport(services.db, { orgId: orgOf(principal), id: params.id, reason: body.reason, note: body.note ?? null })),
  }),
];

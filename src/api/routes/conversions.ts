import { z } from 'zod';
import { enrolmentById } from '../../campaigns/index.js';
import { clearViewReport, conversionInputSchema, type ConversionRow, getConversion, getViewReport, importViewInsights, listConversions, listViewReports, rejectViewReport, submitViewReport, VIEW_REPORT_STATUSES, type ViewReport } from '../../conversions/index.js';
import { confirmViewReport, type ConversionOutcome, recordConversionGrouped } from '../../flows/index.js';
import { databaseNow } from '../../db/index.js';
import { AppError } from '../../errors/index.js';
import { csvInsightsFile, PLATFORM_PATTERN } from '../../insights/index.js';
import { timestamp as wireTimestamp } from '../../wire/index.js';
import type { Principal } from '../../tenants/index.js';
import { endpoint, type Endpoint, respond } from '../endpoint.js';
import { replayHeaders } from '../idempotency.js';
import { idParams, page, pageQuery, pageRequest } from '../schemas.js';
import { resultView } from './results.js';
import { conversionAnswerSchema, conversionListSchema, conversionSchema, insightsImportedSchema, viewConfirmedSchema, viewReportListSchema, viewReportSchema } from '../views/conversions.js';

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
    platform: v.platform,
    post_id: v.post_id,
    posted_at: v.posted_at,
    likes: v.likes === null ? null : Number(v.likes),
    comments: v.comments === null ? null : Number(v.comments),
    reasons: v.findings.map((f) => f.code),
    findings: v.findings,
    verified_at: v.verified_at,
    insights_views: v.insights_views === null ? null : Number(v.insights_views),
    cleared_at: v.cleared_at,
    cleared_by: v.cleared_by,
    clear_note: v.clear_note,
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
const platformName = z.string().max(32).regex(PLATFORM_PATTERN, 'a platform name in lower case, such as instagram');
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
  platform: platformName.optional().describe('Where the post is (instagram, tiktok, youtube…): the followers the creator declared there are compared'),
  post_id: z.string().min(1).max(200).optional().describe("The platform's id of the post: matches it with imported insights (else evidence_url is matched with their post_url)"),
  posted_at: wireTimestamp().optional().describe('When the post went up: views a day since then are compared with the creator’s earlier reports'),
  likes: z.number().int().min(0).max(1_000_000_000_000).optional().describe('Likes on the post, when known: the engagement checks'),
  comments: z.number().int().min(0).max(1_000_000_000_000).optional().describe('Comments on the post, when known: the engagement checks'),
});
const viewsQuery = pageQuery.extend({
  campaign_id: z.string().max(100).optional(),
  status: z.enum(VIEW_REPORT_STATUSES).optional(),
});
const clearBody = z.strictObject({ note: z.string().min(1).max(1000).describe('Why the doubt is lifted: brand and creator see it') });
const enrolmentParams = z.strictObject({ id: z.string().min(1).max(100), enrolment_id: z.string().min(1).max(100) });
/** A CSV in a JSON string: the body limit (64 KiB) bounds it; larger exports go in several uploads or through the CLI. */
const insightsBody = z.strictObject({
  csv: z.string().min(1).max(60_000).describe('The insights file: a header row, then one row per post per day (docs/conversions.md, "Platform insights")'),
  platform: platformName.optional().describe('The platform of every row, for files without a platform column'),
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
        post: {
          platform: body.platform ?? null,
          postId: body.post_id ?? null,
          postedAt: body.posted_at ? new Date(body.posted_at) : null,
          likes: body.likes === undefined ? null : BigInt(body.likes),
          comments: body.comments === undefined ? null : BigInt(body.comments),
        },
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
    summary: 'Reject a submitted or in-review view report with a reason code (the brand, or an operator); nothing is held',
    tag: 'views',
    response: viewReportSchema,
    access: ['organization', 'operator'],
    params: idParams,
    body: rejectBody,
    handle: async ({ params, body, principal, services }) => {
      const orgId = principal.kind === 'operator' ? null : orgOf(principal);
      return viewReportView(await rejectViewReport(services.db, { orgId, id: params.id, reason: body.reason, note: body.note ?? null }));
    },
  }),
  endpoint({
    method: 'POST',
    path: '/v1/views/{id}/clear',
    summary: 'Clear a view report in review (operators): back to submitted, its findings kept, for the brand to confirm or reject',
    tag: 'views',
    response: viewReportSchema,
    access: ['operator'],
    params: idParams,
    body: clearBody,
    handle: async ({ params, body, services }) => viewReportView(await clearViewReport(services.db, { id: params.id, note: body.note })),
  }),
  endpoint({
    method: 'POST',
    path: '/v1/campaigns/{id}/enrolments/{enrolment_id}/insights',
    summary:
      "Import a platform's exported insights (CSV) for an enrolment: the brand's or an operator's verify the enrolment's open view reports of " +
      "those posts; the creator's own are kept as evidence for review",
    tag: 'views',
    response: insightsImportedSchema,
    access: ['organization', 'creator', 'operator'],
    params: enrolmentParams,
    body: insightsBody,
    status: 201,
    handle: async ({ params, body, principal, services }) => {
      const enrolment = await enrolmentById(services.db, params.enrolment_id);
      const visible =
        enrolment !== undefined &&
        enrolment.campaign_id === params.id &&
        (principal.kind === 'operator' || (principal.kind === 'organization' ? enrolment.org_id === principal.id : enrolment.creator_id === principal.id));
      if (!visible) throw new AppError('not_found', `no enrolment ${params.enrolment_id} in campaign ${params.id}`);
      if (principal.kind === 'public') throw new AppError('unauthorized', 'an API key is required');
      // The database clock: what every other date check goes by.
      const today = (await databaseNow(services.db)).toISOString().slice(0, 10);
      const provider = csvInsightsFile(body.csv, { platform: body.platform ?? null, today });
      const by = { kind: principal.kind, id: principal.id };
      const r = await importViewInsights(services.db, { enrolment, by, provider, query: { posts: [], since: '2000-01-01', until: today } });
      const reports = await Promise.all(r.reports.map((id) => getViewReport(services.db, id, {})));
      const { id, enrolment_id, source, trust, uploaded_by_kind, row_count, content_sha256, created_at } = r.import;
      return respond(201, { import: { id, enrolment_id, source, trust, uploaded_by: uploaded_by_kind, row_count, content_sha256, created_at }, reports: reports.map(viewReportView) });
    },
  }),
];

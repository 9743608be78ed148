import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { AppError } from '../../errors/index.js';
import { approveReviewedResult, rejectResult, reversePaidResult } from '../../flows/index.js';
import { getResult, listResults, type Result, RESULT_STATUSES, type ResultDecision, type ReviewItem, reviewQueue } from '../../results/index.js';
import type { Principal } from '../../tenants/index.js';
import { endpoint } from '../endpoint.js';
import { idParams, money, page, pageQuery, pageRequest } from '../schemas.js';
import { resultListSchema, resultSchema, reviewListSchema } from '../views/results.js';

/**
 * Results as everyone sees them: brands their campaigns' results, creators their own, with the reason
 * codes of every rejected, reviewed or reversed result; operators all, plus the review queue and the
 * decisions only they make (approve a result in review, reverse a paid one).
 */
export function resultView(r: Result) {
  return {
    id: r.id,
    campaign_id: r.campaign_id,
    creator_id: r.creator_id,
    enrolment_id: r.enrolment_id,
    kind: r.kind,
    source_id: r.source_id,
    status: r.status,
    reasons: r.reasons,
    reviewed: r.reviewed,
    payout: money(r.gross, r.currency),
    platform_fee: money(r.fee, r.currency),
    creator_net: money(r.gross - r.fee, r.currency),
    /** Set when the incentives' caps per period cut what the result earned at payment. */
    paid: r.paid_gross == null ? null : money(r.paid_gross, r.currency),
    /** This creator's part of a source credited to several creators; null: the whole of it. */
    attribution:
      r.share === null ? null : { model: r.model, share: r.share, source_payout: r.source_gross === null ? null : money(r.source_gross, r.currency) },
    occurred_at: r.occurred_at,
    recorded_at: r.recorded_at,
    /** Null while the result awaits funds: its hold period starts when its hold is placed. */
    hold_until: r.status === 'awaiting_funds' ? null : r.hold_until,
    /** When a result awaiting funds becomes over_budget unless the brand tops up (kept once it is held or expired); null if it never waited. */
    awaiting_funds_until: r.awaiting_until,
    decided_at: r.decided_at,
    decided_by: r.decided_by,
    decision_note: r.decision_note,
  };
}

function decisionView(d: ResultDecision) {
  return {
    from_status: d.from_status,
    to_status: d.to_status,
    reasons: d.reasons,
    note: d.note,
    by: { kind: d.actor_kind, id: d.actor_id },
    decided_at: d.decided_at,
  };
}

function reviewItemView(item: ReviewItem) {
  return { ...resultView(item.result), evidence: item.evidence, decisions: item.decisions.map(decisionView) };
}

const reasonCode = z.string().max(64).regex(/^[a-z][a-z0-9_]{1,63}$/, 'a reason code such as duplicate_order');
const note = z.string().trim().min(1).max(1000);

const listQuery = pageQuery.extend({
  campaign_id: z.string().max(100).optional(),
  status: z.enum(RESULT_STATUSES).optional(),
});
const reviewQuery = pageQuery.extend({ campaign_id: z.string().max(100).optional() });
const rejectBody = z.strictObject({
  reason: reasonCode.optional().describe('Required for a pending result; optional for one in review'),
  note: note.optional().describe('Required for a result in review; the creator sees it'),
});
const approveBody = z.strictObject({ note: note.optional() });
const reverseBody = z.strictObject({ reason: reasonCode, note });

function scopeOf(principal: { kind: string; id: string | null }) {
  if (principal.kind === 'organization') return { orgId: principal.id as string };
  if (principal.kind === 'creator') return { creatorId: principal.id as string };
  return {};
}

/**
 * Who decides, as the decisions log records it: a brand by its organization id, an operator by the
 * id of the API key used (operator keys belong to no tenant; the key is the person's handle). Called
 * after the key was authenticated, so the id read from the header is that verified key's.
 */
function deciderOf(principal: Principal, request: IncomingMessage): string {
  if (principal.kind === 'organization') return principal.id;
  const token = /^Bearer\s+ek_([0-9a-z]{26})_/i.exec(request.headers.authorization ?? '');
  if (principal.kind !== 'operator' || !token) throw new AppError('forbidden', 'only brands and operators decide on results');
  return `key_${(token[1] as string).toLowerCase()}`;
}

export const resultEndpoints = [
  endpoint({
    method: 'GET',
    path: '/v1/results',
    summary:
      "Results with their status and reason codes: a brand's campaigns', a creator's own, or all (operators); " +
      'newest first (recorded_at; created_from/created_to filter on it)',
    tag: 'results',
    response: resultListSchema,
    access: ['organization', 'creator', 'operator'],
    query: listQuery,
    handle: async ({ query, principal, services }) => {
      const found = await listResults(
        services.db,
        { ...scopeOf(principal), ...(query.campaign_id ? { campaignId: query.campaign_id } : {}), ...(query.status ? { status: query.status } : {}) },
        pageRequest(query),
      );
      return page(found, resultView);
    },
  }),
  endpoint({
    method: 'GET',
    path: '/v1/results/{id}',
    summary: 'One result',
    tag: 'results',
    response: resultSchema,
    access: ['organization', 'creator', 'operator'],
    params: idParams,
    handle: async ({ params, principal, services }) => resultView(await getResult(services.db, params.id, scopeOf(principal))),
  }),
  endpoint({
    method: 'POST',
    path: '/v1/results/{id}/reject',
    summary: 'Reject a pending result or one awaiting funds (with a reason code), or one in review (with a note): a hold returns to the escrow',
    tag: 'results',
    response: resultSchema,
    access: ['organization', 'operator'],
    params: idParams,
    body: rejectBody,
    handle: async ({ params, body, principal, services, context }) => {
      const r = await rejectResult(services.db, {
        resultId: params.id,
        ...(principal.kind === 'organization' ? { orgId: principal.id } : {}),
        by: deciderOf(principal, context.request),
        reason: body.reason ?? null,
        note: body.note ?? null,
      });
      return resultView(r);
    },
  }),
  endpoint({
    method: 'GET',
    path: '/v1/review',
    summary:
      'The review queue: results held for a person, with reasons, evidence and decisions so far; newest first like every list ' +
      '(recorded_at; created_to narrows it to the longest waiting)',
    tag: 'results',
    response: reviewListSchema,
    access: ['operator'],
    query: reviewQuery,
    handle: async ({ query, services }) => {
      return page(await reviewQueue(services.db, { campaignId: query.campaign_id }, pageRequest(query)), reviewItemView);
    },
  }),
  endpoint({
    method: 'POST',
    path: '/v1/results/{id}/approve',
    summary: 'Approve a result in review: it is paid by the next settlement once its hold period has passed',
    tag: 'results',
    response: resultSchema,
    access: ['operator'],
    params: idParams,
    body: approveBody,
    handle: async ({ params, body, principal, services, context }) =>
      resultView(await approveReviewedResult(services.db, { resultId: params.id, by: deciderOf(principal, context.request), note: body.note ?? null })),
  }),
  endpoint({
    method: 'POST',
    path: '/v1/results/{id}/reverse',
    summary:
      "Reverse a paid result found invalid: the creator's net is clawed back (a shortfall becomes a receivable) and the platform's fee returned, to the escrow or, once the campaign is settled, the brand's wallet (with any change of the money-back guarantee); idempotent",
    tag: 'results',
    response: resultSchema,
    access: ['operator'],
    params: idParams,
    body: reverseBody,
    handle: async ({ params, body, principal, services, context }) =>
      resultView(await reversePaidResult(services.db, { resultId: params.id, by: deciderOf(principal, context.request), reason: body.reason, note: body.note })),
  }),
];

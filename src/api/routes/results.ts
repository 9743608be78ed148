import { z } from 'zod';
import { AppError } from '../../errors/index.js';
import { getResult, listResults, rejectResult, type Result } from '../../results/index.js';
import { endpoint } from '../endpoint.js';
import { idParams, money, page, pageQuery } from '../schemas.js';

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
    payout: money(r.gross, r.currency),
    platform_fee: money(r.fee, r.currency),
    creator_net: money(r.gross - r.fee, r.currency),
    occurred_at: r.occurred_at,
    recorded_at: r.recorded_at,
    hold_until: r.hold_until,
    decided_at: r.decided_at,
    decided_by: r.decided_by,
    decision_note: r.decision_note,
  };
}

const listQuery = pageQuery.extend({
  campaign_id: z.string().max(100).optional(),
  status: z.enum(['pending', 'approved', 'rejected', 'over_budget']).optional(),
});
const rejectBody = z.strictObject({
  reason: z.string().regex(/^[a-z][a-z0-9_]{1,63}$/, 'a reason code such as duplicate_order'),
  note: z.string().max(1000).optional(),
});

function scopeOf(principal: { kind: string; id: string | null }) {
  if (principal.kind === 'organization') return { orgId: principal.id as string };
  if (principal.kind === 'creator') return { creatorId: principal.id as string };
  return {};
}

export const resultEndpoints = [
  endpoint({
    method: 'GET',
    path: '/v1/results',
    summary: "Results with their status and reason codes: a brand's campaigns', a creator's own, or all (operators)",
    tag: 'results',
    access: ['organization', 'creator', 'operator'],
    query: listQuery,
    handle: async ({ query, principal, services }) => {
      const rows = await listResults(
        services.db,
        { ...scopeOf(principal), ...(query.campaign_id ? { campaignId: query.campaign_id } : {}), ...(query.status ? { status: query.status } : {}) },
        query,
      );
      return page(rows, query.limit, resultView);
    },
  }),
  endpoint({
    method: 'GET',
    path: '/v1/results/{id}',
    summary: 'One result',
    tag: 'results',
    access: ['organization', 'creator', 'operator'],
    params: idParams,
    handle: async ({ params, principal, services }) => resultView(await getResult(services.db, params.id, scopeOf(principal))),
  }),
  endpoint({
    method: 'POST',
    path: '/v1/results/{id}/reject',
    summary: 'Reject a pending result during its hold period, with a reason code: its hold returns to the escrow',
    tag: 'results',
    access: ['organization', 'operator'],
    params: idParams,
    body: rejectBody,
    handle: async ({ params, body, principal, services }) => {
      if (principal.kind === 'creator') throw new AppError('forbidden', 'creators cannot reject results');
      const r = await rejectResult(services.db, {
        resultId: params.id,
        ...(principal.kind === 'organization' ? { orgId: principal.id } : {}),
        by: principal.kind === 'organization' ? principal.id : 'operator',
        reason: body.reason,
        note: body.note ?? null,
      });
      return resultView(r);
    },
  }),
];

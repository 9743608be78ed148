import { z } from 'zod';
import {
  acceptTerms,
  activateCampaign,
  CAMPAIGN_STATUSES,
  type Campaign,
  changeTerms,
  createCampaign,
  type Enrolment,
  escrowOf,
  fundCampaign,
  getCampaign,
  listCampaigns,
  listEnrolments,
  presentTerms,
  termsInputSchema,
  transition,
  type Viewer,
} from '../../campaigns/index.js';
import { AppError } from '../../errors/index.js';
import { creatorStanding, type Standing } from '../../campaigns/index.js';
import type { Principal } from '../auth.js';
import { endpoint } from '../endpoint.js';
import type { Services } from '../services.js';
import { decimalAmount, idParams, money, page, pageQuery, reference } from '../schemas.js';

export function viewerOf(principal: Principal): Viewer {
  if (principal.kind === 'organization' || principal.kind === 'creator') return { kind: principal.kind, id: principal.id };
  if (principal.kind === 'operator') return { kind: 'operator' };
  throw new AppError('unauthorized', 'an API key is needed');
}

function orgOf(principal: Principal): string {
  if (principal.kind !== 'organization') throw new AppError('forbidden', 'only the brand that owns the campaign may do this');
  return principal.id;
}

export async function campaignView(services: Services, c: Campaign) {
  const escrow = await escrowOf(services.db, c.id);
  return {
    id: c.id,
    org_id: c.org_id,
    name: c.name,
    status: c.status,
    paused_reason: c.paused_reason,
    currency: c.currency,
    terms_version: c.terms_version,
    terms_sha256: c.terms_sha256,
    terms: presentTerms(c.terms),
    escrow: {
      funded: money(escrow.funded, c.currency),
      spent: money(escrow.spent, c.currency),
      held: money(escrow.held, c.currency),
      available: money(escrow.available, c.currency),
    },
    created_at: c.created_at,
    ended_at: c.ended_at,
    settled_at: c.settled_at,
  };
}

export function enrolmentView(e: Enrolment, baseUrl?: string) {
  return {
    id: e.id,
    campaign_id: e.campaign_id,
    creator_id: e.creator_id,
    terms_version: e.terms_version,
    terms_sha256: e.terms_sha256,
    accepted_at: e.accepted_at,
    link_code: e.link_code,
    tracking_path: `/c/${e.link_code}`,
    ...(baseUrl ? { tracking_url: `${baseUrl}/c/${e.link_code}` } : {}),
    promo_code: e.promo_code,
    promo_max_uses: e.promo_max_uses,
    promo_once_per_customer: e.promo_once_per_customer,
  };
}

const createBody = z.strictObject({ name: z.string().trim().min(1).max(200), terms: termsInputSchema });
const fundBody = z.strictObject({ amount: decimalAmount.optional(), reference });
const pauseBody = z.strictObject({ reason: z.string().max(500).optional() });
const acceptBody = z.strictObject({ terms_version: z.number().int().min(1), terms_sha256: z.string().regex(/^[0-9a-f]{64}$/) });
const listQuery = pageQuery.extend({ status: z.enum(CAMPAIGN_STATUSES).optional() });

/** A creator's standing in the campaign's current incentive period (null fields: the terms have no incentives). */
export function standingView(s: Standing) {
  const m = (minor: bigint) => money(minor, s.currency);
  const p = s.progress;
  return {
    campaign_id: s.campaignId,
    period: s.period ? { key: s.period.key, start: s.period.start.toISOString(), end: s.period.end.toISOString() } : null,
    validated_results: s.validated,
    held_results: s.held,
    base_earnings: m(s.baseEarnings),
    tier: p?.tier ?? null,
    next_tier: p?.nextTier ? { index: p.nextTier.index, threshold: p.nextTier.threshold, remaining: p.nextTier.remaining } : null,
    percent_of_target: p?.percentOfTarget ?? null,
    percent_to_next_tier: p?.percentToNextTier ?? null,
    bonus_if_closed_now: p ? m(p.bonus) : null,
  };
}

export const campaignEndpoints = [
  endpoint({
    method: 'POST',
    path: '/v1/campaigns',
    summary: 'Create a campaign (draft) with its terms',
    tag: 'campaigns',
    access: ['organization'],
    body: createBody,
    status: 201,
    handle: async ({ body, principal, services }) =>
      campaignView(services, await createCampaign(services.db, { orgId: orgOf(principal), name: body.name, terms: body.terms })),
  }),
  endpoint({
    method: 'GET',
    path: '/v1/campaigns',
    summary: "List campaigns: a brand's own; for creators, running and joined ones",
    tag: 'campaigns',
    access: ['organization', 'creator', 'operator'],
    query: listQuery,
    handle: async ({ query, principal, services }) => {
      const rows = await listCampaigns(services.db, viewerOf(principal), query);
      const data = await Promise.all(rows.map((c) => campaignView(services, c)));
      return { data, next_after: rows.length === query.limit ? (rows.at(-1)?.id ?? null) : null };
    },
  }),
  endpoint({
    method: 'GET',
    path: '/v1/campaigns/{id}',
    summary: 'A campaign with its current terms and escrow',
    tag: 'campaigns',
    access: ['organization', 'creator', 'operator'],
    params: idParams,
    handle: async ({ params, principal, services }) => campaignView(services, await getCampaign(services.db, viewerOf(principal), params.id)),
  }),
  endpoint({
    method: 'PUT',
    path: '/v1/campaigns/{id}/terms',
    summary: 'Change the terms: always a new version, which creators accept again',
    tag: 'campaigns',
    access: ['organization'],
    params: idParams,
    body: termsInputSchema,
    handle: async ({ params, body, principal, services }) => campaignView(services, await changeTerms(services.db, orgOf(principal), params.id, body)),
  }),
  endpoint({
    method: 'POST',
    path: '/v1/campaigns/{id}/fund',
    summary: "Move money from the brand's wallet into the campaign's escrow (idempotent on reference)",
    tag: 'campaigns',
    access: ['organization'],
    params: idParams,
    body: fundBody,
    handle: async ({ params, body, principal, services }) => {
      const r = await fundCampaign(services.db, { orgId: orgOf(principal), campaignId: params.id, amount: body.amount, reference: body.reference });
      return { campaign: await campaignView(services, r.campaign), funded: money(r.funded.amount, r.funded.currency) };
    },
  }),
  ...(['activate', 'pause', 'end'] as const).map((action) =>
    endpoint({
      method: 'POST',
      path: `/v1/campaigns/{id}/${action}`,
      summary: { activate: 'Start (or resume) a funded campaign', pause: 'Pause a running campaign', end: 'End a campaign: it takes no new results' }[action],
      tag: 'campaigns',
      access: ['organization'],
      params: idParams,
      body: pauseBody,
      handle: async ({ params, body, principal, services }) => {
        const orgId = orgOf(principal);
        if (action === 'activate') return campaignView(services, await activateCampaign(services.db, orgId, params.id));
        await transition(services.db, params.id, action === 'pause' ? 'paused' : 'ended', { orgId, reason: body.reason ?? null });
        return campaignView(services, await getCampaign(services.db, { kind: 'organization', id: orgId }, params.id));
      },
    }),
  ),
  endpoint({
    method: 'POST',
    path: '/v1/campaigns/{id}/enrolments',
    summary: 'Join a campaign by accepting the exact terms (version and SHA-256); returns the tracking link and promo code',
    tag: 'creators',
    access: ['creator'],
    params: idParams,
    body: acceptBody,
    status: 201,
    handle: async ({ params, body, principal, services }) => {
      if (principal.kind !== 'creator') throw new AppError('forbidden', 'only creators join campaigns');
      const e = await acceptTerms(services.db, { creatorId: principal.id, campaignId: params.id, termsVersion: body.terms_version, termsSha256: body.terms_sha256 });
      return enrolmentView(e);
    },
  }),
  endpoint({
    method: 'GET',
    path: '/v1/campaigns/{id}/enrolments',
    summary: "A campaign's enrolments (the brand), or the creator's own",
    tag: 'campaigns',
    access: ['organization', 'creator', 'operator'],
    params: idParams,
    query: pageQuery,
    handle: async ({ params, query, principal, services }) => {
      await getCampaign(services.db, viewerOf(principal), params.id);
      const creatorId = principal.kind === 'creator' ? principal.id : undefined;
      const rows = await listEnrolments(services.db, { campaignId: params.id, ...(creatorId ? { creatorId } : {}) }, query);
      return page(rows, query.limit, (e) => enrolmentView(e));
    },
  }),
  endpoint({
    method: 'GET',
    path: '/v1/me/campaigns/{id}/progress',
    summary:
      "The creator's progress in the campaign's current incentive period, on the terms they accepted: validated results, " +
      'the tier reached, what the next tier needs, and the bonus if the period closed now (held results shown apart)',
    tag: 'campaigns',
    access: ['creator'],
    params: idParams,
    handle: async ({ params, principal, services }) => {
      if (principal.kind !== 'creator') throw new AppError('forbidden', 'only creators have progress in a campaign');
      return standingView(await creatorStanding(services.db, { creatorId: principal.id, campaignId: params.id }));
    },
  }),
];

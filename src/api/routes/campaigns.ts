import { z } from 'zod';
import { acceptTerms, type Campaign, CAMPAIGN_STATUSES, changeTerms, createCampaign, creatorStanding, type Enrolment, escrowLow, escrowOf, getCampaign, listCampaigns, listEnrolments, pauseCampaign, setEnrolmentTarget, type Standing, transition, updateCampaign, type Viewer, withAcceptedTerms } from '../../campaigns/index.js';
import { presentTerms, termsCanonical, termsInputSchema } from '../../terms/index.js';
import { type AwaitingFunds, awaitingFundsOf } from '../../results/index.js';
import { fundAndResume, resumeCampaign, type Services } from '../../flows/index.js';
import { AppError } from '../../errors/index.js';
import { type BonusExposure, type BonusPeriodRow, campaignBonusExposure, listBonusRows } from '../../bonuses/index.js';
import type { Principal } from '../../tenants/index.js';
import { endpoint, respond } from '../endpoint.js';
import { replayHeaders } from '../idempotency.js';
import { decimalAmount, idParams, money, page, pageQuery, pageRequest, reference } from '../schemas.js';
import { bonusListSchema, campaignListSchema, campaignSchema, enrolmentListSchema, enrolmentSchema, standingSchema } from '../views/campaigns.js';

export function viewerOf(principal: Principal): Viewer {
  if (principal.kind === 'organization' || principal.kind === 'creator') return { kind: principal.kind, id: principal.id };
  if (principal.kind === 'operator') return { kind: 'operator' };
  throw new AppError('unauthorized', 'an API key is needed');
}

function orgOf(principal: Principal): string {
  if (principal.kind !== 'organization') throw new AppError('forbidden', 'only the brand that owns the campaign may do this');
  return principal.id;
}

/**
 * The most the campaign's tier bonuses can cost the brand on top of base earnings (docs/incentives.md):
 * bps tiers, the top tier's bps of the budget; fixed tiers, the top bonus per creator per period ×
 * creators enrolled now × periods. Null without tiers.
 */
export function exposureView(e: BonusExposure | null, currency: string) {
  if (!e) return null;
  return {
    amount: money(e.amount, currency),
    basis: e.basis,
    top_bps: e.top_bps,
    top_fixed: e.top_fixed === null ? null : money(e.top_fixed, currency),
    creators: e.creators,
    periods: e.periods,
  };
}

/** Results waiting for funds: how many, what holding them would reserve, and when the first one's grace ends. */
export function awaitingView(a: AwaitingFunds, currency: string) {
  return { results: a.count, amount: money(a.gross, currency), first_expires_at: a.first_until };
}

/**
 * A campaign as its viewer sees it: its state and why (`paused_reason`: `over_budget` when the escrow
 * ran out), its escrow with the brand's low-escrow flag, and the results waiting for funds — all of
 * them for the brand and operators, a creator's own for a creator.
 */
export async function campaignView(services: Services, c: Campaign, viewer?: Viewer) {
  const escrow = await escrowOf(services.db, c.id);
  const exposure = await campaignBonusExposure(services.db, c.id, c.terms);
  const waiting = await awaitingFundsOf(services.db, c.id, viewer?.kind === 'creator' ? viewer.id : undefined);
  return {
    id: c.id,
    org_id: c.org_id,
    name: c.name,
    status: c.status,
    paused_reason: c.paused_reason,
    currency: c.currency,
    terms_version: c.terms_version,
    terms_sha256: c.terms_sha256,
    terms_canonical: termsCanonical(c.terms),
    terms: presentTerms(c.terms),
    escrow: {
      funded: money(escrow.funded, c.currency),
      spent: money(escrow.spent, c.currency),
      held: money(escrow.held, c.currency),
      available: money(escrow.available, c.currency),
      low: escrowLow(escrow.available, c.low_escrow_threshold),
      low_threshold: c.low_escrow_threshold === null ? null : money(c.low_escrow_threshold, c.currency),
    },
    awaiting_funds: awaitingView(waiting, c.currency),
    bonus_exposure: exposureView(exposure, c.currency),
    created_at: c.created_at,
    ended_at: c.ended_at,
    settled_at: c.settled_at,
  };
}

/** An enrolment with its full tracking link, on this server's public URL (PUBLIC_URL). */
export function enrolmentView(e: Enrolment & { terms_canonical: string }, baseUrl: string) {
  return {
    id: e.id,
    campaign_id: e.campaign_id,
    creator_id: e.creator_id,
    terms_version: e.terms_version,
    terms_sha256: e.terms_sha256,
    terms_canonical: e.terms_canonical,
    accepted_at: e.accepted_at,
    link_code: e.link_code,
    tracking_path: `/c/${e.link_code}`,
    tracking_url: `${baseUrl}/c/${e.link_code}`,
    promo_code: e.promo_code,
    promo_max_uses: e.promo_max_uses,
    promo_once_per_customer: e.promo_once_per_customer,
    target: e.target,
    created_at: e.created_at,
  };
}

/** A creator's bonus for one closed incentive period, as it stands (docs/incentives.md). */
export function bonusView(b: BonusPeriodRow) {
  const m = (minor: bigint) => money(minor, b.currency);
  return {
    enrolment_id: b.enrolment_id,
    creator_id: b.creator_id,
    period: { key: b.period_key, start: b.period_start.toISOString(), end: b.period_end.toISOString() },
    status: b.status,
    target: b.target,
    tier: b.tier,
    counted_results: b.counted_results,
    base_earnings: m(b.base_earnings),
    bonus_due: m(b.due),
    held: m(b.held),
    paid_net: m(b.paid_net),
    fees: m(b.fees_paid),
    clawed_back: m(b.clawed_back),
    kept_net: m(b.paid_net - b.clawed_back),
    shortfall: m(b.shortfall),
    closed_at: b.closed_at,
    released_at: b.released_at,
  };
}

const lowEscrowThreshold = decimalAmount
  .nullable()
  .describe("GET and the statement flag the escrow `low` when what is available is at or below it, in the campaign's currency; null: no threshold");
const createBody = z.strictObject({ name: z.string().trim().min(1).max(200), terms: termsInputSchema, low_escrow_threshold: lowEscrowThreshold.optional() });
const updateBody = z.strictObject({ name: z.string().trim().min(1).max(200).optional(), low_escrow_threshold: lowEscrowThreshold.optional() });
const fundBody = z.strictObject({ amount: decimalAmount.optional(), reference });
const pauseBody = z.strictObject({ reason: z.string().max(500).optional() });
const targetBody = z.strictObject({ target: z.number().int().min(1).max(1_000_000_000).nullable() });
const enrolmentParams = z.strictObject({ id: z.string().min(1).max(100), enrolment_id: z.string().min(1).max(100) });
const acceptBody = z.strictObject({ terms_version: z.number().int().min(1), terms_sha256: z.string().length(64).regex(/^[0-9a-f]{64}$/) });
const listQuery = pageQuery.extend({ status: z.enum(CAMPAIGN_STATUSES).optional() });

/** A creator's standing in the campaign's current incentive period (null fields: the terms have no incentives). */
export function standingView(s: Standing) {
  const m = (minor: bigint) => money(minor, s.currency);
  const p = s.progress;
  return {
    campaign_id: s.campaignId,
    period: s.period ? { key: s.period.key, start: s.period.start.toISOString(), end: s.period.end.toISOString() } : null,
    target: s.target,
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
    response: campaignSchema,
    access: ['organization'],
    body: createBody,
    status: 201,
    handle: async ({ body, principal, services }) =>
      campaignView(
        services,
        await createCampaign(services.db, { orgId: orgOf(principal), name: body.name, terms: body.terms, lowEscrowThreshold: body.low_escrow_threshold }),
      ),
  }),
  endpoint({
    method: 'GET',
    path: '/v1/campaigns',
    summary: "List campaigns: a brand's own; for creators, running and joined ones; newest first (created_at)",
    tag: 'campaigns',
    response: campaignListSchema,
    access: ['organization', 'creator', 'operator'],
    query: listQuery,
    handle: async ({ query, principal, services }) => {
      const viewer = viewerOf(principal);
      const found = await listCampaigns(services.db, viewer, { status: query.status }, pageRequest(query));
      return page({ ...found, rows: await Promise.all(found.rows.map((c) => campaignView(services, c, viewer))) }, (view) => view);
    },
  }),
  endpoint({
    method: 'GET',
    path: '/v1/campaigns/{id}',
    summary: 'A campaign with its current terms, escrow (flagged low at the brand\'s threshold) and results awaiting funds (a creator: their own)',
    tag: 'campaigns',
    response: campaignSchema,
    access: ['organization', 'creator', 'operator'],
    params: idParams,
    handle: async ({ params, principal, services }) => {
      const viewer = viewerOf(principal);
      return campaignView(services, await getCampaign(services.db, viewer, params.id), viewer);
    },
  }),
  endpoint({
    method: 'PATCH',
    path: '/v1/campaigns/{id}',
    summary: "Change the brand's settings that are not terms: the name and the low-escrow threshold (null clears it)",
    tag: 'campaigns',
    response: campaignSchema,
    access: ['organization'],
    params: idParams,
    body: updateBody,
    handle: async ({ params, body, principal, services }) =>
      campaignView(
        services,
        await updateCampaign(services.db, { orgId: orgOf(principal), campaignId: params.id, name: body.name, lowEscrowThreshold: body.low_escrow_threshold }),
      ),
  }),
  endpoint({
    method: 'PUT',
    path: '/v1/campaigns/{id}/terms',
    summary: 'Change the terms: always a new version, which creators accept again',
    tag: 'campaigns',
    response: campaignSchema,
    access: ['organization'],
    params: idParams,
    body: termsInputSchema,
    handle: async ({ params, body, principal, services }) => campaignView(services, await changeTerms(services.db, orgOf(principal), params.id, body)),
  }),
  endpoint({
    method: 'POST',
    path: '/v1/campaigns/{id}/fund',
    summary:
      "Move money from the brand's wallet into the campaign's escrow (idempotent on reference); a campaign paused for budget resumes when the escrow " +
      'then covers its next result, and results awaiting funds are held in arrival order',
    tag: 'campaigns',
    response: campaignSchema,
    access: ['organization'],
    params: idParams,
    body: fundBody,
    handle: async ({ params, body, principal, services }) => {
      const r = await fundAndResume(services.db, { orgId: orgOf(principal), campaignId: params.id, amount: body.amount, reference: body.reference });
      // An action answers the object it acted on: `escrow.funded` is the campaign's total funding.
      return respond(200, await campaignView(services, r.campaign), replayHeaders(r.replayed));
    },
  }),
  ...(['activate', 'pause', 'end'] as const).map((action) =>
    endpoint({
      method: 'POST',
      path: `/v1/campaigns/{id}/${action}`,
      summary: {
        activate: 'Start (or resume) a funded campaign; results awaiting funds are held first, in arrival order, as far as the escrow covers them',
        pause: 'Pause a running campaign (or make a pause for budget your own): results arriving while paused are refused',
        end: 'End a campaign: it takes no new results',
      }[action],
      tag: 'campaigns',
      response: campaignSchema,
      access: ['organization'],
      params: idParams,
      body: pauseBody,
      handle: async ({ params, body, principal, services }) => {
        const orgId = orgOf(principal);
        if (action === 'activate') return campaignView(services, await resumeCampaign(services.db, orgId, params.id));
        if (action === 'pause') await pauseCampaign(services.db, { orgId, campaignId: params.id, reason: body.reason ?? null });
        else await transition(services.db, params.id, 'ended', { orgId, reason: body.reason ?? null });
        return campaignView(services, await getCampaign(services.db, { kind: 'organization', id: orgId }, params.id));
      },
    }),
  ),
  endpoint({
    method: 'POST',
    path: '/v1/campaigns/{id}/enrolments',
    summary: 'Join a campaign by accepting the exact terms (version and SHA-256); returns the tracking link and promo code',
    tag: 'creators',
    response: enrolmentSchema,
    access: ['creator'],
    params: idParams,
    body: acceptBody,
    status: 201,
    handle: async ({ params, body, principal, services }) => {
      if (principal.kind !== 'creator') throw new AppError('forbidden', 'only creators join campaigns');
      const r = await acceptTerms(services.db, { creatorId: principal.id, campaignId: params.id, termsVersion: body.terms_version, termsSha256: body.terms_sha256 });
      const [enrolment] = await withAcceptedTerms(services.db, [r.enrolment]);
      return respond(201, enrolmentView(enrolment!, services.publicUrl), replayHeaders(r.replayed));
    },
  }),
  endpoint({
    method: 'GET',
    path: '/v1/campaigns/{id}/enrolments',
    summary: "A campaign's enrolments (the brand), or the creator's own; newest first (created_at: when the creator joined)",
    tag: 'campaigns',
    response: enrolmentListSchema,
    access: ['organization', 'creator', 'operator'],
    params: idParams,
    query: pageQuery,
    handle: async ({ params, query, principal, services }) => {
      await getCampaign(services.db, viewerOf(principal), params.id);
      const creatorId = principal.kind === 'creator' ? principal.id : undefined;
      const found = await listEnrolments(services.db, { campaignId: params.id, ...(creatorId ? { creatorId } : {}) }, pageRequest(query));
      return page({ ...found, rows: await withAcceptedTerms(services.db, found.rows) }, (e) => enrolmentView(e, services.publicUrl));
    },
  }),
  endpoint({
    method: 'PATCH',
    path: '/v1/campaigns/{id}/enrolments/{enrolment_id}',
    summary: "Set one creator's incentive target (validated results per period), or clear it with null to use the campaign's",
    tag: 'campaigns',
    response: enrolmentSchema,
    access: ['organization'],
    params: enrolmentParams,
    body: targetBody,
    handle: async ({ params, body, principal, services }) => {
      const e = await setEnrolmentTarget(services.db, { orgId: orgOf(principal), campaignId: params.id, enrolmentId: params.enrolment_id, target: body.target });
      const [withTerms] = await withAcceptedTerms(services.db, [e]);
      return enrolmentView(withTerms!, services.publicUrl);
    },
  }),
  endpoint({
    method: 'GET',
    path: '/v1/campaigns/{id}/bonuses',
    summary:
      "Tier bonuses of the campaign's closed incentive periods, per creator: held, paid, clawed back, and the shortfall escrow could not cover; " +
      'newest period first (period.start; created_from/created_to filter on it)',
    tag: 'campaigns',
    response: bonusListSchema,
    access: ['organization', 'operator'],
    params: idParams,
    query: pageQuery,
    handle: async ({ params, query, principal, services }) => {
      const c = await getCampaign(services.db, viewerOf(principal), params.id);
      return page(await listBonusRows(services.db, { campaignId: c.id }, pageRequest(query)), bonusView);
    },
  }),
  endpoint({
    method: 'GET',
    path: '/v1/me/campaigns/{id}/bonuses',
    summary:
      "The creator's tier bonuses in the campaign's closed incentive periods: due, held, paid, clawed back, and any shortfall; " +
      'newest period first (period.start; created_from/created_to filter on it)',
    tag: 'campaigns',
    response: bonusListSchema,
    access: ['creator'],
    params: idParams,
    query: pageQuery,
    handle: async ({ params, query, principal, services }) => {
      if (principal.kind !== 'creator') throw new AppError('forbidden', 'only creators have bonuses in a campaign');
      const joined = await listEnrolments(services.db, { campaignId: params.id, creatorId: principal.id }, { limit: 1 });
      if (joined.rows.length === 0) throw new AppError('not_found', `no campaign ${params.id} that you joined`);
      return page(await listBonusRows(services.db, { campaignId: params.id, creatorId: principal.id }, pageRequest(query)), bonusView);
    },
  }),
  endpoint({
    method: 'GET',
    path: '/v1/me/campaigns/{id}/progress',
    summary:
      "The creator's progress in the campaign's current incentive period, on the terms they accepted: validated results, " +
      'the tier reached, what the next tier needs, and the bonus if the period closed now (held results shown apart)',
    tag: 'campaigns',
    response: standingSchema,
    access: ['creator'],
    params: idParams,
    handle: async ({ params, principal, services }) => {
      if (principal.kind !== 'creator') throw new AppError('forbidden', 'only creators have progress in a campaign');
      return standingView(await creatorStanding(services.db, { creatorId: principal.id, campaignId: params.id }));
    },
  }),
];

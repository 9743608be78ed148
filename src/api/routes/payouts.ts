import { z } from 'zod';
import { AppError } from '../../errors/index.js';
import { creatorBalance, getPayout, listPayouts, type Payout, PAYOUT_STATUSES } from '../../payouts/index.js';
import { markPayoutCompleted, markPayoutFailed, type PayoutRunReport, runPayoutsFor } from '../../flows/index.js';
import type { Principal } from '../../tenants/index.js';
import { endpoint } from '../endpoint.js';
import { idParams, money, page, pageQuery, pageRequest, whole } from '../schemas.js';
import { balanceListSchema, payoutListSchema, payoutRunSchema, payoutSchema } from '../views/payouts.js';

export function payoutView(p: Payout) {
  return {
    id: p.id,
    creator_id: p.creator_id,
    ...money(p.amount, p.currency),
    status: p.status,
    provider: p.provider,
    provider_reference: p.provider_reference,
    failure: p.failure,
    created_at: p.created_at,
    sent_at: p.sent_at,
    finished_at: p.finished_at,
  };
}

function runView(r: PayoutRunReport) {
  return { batches: r.batches, created: r.created, pending: r.pending, sent: r.sent, completed: r.completed, failed: r.failed };
}

/** Creators see only their own payouts (another's answers not_found); operators see all. */
function creatorScope(principal: Principal): { creatorId?: string } {
  if (principal.kind === 'creator') return { creatorId: principal.id };
  if (principal.kind === 'operator') return {};
  throw new AppError('forbidden', 'payouts are for creators and operators');
}

const listQuery = pageQuery.extend({ status: z.enum(PAYOUT_STATUSES).optional() });
const failBody = z.strictObject({ reason: z.string().trim().min(1).max(500) });

export const payoutsEndpoints = [
  endpoint({
    method: 'POST',
    path: '/v1/payouts/run',
    summary: 'Pay out every creator balance at or above the minimum through the payout provider, and finish interrupted batches',
    tag: 'payouts',
    response: payoutRunSchema,
    access: ['operator'],
    handle: async ({ services }) => runView(await runPayoutsFor(services)),
  }),
  endpoint({
    method: 'GET',
    path: '/v1/payouts',
    summary: "Payouts: a creator's own, or all (operators); newest first (created_at)",
    tag: 'payouts',
    response: payoutListSchema,
    access: ['creator', 'operator'],
    query: listQuery,
    handle: async ({ query, principal, services }) => {
      return page(await listPayouts(services.db, { ...creatorScope(principal), status: query.status }, pageRequest(query)), payoutView);
    },
  }),
  endpoint({
    method: 'GET',
    path: '/v1/payouts/{id}',
    summary: 'One payout',
    tag: 'payouts',
    response: payoutSchema,
    access: ['creator', 'operator'],
    params: idParams,
    handle: async ({ params, principal, services }) => payoutView(await getPayout(services.db, params.id, creatorScope(principal))),
  }),
  endpoint({
    method: 'POST',
    path: '/v1/payouts/{id}/complete',
    summary: 'Confirm that a sent (manual) payout was paid: its money leaves transit',
    tag: 'payouts',
    response: payoutSchema,
    access: ['operator'],
    params: idParams,
    handle: async ({ params, services }) => payoutView(await markPayoutCompleted(services.db, params.id)),
  }),
  endpoint({
    method: 'POST',
    path: '/v1/payouts/{id}/fail',
    summary: "Record that a payout failed, with a reason: its money returns to the creator's payable balance",
    tag: 'payouts',
    response: payoutSchema,
    access: ['operator'],
    params: idParams,
    body: failBody,
    handle: async ({ params, body, services }) => payoutView(await markPayoutFailed(services.db, params.id, body.reason)),
  }),
  endpoint({
    method: 'GET',
    path: '/v1/me/balance',
    summary: "The creator's balance per currency: payable, pending on held results, in transit, receivable (never paged: one row per currency)",
    tag: 'payouts',
    response: balanceListSchema,
    access: ['creator'],
    handle: async ({ principal, services }) => {
      if (principal.kind !== 'creator') throw new AppError('forbidden', 'only creators have a balance');
      const balances = await creatorBalance(services.db, principal.id);
      return whole(
        balances.map((b) => ({
          currency: b.currency,
          available: money(b.available, b.currency),
          pending: money(b.pending, b.currency),
          in_transit: money(b.in_transit, b.currency),
          receivable: money(b.receivable, b.currency),
        })),
      );
    },
  }),
];

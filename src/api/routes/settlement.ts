import { z } from 'zod';
import { isAppError } from '../../errors/index.js';
import { campaignStatement, type CampaignStatement, STATEMENT_IDENTITY } from '../../settlement/index.js';
import { runSettlement, SETTLEMENT_LIMITS, type SettlementReport } from '../../flows/index.js';
import { endpoint } from '../endpoint.js';
import { idParams, money } from '../schemas.js';
import { awaitingView, viewerOf } from './campaigns.js';
import { settlementReportSchema, statementSchema } from '../views/settlement.js';

export function settlementReportView(r: SettlementReport) {
  return {
    approved: r.approved,
    /** Due results the release re-check sent to review instead (docs/validation.md). */
    reviewed: r.reviewed,
    batches: r.batches,
    campaigns_ended: r.campaigns_ended,
    /** Results waiting for funds held this run, and made final over_budget because their grace ended. */
    awaiting_funds: { held: r.awaiting_funds.held, expired: r.awaiting_funds.expired },
    /** Incentive bonus steps taken this run (docs/incentives.md). */
    bonuses: {
      held: r.bonuses.held,
      released: r.bonuses.released,
      paid: r.bonuses.paid,
      clawed_back: r.bonuses.clawed_back,
      failures: r.bonuses.failures.map((f) => ({
        enrolment_id: f.enrolment_id,
        period_key: f.period_key,
        code: isAppError(f.error) ? f.error.code : 'internal',
        message: isAppError(f.error) ? f.error.message : 'unexpected error; see the server log',
      })),
    },
    campaigns_settled: r.campaigns_settled.map((s) => ({
      campaign_id: s.campaign_id,
      unspent_refunded: money(s.unspent_refunded, s.currency),
      fees_refunded: money(s.fees_refunded, s.currency),
      validated: s.validated,
      kpi_target: s.kpi_target,
    })),
    // Operators see why a campaign did not settle; internals stay in the server log.
    failures: r.failures.map((f) => ({
      campaign_id: f.campaign_id,
      code: isAppError(f.error) ? f.error.code : 'internal',
      message: isAppError(f.error) ? f.error.message : 'unexpected error; see the server log',
    })),
  };
}

export const GUARANTEE_FORMULA =
  'if validated < kpi_target: refund = round_half_even(fees_standing × guarantee_bps / 10000), else 0; fees_standing = platform_fees_gross − fees of reversed results and lowered bonuses';

export function statementView(s: CampaignStatement) {
  const m = (minor: bigint) => money(minor, s.campaign.currency);
  return {
    campaign: s.campaign,
    creator_id: s.creator_id,
    funded: m(s.funded),
    paid_to_creators: m(s.paid_to_creators),
    clawed_back: m(s.clawed_back),
    platform_fees_gross: m(s.platform_fees_gross),
    fees_returned: m(s.fees_returned),
    fees_refunded: m(s.fees_refunded),
    platform_fees_kept: m(s.platform_fees_kept),
    unspent_refunded: m(s.unspent_refunded),
    clawbacks_refunded: m(s.clawbacks_refunded),
    fees_returned_to_brand: m(s.fees_returned_to_brand),
    escrow_balance: m(s.escrow.held + s.escrow.available),
    escrow: {
      held: m(s.escrow.held),
      available: m(s.escrow.available),
      closed: s.escrow.closed,
      low: s.escrow.low,
      low_threshold: s.escrow.low_threshold === null ? null : m(s.escrow.low_threshold),
    },
    awaiting_funds: awaitingView(s.awaiting_funds, s.campaign.currency),
    bonuses: {
      held: m(s.bonuses.held),
      paid: m(s.bonuses.paid),
      fees: m(s.bonuses.fees),
      clawed_back: m(s.bonuses.clawed_back),
      shortfall: m(s.bonuses.shortfall),
      periods: s.bonuses.periods,
      periods_held: s.bonuses.periods_held,
    },
    results: Object.fromEntries(s.results.map((r) => [r.status, { count: r.count, reasons: r.reasons }])),
    creators: s.creators.map((c) => ({
      creator_id: c.creator_id,
      results: c.results,
      shared_results: c.shared_results,
      credited_conversions: Math.round(c.credited * 1e6) / 1e6,
      earned: m(c.earned),
      held: m(c.held),
      awaiting_funds: m(c.awaiting),
    })),
    kpi: { target: s.guarantee.kpi_target, validated: s.guarantee.validated, met: s.guarantee.kpi_met },
    guarantee: {
      guarantee_bps: s.guarantee.guarantee_bps,
      decided: s.guarantee.decided,
      applied: s.guarantee.applied,
      fees_standing: m(s.guarantee.fees_standing),
      refund_due: m(s.guarantee.refund_due),
      formula: GUARANTEE_FORMULA,
    },
    identity: STATEMENT_IDENTITY,
    reconciles: s.reconciles,
  };
}

const runBody = z.strictObject({ batch_size: z.number().int().min(1).max(SETTLEMENT_LIMITS.batch_size_max).optional() });

export const settlementEndpoints = [
  endpoint({
    method: 'POST',
    path: '/v1/settlement/run',
    summary: 'Settle now: approve results past their hold, end campaigns past their end, settle ended campaigns whose holds are resolved',
    tag: 'settlement',
    response: settlementReportSchema,
    access: ['operator'],
    body: runBody,
    handle: async ({ body, services }) =>
      settlementReportView(await runSettlement(services.db, body.batch_size ? { batchSize: body.batch_size } : {})),
  }),
  endpoint({
    method: 'GET',
    path: '/v1/campaigns/{id}/statement',
    summary:
      "A campaign's statement from the ledger: funded, paid, fees, guarantee refund, unspent refund, escrow, results; figures reconcile exactly. A creator reads a campaign they joined, with their own lines only",
    tag: 'settlement',
    response: statementSchema,
    access: ['organization', 'operator', 'creator'],
    params: idParams,
    handle: async ({ params, principal, services }) => statementView(await campaignStatement(services.db, viewerOf(principal), params.id)),
  }),
];

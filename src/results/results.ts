import type { EnrolmentWithTerms } from '../campaigns/index.js';
import { grossPayout, type Terms } from '../terms/index.js';
import { allocate } from '../money/index.js';

/**
 * Results: what creators are paid for. A click or a conversion becomes a hold in src/flows/hold.ts:
 * recording a result reserves its payout on the campaign escrow (two linked pending transfers, net to
 * the creator's payable and fee to the platform), in the same database transaction as the result row.
 * Settlement posts the hold; a rejection voids it (src/flows/release.ts). Nothing is ever released by
 * default: a result is paid only by `approveDue` once its hold period has passed, nobody rejected it,
 * and the engine still calls its traffic valid; a result in `review` is never paid until an operator
 * approves it. This file keeps the results' types and pure parts; their SQL is in ./repository.ts.
 *
 *   pending ──(hold period, re-check valid)──▶ approved ──(operator: reverse)──▶ reversed
 *      │  └──(re-check not valid)──▶ review ──(operator: approve)──▶ pending (reviewed)
 *      └──(brand or operator: reject)──▶ rejected ◀──(reject)── review
 *
 * A result the escrow cannot cover — or that arrives while its campaign is paused for budget — is
 * `awaiting_funds` instead (no hold; src/results/funds.ts): held, in arrival order, once the brand
 * tops up and resumes (→ pending, or review for a review verdict), or final `over_budget` when the
 * terms' grace period ends. The brand may reject it meanwhile (nothing to void).
 */
export const RESULT_KINDS = ['click', 'lead', 'sale', 'views'] as const;
export type ResultKind = (typeof RESULT_KINDS)[number];
export const RESULT_STATUSES = ['pending', 'review', 'approved', 'rejected', 'over_budget', 'reversed', 'awaiting_funds'] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];
export { type Actor, type ActorKind, decisionsOf, type ResultDecision } from './decisions.js';
export { RECHECK_LIMITS } from './recheck.js';
export { holdLegs } from './holds.js';
export {
  type AwaitingFunds,
  awaitingFundsOf,
  expireAwaitingFunds,
  FUNDS_LIMITS,
  campaignsWithAwaitingFunds,
  heldAs,
  nextAwaiting,
} from './funds.js';
export { type ReviewEvidence, type ReviewItem, reviewQueue } from './review.js';

export interface ResultDraft {
  kind: ResultKind;
  /** The click, conversion or view report this result comes from (unique per kind). */
  sourceId: string;
  enrolment: EnrolmentWithTerms;
  occurredAt: Date;
  customerId?: string | null;
  orderAmount?: bigint;
  views?: bigint;
  /** Validation's reason codes: any makes the result rejected, with no hold. */
  rejectReasons?: readonly string[];
  /** Validation's reason codes for a result held for a person: `review`, never released on its own. */
  reviewReasons?: readonly string[];
  /** What conditional rates match on (incentives' rate overrides): the customer's country, the product. */
  attributes?: { country?: string | null; sku?: string | null };
  /** One creator's part of a source credited to several (see `splitDraft`); absent: the whole of it. */
  part?: ResultPart;
}

export interface ResultPart {
  /** This part's gross: its share of `sourceGross`, exactly allocated. */
  gross: bigint;
  /** The attribution model's share of the source, (0, 1]. */
  share: number;
  /** What the whole source costs the brand: the gross a single-creator result would have had. */
  sourceGross: bigint;
  /** The terms the whole source is paid on (the credited conversion's, i.e. its last-click creator's). */
  terms: Terms;
  model: string;
}

export interface Result {
  id: string;
  campaign_id: string;
  enrolment_id: string;
  creator_id: string;
  kind: ResultKind;
  source_id: string;
  status: ResultStatus;
  reasons: string[];
  currency: string;
  gross: bigint;
  fee: bigint;
  customer_id: string | null;
  occurred_at: Date;
  recorded_at: Date;
  /** When the hold period ends. While `awaiting_funds`, provisional: recorded_at + the hold period, moved when the hold is placed. */
  hold_until: Date;
  hold_id: string | null;
  /** When a result that waited for funds stops waiting (its grace period ends); null for one that never waited. */
  awaiting_until: Date | null;
  decided_at: Date | null;
  decided_by: string | null;
  decision_note: string | null;
  /** An operator approved it after a review: the release re-check leaves it alone. */
  reviewed: boolean;
  /** What the result earned when the incentives' caps cut it at payment (src/results/caps.ts); null: its gross. */
  paid_gross?: bigint | null;
  /** Multi-touch: this creator's share of the source (null: all of it), what the whole source cost, the model. */
  share: number | null;
  source_gross: bigint | null;
  model: string | null;
}

/** A credited creator, as attribution splits a source: a share for display, an integer weight for money. */
export interface Credit {
  enrolment: EnrolmentWithTerms;
  share: number;
  weight: number;
  /** Reasons this creator's part alone is refused (e.g. self_referral by a creator other than the judged one). */
  rejectReasons?: readonly string[];
}

/**
 * A source credited to several creators (multi-touch attribution), as one draft per credited creator:
 * the gross a single-creator result would have (on the draft's terms, conditional rates included) is
 * allocated by the credits' integer weights (largest remainder, ties to the earlier credit), so the
 * parts always sum to it exactly — attribution never makes a result dearer for the brand. A creator
 * whose part rounds to nothing gets no result; a source with no payout at all stays one draft.
 */
export function splitDraft(d: ResultDraft, credits: readonly Credit[], model: string): ResultDraft[] {
  if (credits.length === 0) return [d];
  const terms = d.enrolment.terms;
  const sourceGross = grossPayout(terms, { orderAmount: d.orderAmount, views: d.views, ...d.attributes });
  if (sourceGross <= 0n) return [d];
  const parts = allocate(sourceGross, credits.map((c) => c.weight));
  return credits.flatMap((c, i): ResultDraft[] => {
    if (parts[i]! <= 0n) return [];
    const part = { ...d, enrolment: c.enrolment, part: { gross: parts[i]!, share: c.share, sourceGross, terms, model } };
    if (!c.rejectReasons?.length) return [part];
    const { reviewReasons: _review, ...rest } = part;
    return [{ ...rest, rejectReasons: [...(d.rejectReasons ?? []), ...c.rejectReasons] }];
  });
}

/** A result is unique per (kind, source, enrolment): one part per credited creator. */
export function draftKey(d: ResultDraft): string {
  return `${d.kind}:${d.sourceId}:${d.enrolment.id}`;
}

export function resultKey(r: Pick<Result, 'kind' | 'source_id' | 'enrolment_id'>): string {
  return `${r.kind}:${r.source_id}:${r.enrolment_id}`;
}

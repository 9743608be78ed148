import type { Kysely } from 'kysely';
import { enrolmentsByIds, type EnrolmentWithTerms } from '../campaigns/index.js';
import { AppError, assert } from '../errors/index.js';
import { newId } from '../ids/index.js';
import { type Result, type ResultDraft, splitDraft } from '../results/index.js';
import { recordResultsGrouped } from './hold.js';
import { ipHashSalt } from '../tracking/index.js';
import { customerIpHash, engineValidator, type Validator, type VerdictLevel } from '../judging/index.js';
import { isSelfReferral, normaliseEmail } from '../validation/index.js';
import { ruleSettingsFor } from '../terms/index.js';
import { type Attribution, completeConversion, conversionById, type ConversionRequest, type ConversionRow, type ConversionStatus, creatorContacts, type CreditSplit, type Device, firstDifference, hasEarlierLead, lockCampaignDecisions, type NewConversion, objectiveReasons, promoReasons, promoUses, recordingConversions, requestHash } from '../conversions/index.js';

/**
 * The decision on a conversion, shared by every intake (src/flows/conversion-batch.ts decides one or
 * many in one transaction): idempotent on (brand, external_id) with the ledger's semantics — the same
 * request again answers the stored answer; a different one is idempotency_conflict naming the first
 * differing field — then attribution, validation, the credit split and one result draft per credited
 * creator. A conversion that an older version left 'recording' (decided, its result not yet recorded:
 * a crash between two transactions) is finished exactly as it was decided (`finish`).
 */
export interface ConversionOutcome {
  conversion: { id: string; external_id: string; status: ConversionStatus; campaign_id: string | null };
  /** The last-click creator's part (the one validation judged), or the largest part when that creator's rounded to nothing. */
  result: Result | null;
  /** Every credited creator's part, in journey order (one for a conversion credited to one creator). */
  results: Result[];
  /** The model that split it, and why linear stood in when it did. */
  attribution: { model: string; fallback: string | null } | null;
}

/** Turns an outcome into the wire answer, which is stored so a replay answers exactly the same. */
export type Presenter = (outcome: ConversionOutcome) => unknown;

export interface Decision {
  orgId: string;
  request: ConversionRequest;
  orderAmount: bigint | null;
  device: Device;
  validator: Validator;
  present: Presenter;
}

/** One validator per process: the engine over the shipped data-centre ranges and the lead checker. */
let defaultValidator: Validator | undefined;
export function conversionValidator(): Validator {
  defaultValidator ??= engineValidator();
  return defaultValidator;
}

export function requireSameRequest(existing: ConversionRow, request: ConversionRequest): void {
  if (existing.request_sha256 === requestHash(request)) return;
  const field = firstDifference(existing.request, request) ?? 'external_id';
  throw new AppError('idempotency_conflict', `external_id ${request.external_id} was recorded with a different ${field}`, {
    details: { field },
  });
}

type Decided = 'status' | 'response' | 'campaign_id' | 'enrolment_id' | 'attributed_by' | 'click_id' | 'reasons' | 'verdict' | 'ip_hash';

/** The customer as conversions are compared (lead de-duplication, promo uses, decision locks). */
export function customerOf(d: Decision): { id: string; email: string | null } {
  return { id: d.request.customer.id, email: d.request.customer.email ? normaliseEmail(d.request.customer.email) : null };
}

/** What every conversion stores, attributed or not. */
export function base(d: Decision, occurredAt: Date): Omit<NewConversion, Decided> {
  const customer = customerOf(d);
  return {
    id: newId('cnv'),
    org_id: d.orgId,
    external_id: d.request.external_id,
    request: d.request,
    request_sha256: requestHash(d.request),
    type: d.request.type,
    customer_id: customer.id,
    customer_email: customer.email,
    order_amount: d.orderAmount,
    occurred_at: occurredAt,
    user_agent: d.device.userAgent,
    sku: d.request.sku,
  };
}

/**
 * The journey and the model's split, stored with the decided conversion: a retry after a crash
 * records exactly these parts. Each touch's credit is its creator's share spread evenly over that
 * creator's touches.
 */
export function withJourney(row: NewConversion, a: Attribution, split: CreditSplit): NewConversion {
  const shareOf = new Map(split.credits.map((c) => [c.enrolment.creator_id, c.share]));
  const touchesOf = new Map<string, number>();
  for (const t of a.touches) touchesOf.set(t.creator_id, (touchesOf.get(t.creator_id) ?? 0) + 1);
  return {
    ...row,
    touches: a.touches.map((t) => ({ ...t, credit: (shareOf.get(t.creator_id) ?? 0) / (touchesOf.get(t.creator_id) ?? 1) })),
    split: {
      model: split.model,
      fallback: split.fallback,
      credits: split.credits.map((c) => ({
        enrolment_id: c.enrolment.id,
        creator_id: c.enrolment.creator_id,
        share: c.share,
        weight: c.weight,
        ...(c.rejectReasons?.length ? { reasons: [...c.rejectReasons] } : {}),
      })),
    },
  };
}

/**
 * The creators credited besides the judged (last-click) one, checked for what concerns them alone: a
 * customer who is that creator (same email or phone) makes their part `self_referral` — rejected, no
 * hold — while the others' parts stand. The engine judged the conversion once, on its last-click
 * creator, and never saw the others.
 */
export async function checkCredits(ctx: DecisionContext, d: Decision, a: Attribution, split: CreditSplit): Promise<CreditSplit> {
  if (split.credits.length <= 1 && split.credits[0]?.enrolment.id === a.enrolment.id) return split;
  if (ruleSettingsFor(a.enrolment.terms.validation).data?.self_referral.enabled === false) return split;
  const { email, phone, country } = d.request.customer;
  if (email === null && phone === null) return split;
  const credits = [];
  for (const c of split.credits) {
    if (c.enrolment.id === a.enrolment.id) credits.push(c);
    else {
      const own = await ctx.creatorContact(c.enrolment.creator_id);
      credits.push(isSelfReferral({ email, phone, country }, own) ? { ...c, rejectReasons: ['self_referral'] } : c);
    }
  }
  return { ...split, credits };
}

/**
 * A decided conversion's result drafts: one per credited creator (see splitDraft), priced on the
 * last-click creator's accepted terms, the customer's country and the product for conditional rates.
 */
export function resultDrafts(row: NewConversion, primary: EnrolmentWithTerms, credited: ReadonlyMap<string, EnrolmentWithTerms>): ResultDraft[] {
  const draft: ResultDraft = {
    kind: row.type,
    sourceId: row.id,
    enrolment: primary,
    occurredAt: row.occurred_at,
    customerId: row.customer_id,
    attributes: { country: row.request.customer.country ?? null, sku: row.sku ?? null },
    ...(row.order_amount !== null ? { orderAmount: row.order_amount } : {}),
    ...resultVerdict(row),
  };
  const split = row.split;
  // Credited to the last-click creator alone: the whole result is theirs, as before multi-touch.
  if (!split || (split.credits.length === 1 && split.credits[0]!.enrolment_id === primary.id)) return [draft];
  const credits = split.credits.map((c) => {
    const enrolment = c.enrolment_id === primary.id ? primary : credited.get(c.enrolment_id);
    assert(enrolment, `conversion ${row.id} credits enrolment ${c.enrolment_id}, which does not exist`);
    return { enrolment, share: c.share, weight: c.weight, ...(c.reasons ? { rejectReasons: c.reasons } : {}) };
  });
  return splitDraft(draft, credits, split.model);
}

/** The outcome of a conversion from its parts: the primary's part leads, and gives the conversion its status. */
export function outcomeOf(row: NewConversion, parts: Result[]): ConversionOutcome {
  assert(parts.length > 0, `conversion ${row.id} has no result`);
  const result = parts.find((r) => r.enrolment_id === row.enrolment_id) ?? [...parts].sort((a, b) => (b.share ?? 1) - (a.share ?? 1))[0]!;
  const conversion = { id: row.id, external_id: row.external_id, status: statusOf(result), campaign_id: row.campaign_id };
  return { conversion, result, results: parts, attribution: row.split ? { model: row.split.model, fallback: row.split.fallback } : null };
}

export function unattributed(d: Decision, occurredAt: Date): NewConversion {
  const b = base(d, occurredAt);
  const conversion = { id: b.id, external_id: b.external_id, status: 'unattributed' as const, campaign_id: null };
  const response = d.present({ conversion, result: null, results: [], attribution: null });
  return {
    ...b,
    status: 'unattributed',
    response,
    campaign_id: null,
    enrolment_id: null,
    attributed_by: null,
    click_id: null,
    reasons: [],
    verdict: null,
    ip_hash: null,
  };
}

/**
 * What judging reads besides the conversion itself: the database for one conversion, or sets fetched
 * once for a whole batch, to which each decided conversion is added so the next one sees it.
 */
export interface DecisionContext {
  /** Takes the campaign decision locks (see lockCampaignDecisions); a batch took them all already. */
  lockDecisions(p: { campaignId: string; customerId: string; email: string | null; cappedEnrolmentId: string | null }): Promise<void>;
  creatorContact(creatorId: string): Promise<{ email: string; phone: string | null }>;
  /** The installation's salt for hashing IP addresses (the click tracker's). */
  ipSalt(): Promise<string>;
  hasEarlierLead(campaignId: string, customer: { id: string; email: string | null }): Promise<boolean>;
  /** Accepted uses of the enrolment's promo code: in all (only when `countAll`) and by this customer. */
  promoUses(enrolmentId: string, customer: { id: string; email: string | null }, countAll: boolean): Promise<{ total: number; byCustomer: number }>;
}

export function databaseContext(trx: Kysely<any>): DecisionContext {
  return {
    lockDecisions: (p) => lockCampaignDecisions(trx, p),
    creatorContact: async (id) => {
      const found = (await creatorContacts(trx, [id])).get(id);
      if (!found) throw new AppError('not_found', `no creator ${id}`);
      return found;
    },
    ipSalt: () => ipHashSalt(trx),
    hasEarlierLead: (campaignId, customer) => hasEarlierLead(trx, campaignId, customer),
    promoUses: (enrolmentId, customer, countAll) => promoUses(trx, enrolmentId, customer, countAll),
  };
}

export async function judge(ctx: DecisionContext, d: Decision, a: Attribution, occurredAt: Date): Promise<NewConversion> {
  const { enrolment, click } = a;
  if (d.request.currency !== null && d.request.currency !== enrolment.terms.currency) {
    const message = `the campaign pays in ${enrolment.terms.currency}, not ${d.request.currency}`;
    throw new AppError('currency_mismatch', message, { details: { field: 'currency' } });
  }
  const b = base(d, occurredAt);
  await ctx.lockDecisions({
    campaignId: enrolment.campaign_id,
    customerId: b.customer_id,
    email: b.customer_email,
    cappedEnrolmentId: a.by === 'promo' && enrolment.promo_max_uses !== null ? enrolment.id : null,
  });
  const customer = { id: b.customer_id, email: b.customer_email };
  const { request } = d;
  const judged = await d.validator.validateConversion({
    id: b.id,
    kind: request.type,
    campaignId: enrolment.campaign_id,
    occurredAt,
    terms: enrolment.terms,
    customer: { ...request.customer, age: request.customer.age ?? null },
    device: d.device,
    creator: { id: enrolment.creator_id, ...(await ctx.creatorContact(enrolment.creator_id)) },
    click: click
      ? {
          id: click.id,
          occurredAt: click.occurred_at,
          ipHash: click.ip_hash,
          userAgent: click.user_agent,
          referrer: click.referrer,
          landingUrl: click.landing_url,
          status: click.status,
        }
      : null,
    promoCode: request.promo_code,
    amount: request.amount,
    currency: request.currency,
    history: { hasEarlierLead: (campaignId, c) => ctx.hasEarlierLead(campaignId, c) },
  });
  const promo = a.by === 'promo' ? promoReasons(enrolment, await ctx.promoUses(enrolment.id, customer, enrolment.promo_max_uses !== null)) : [];
  // The brand's own rules (what the campaign pays for, promo-code limits) refuse outright.
  const refused = [...objectiveReasons(enrolment.terms.objective, request.type), ...promo];
  const verdict: VerdictLevel = refused.length > 0 ? 'invalid' : judged.verdict;
  return {
    ...b,
    status: 'recording',
    response: {},
    campaign_id: enrolment.campaign_id,
    enrolment_id: enrolment.id,
    attributed_by: a.by,
    click_id: click?.id ?? null,
    reasons: [...refused, ...judged.reasons],
    verdict,
    ip_hash: d.device.ip === null ? null : customerIpHash(await ctx.ipSalt(), d.device.ip),
  };
}

/** What a decided conversion asks of its result: rejected with its reasons, held for review, or held. */
export function resultVerdict(row: Pick<NewConversion, 'verdict' | 'reasons'>): Pick<ResultDraft, 'rejectReasons' | 'reviewReasons'> {
  if (row.verdict === 'review') return { reviewReasons: row.reasons };
  return { rejectReasons: row.reasons };
}

/** Records the decided result (idempotent on the conversion id) and stores the answer. */
export async function finish(db: Kysely<any>, row: NewConversion, present: Presenter): Promise<unknown> {
  assert(row.enrolment_id && row.campaign_id, `conversion ${row.id} is recording without an enrolment`);
  const credited = await enrolmentsByIds(db, [row.enrolment_id, ...(row.split?.credits.map((c) => c.enrolment_id) ?? [])]);
  const enrolment = credited.find((e) => e.id === row.enrolment_id);
  assert(enrolment, `conversion ${row.id} names enrolment ${row.enrolment_id}, which does not exist`);
  const parts = await recordResultsGrouped(db, resultDrafts(row, enrolment, new Map(credited.map((e) => [e.id, e]))));
  const outcome = outcomeOf(row, parts);
  await completeConversion(db, row.id, { status: outcome.conversion.status, resultId: outcome.result!.id, response: present(outcome) });
  const done = await conversionById(db, row.id);
  assert(done && done.status !== 'recording', `conversion ${row.id} is still recording after its result`);
  return done.response;
}

/**
 * Finishes conversions left 'recording' by a crash between their two transactions and not retried by
 * the brand since: each gets its decided result and answer, exactly as a retry would. Idempotent and
 * bounded; a conversion being finished by a request at the same moment ends the same way.
 */
export async function finishRecordingConversions(
  db: Kysely<any>,
  present: Presenter,
  options: { olderThanSeconds?: number; limit?: number } = {},
): Promise<number> {
  const rows = await recordingConversions(db, options.olderThanSeconds ?? 60, options.limit ?? 100);
  for (const row of rows) await finish(db, row, present);
  return rows.length;
}

export function statusOf(r: Result): ConversionStatus {
  if (r.status === 'rejected') return 'rejected';
  if (r.status === 'over_budget') return 'over_budget';
  return 'attributed';
}

import type { Kysely } from 'kysely';
import { enrolmentById } from '../campaigns/index.js';
import { databaseNow, inTransaction, RetryableConflict, sqlState } from '../db/index.js';
import { AppError, assert } from '../errors/index.js';
import { newId } from '../ids/index.js';
import { recordResultsGrouped, type Result, type ResultDraft } from '../results/index.js';
import { ipHashSalt } from '../tracking/repository.js';
import { customerIpHash } from '../validation/live/index.js';
import { engineValidator, normaliseEmail, type Validator, type VerdictLevel } from '../validation/index.js';
import { type Attribution, attribute, databaseLookups, objectiveReasons, promoReasons } from './attribution.js';
import { type ConversionInput, type ConversionRequest, type Device, firstDifference, normaliseRequest, requestHash } from './input.js';
import {
  type ConversionRow,
  type ConversionStatus,
  completeConversion,
  conversionById,
  creatorContacts,
  findConversion,
  hasEarlierLead,
  insertConversion,
  lockCampaignDecisions,
  lockExternalId,
  type NewConversion,
  promoUses,
  recordingConversions,
} from './repository.js';

/**
 * Recording a conversion, idempotent on (brand, external_id) with the ledger's semantics: the same
 * request again answers the stored answer; a different one is idempotency_conflict naming the first
 * differing field.
 *
 * Two transactions, because `recordResults` commits its own: first the decision (attribution and
 * validation, under an advisory lock on the key, inserted with the conversion), then the result and
 * its hold. Between them the conversion is 'recording'; whoever reads it next — the caller, a retry
 * after a crash, a concurrent duplicate — finishes that same stored decision, and `recordResults` is
 * idempotent on the conversion id, so there is exactly one result and one hold.
 */
export interface ConversionOutcome {
  conversion: { id: string; external_id: string; status: ConversionStatus; campaign_id: string | null };
  result: Result | null;
}

/** Turns an outcome into the wire answer, which is stored so a replay answers exactly the same. */
export type Presenter = (outcome: ConversionOutcome) => unknown;

/** A conversion may be dated at most this far ahead of the database clock (clock skew). */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

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

export async function recordConversion(
  db: Kysely<any>,
  p: { orgId: string; input: ConversionInput; present: Presenter; validator?: Validator },
): Promise<{ created: boolean; answer: unknown }> {
  const { request, orderAmount, device } = normaliseRequest(p.input);
  const d: Decision = { orgId: p.orgId, request, orderAmount, device, validator: p.validator ?? conversionValidator(), present: p.present };
  const decided = await inTransaction(db, (trx) => decide(trx, d));
  const answer = decided.row.status === 'recording' ? await finish(db, decided.row, p.present) : decided.row.response;
  return { created: decided.created, answer };
}

async function decide(trx: Kysely<any>, d: Decision): Promise<{ row: NewConversion; created: boolean }> {
  await lockExternalId(trx, d.orgId, d.request.external_id);
  const existing = await findConversion(trx, d.orgId, d.request.external_id);
  if (existing) {
    requireSameRequest(existing, d.request);
    return { row: existing, created: false };
  }
  const now = await databaseNow(trx);
  const occurredAt = d.request.occurred_at ? new Date(d.request.occurred_at) : now;
  if (occurredAt.getTime() > now.getTime() + MAX_FUTURE_SKEW_MS) {
    throw new AppError('invalid_request', `occurred_at is in the future (now is ${now.toISOString()})`, { details: { field: 'occurred_at' } });
  }
  const attribution = await attribute(databaseLookups(trx), d.orgId, d.request, occurredAt);
  const row = attribution ? await judge(databaseContext(trx), d, attribution, occurredAt) : unattributed(d, occurredAt);
  try {
    await insertConversion(trx, row);
  } catch (e) {
    // Only if two keys' advisory locks did not serialise them (they always should): start over.
    if (sqlState(e) === '23505') throw new RetryableConflict(`conversion ${d.request.external_id} was recorded concurrently`);
    throw e;
  }
  return { row, created: true };
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
  };
}

export function unattributed(d: Decision, occurredAt: Date): NewConversion {
  const b = base(d, occurredAt);
  const conversion = { id: b.id, external_id: b.external_id, status: 'unattributed' as const, campaign_id: null };
  const response = d.present({ conversion, result: null });
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
async function finish(db: Kysely<any>, row: NewConversion, present: Presenter): Promise<unknown> {
  assert(row.enrolment_id && row.campaign_id, `conversion ${row.id} is recording without an enrolment`);
  const enrolment = await enrolmentById(db, row.enrolment_id);
  assert(enrolment, `conversion ${row.id} names enrolment ${row.enrolment_id}, which does not exist`);
  const [result] = await recordResultsGrouped(db, [
    {
      kind: row.type,
      sourceId: row.id,
      enrolment,
      occurredAt: row.occurred_at,
      customerId: row.customer_id,
      ...(row.order_amount !== null ? { orderAmount: row.order_amount } : {}),
      ...resultVerdict(row),
    },
  ]);
  assert(result, `recordResults returned no result for conversion ${row.id}`);
  const status = statusOf(result);
  const conversion = { id: row.id, external_id: row.external_id, status, campaign_id: row.campaign_id };
  await completeConversion(db, row.id, { status, resultId: result.id, response: present({ conversion, result }) });
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

/** A conversion as the brand lists it (the recorded answer is returned by POST only). */
export async function getConversion(db: Kysely<any>, orgId: string, id: string): Promise<ConversionRow> {
  const row = await conversionById(db, id, orgId);
  if (!row) throw new AppError('not_found', `no conversion ${id}`);
  return row;
}

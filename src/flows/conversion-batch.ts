import type { Kysely, Transaction } from 'kysely';
import { databaseNow, GroupCommit, inTransaction } from '../db/index.js';
import { AppError, assert } from '../errors/index.js';
import type { Validator } from '../judging/index.js';
import { recordResultsIn } from './hold.js';
import { attribute, type Attribution, campaignDecisionKeys, completeConversions, type ConversionInput, type ConversionRow, creditSplit, type CreditSplit, findConversion, findConversions, insertConversions, lockExternalIds, lockManyCampaignDecisions, type NewConversion, normaliseRequest, occurredAtOf, requestHash } from '../conversions/index.js';
import { type BatchDecisionContext, prefetchAttribution, prefetchDecisions } from './conversion-context.js';
import { checkCredits, conversionValidator, customerOf, type Decision, judge, outcomeOf, type Presenter, finish, requireSameRequest, resultDrafts, unattributed, withJourney } from './conversion.js';

/**
 * Group commit for conversions: request handlers submit one conversion each; concurrent ones are
 * decided and recorded together in ONE transaction — idempotency, attribution, validation, the
 * conversion rows, their results and escrow holds — so the per-conversion cost is a few statements
 * instead of three transactions. Same semantics as `recordConversion`: every lock the single path
 * takes is taken here too (all external ids, then all decision keys, each set in sorted order), and a
 * conversion decided earlier in the batch is visible to the ones after it (duplicate leads, promo
 * uses). A conversion's own mistake (an idempotency conflict, a future date, a currency that is not
 * the campaign's) fails only that conversion.
 */
export interface ConversionSubmission {
  orgId: string;
  input: ConversionInput;
  present: Presenter;
  /** The judge (default: the engine over the shipped data-centre ranges, `conversionValidator()`). */
  validator?: Validator;
}

type Outcome = { created: boolean; answer: unknown } | { error: unknown } | { single: true };

const groups = new WeakMap<Kysely<any>, GroupCommit<ConversionSubmission, Outcome>>();

export async function recordConversionGrouped(db: Kysely<any>, p: ConversionSubmission): Promise<{ created: boolean; answer: unknown }> {
  let group = groups.get(db);
  if (!group) {
    group = new GroupCommit((items) => recordConversionBatch(db, items), { maxBatchSize: 200, maxInFlight: 2 });
    groups.set(db, group);
  }
  const [outcome] = await group.submit([p]);
  if (!outcome || 'single' in outcome) return recordConversion(db, p);
  if ('error' in outcome) throw outcome.error;
  return outcome;
}

/**
 * One conversion on its own (outside the group commit): the same decision as a batch, in a batch of
 * one. The one case a batch leaves to it is a conversion an older version's crash left 'recording'
 * (decided, its result not recorded): that one is finished exactly as it was decided.
 */
export async function recordConversion(db: Kysely<any>, p: ConversionSubmission): Promise<{ created: boolean; answer: unknown }> {
  const [outcome] = await recordConversionBatch(db, [p]);
  if (outcome && 'error' in outcome) throw outcome.error;
  if (outcome && !('single' in outcome)) return outcome;
  const { request } = normaliseRequest(p.input);
  const row = await findConversion(db, p.orgId, request.external_id);
  assert(row, `conversion ${request.external_id} was left to the single path but is not recorded`);
  requireSameRequest(row, request);
  return { created: false, answer: row.status === 'recording' ? await finish(db, row, p.present) : row.response };
}

interface Pending {
  index: number;
  d: Decision;
  key: string;
}

export async function recordConversionBatch(db: Kysely<any>, items: readonly ConversionSubmission[]): Promise<Outcome[]> {
  const early: Outcome[] = new Array(items.length);
  const pending: Pending[] = [];
  items.forEach((item, index) => {
    try {
      const { request, orderAmount, device } = normaliseRequest(item.input);
      const d: Decision = { orgId: item.orgId, request, orderAmount, device, validator: item.validator ?? conversionValidator(), present: item.present };
      pending.push({ index, d, key: `${item.orgId}:${request.external_id}` });
    } catch (error) {
      early[index] = { error };
    }
  });
  const decided = await inTransaction(db, (trx) => decideBatch(trx, pending));
  return items.map((_, i) => early[i] ?? decided.get(i) ?? { single: true });
}

async function decideBatch(trx: Transaction<any>, pending: readonly Pending[]): Promise<Map<number, Outcome>> {
  const outcomes = new Map<number, Outcome>();
  await lockExternalIds(trx, pending.map((p) => ({ orgId: p.d.orgId, externalId: p.d.request.external_id })));
  const existing = new Map(
    (await findConversions(trx, pending.map((p) => ({ orgId: p.d.orgId, externalId: p.d.request.external_id })))).map((r) => [
      `${r.org_id}:${r.external_id}`,
      r,
    ]),
  );
  const now = await databaseNow(trx);
  const fresh: Fresh[] = [];
  const firstInBatch = new Map<string, Pending>();
  for (const p of pending) {
    const known = existing.get(p.key);
    const earlier = firstInBatch.get(p.key);
    try {
      if (known) {
        requireSameRequest(known, p.d.request);
        // A conversion a crash left half-recorded is finished by the single path, after this batch.
        if (known.status !== 'recording') outcomes.set(p.index, { created: false, answer: known.response });
        continue;
      }
      if (earlier) {
        requireSameRequest({ request: earlier.d.request, request_sha256: requestHash(earlier.d.request) } as ConversionRow, p.d.request);
        continue; // answered below with the first one's answer, as a replay
      }
      firstInBatch.set(p.key, p);
      const occurredAt = occurredAtOf(p.d.request, now);
      fresh.push({ p, occurredAt, attribution: null, split: null });
    } catch (error) {
      outcomes.set(p.index, { error });
    }
  }
  const lookups = await prefetchAttribution(trx, fresh.map((f) => ({ d: f.p.d, occurredAt: f.occurredAt })));
  for (const f of fresh) {
    f.attribution = await attribute(lookups, f.p.d.orgId, f.p.d.request, f.occurredAt);
    f.split = f.attribution ? await creditSplit(lookups, f.attribution, f.occurredAt) : null;
  }
  await lockManyCampaignDecisions(trx, fresh.flatMap(({ p, attribution: a }) => (a ? decisionKeys(p.d, a) : [])));
  const context = await prefetchDecisions(
    trx,
    fresh.flatMap(({ p, attribution }) => (attribution ? [{ d: p.d, attribution }] : [])),
  );
  const rows = await decideFresh(context, fresh, outcomes);
  await insertConversions(trx, rows.map((r) => r.row));
  await recordAndAnswer(trx, rows, outcomes);
  for (const p of pending) {
    const first = firstInBatch.get(p.key);
    if (outcomes.has(p.index) || !first || first === p) continue;
    const answer = outcomes.get(first.index);
    if (answer && 'answer' in answer) outcomes.set(p.index, { created: false, answer: answer.answer });
  }
  return outcomes;
}

interface Fresh {
  p: Pending;
  occurredAt: Date;
  attribution: Attribution | null;
  split: CreditSplit | null;
}

function decisionKeys(d: Decision, a: Attribution): string[] {
  const customer = customerOf(d);
  return campaignDecisionKeys({
    campaignId: a.enrolment.campaign_id,
    customerId: customer.id,
    email: customer.email,
    cappedEnrolmentId: a.by === 'promo' && a.enrolment.promo_max_uses !== null ? a.enrolment.id : null,
  });
}

interface Decided {
  p: Pending;
  row: NewConversion;
  attribution: Attribution | null;
  split: CreditSplit | null;
}

/** Judges each new conversion in order; each one decided is noted, so later ones see it. */
async function decideFresh(context: BatchDecisionContext, fresh: readonly Fresh[], outcomes: Map<number, Outcome>): Promise<Decided[]> {
  const rows: Decided[] = [];
  for (const { p, occurredAt, attribution, split } of fresh) {
    try {
      const row =
        attribution && split
          ? withJourney(await judge(context, p.d, attribution, occurredAt), attribution, await checkCredits(context, p.d, attribution, split))
          : unattributed(p.d, occurredAt);
      context.note(row);
      rows.push({ p, row, attribution, split });
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      outcomes.set(p.index, { error });
    }
  }
  return rows;
}

/** Records the results (and their holds) of the attributed conversions, then stores every answer. */
async function recordAndAnswer(trx: Transaction<any>, rows: readonly Decided[], outcomes: Map<number, Outcome>): Promise<void> {
  const recording = rows.filter((r) => r.row.status === 'recording' && r.attribution);
  const draftsOf = recording.map(({ row, attribution, split }) =>
    resultDrafts(row, (attribution as Attribution).enrolment, new Map((split?.credits ?? []).map((c) => [c.enrolment.id, c.enrolment]))),
  );
  const results = await recordResultsIn(trx, draftsOf.flat());
  const completed: Parameters<typeof completeConversions>[1][number][] = [];
  let at = 0;
  for (const [i, { p, row }] of recording.entries()) {
    const parts = results.slice(at, at + draftsOf[i]!.length);
    at += draftsOf[i]!.length;
    if (parts.length === 0) throw new AppError('internal', `no result for conversion ${row.id}`);
    const outcome = outcomeOf(row, parts);
    const answer = p.d.present(outcome);
    completed.push({ id: row.id, status: outcome.conversion.status, resultId: outcome.result!.id, response: answer });
    outcomes.set(p.index, { created: true, answer });
  }
  await completeConversions(trx, completed);
  for (const { p, row } of rows) {
    if (row.status !== 'recording') outcomes.set(p.index, { created: true, answer: row.response });
  }
}

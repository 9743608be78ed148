import type { Kysely } from 'kysely';
import { enrolmentsByIds, type EnrolmentWithTerms } from '../campaigns/index.js';
import { databaseNow, inTransaction } from '../db/index.js';
import { assert } from '../errors/index.js';
import { newId } from '../ids/index.js';
import type { ResultDraft } from '../results/index.js';
import { recordResults } from './hold.js';
import { setViewBatchResults, takeViewBatch, unbatchedViewCounts, unrecordedViewBatches, type ViewBatch } from '../tracking/index.js';

/**
 * Verified views become CPM results without a brand's confirmation (docs/tracking.md#from-views-to-results).
 * A periodic job takes, per enrolment, its valid views not yet paid into a batch — the batch is the
 * result's source: a 'views' result through recordResults, paid rate × views / 1,000 (half to even)
 * and held like every result — when any of these holds:
 *   - at least `views_min` (1,000) of them wait: a full mille is paid without rounding;
 *   - the oldest has waited `age_max_ms` (an hour): small creators are paid promptly too;
 *   - the campaign ends within `age_max_ms`: views seen while it ran are recorded while it runs
 *     (a result recorded after the end is rejected `campaign_ended`, as for every kind).
 * Taking the views and making the batch is one transaction (the rows locked SKIP LOCKED, so two
 * processes never take a view twice); the result is recorded after, idempotent on the batch id, and
 * a batch left without its result (a crash, a failure) gets it at the next run.
 */
export const VIEW_RESULTS = {
  interval_ms: 60_000,
  views_min: 1_000n,
  age_max_ms: 60 * 60 * 1000,
  batches_per_run_max: 500,
} as const;

export interface ViewResultsRun {
  /** Batches made this run. */
  batched: number;
  /** Results recorded this run (for this run's batches and any left over). */
  recorded: number;
}

/** One run of the job, judged at the database clock's time. More may wait when `recorded` reached the limit. */
export async function recordVerifiedViewResults(db: Kysely<any>, rules: { viewsMin?: bigint; ageMaxMs?: number } = {}): Promise<ViewResultsRun> {
  const now = await databaseNow(db);
  const viewsMin = rules.viewsMin ?? VIEW_RESULTS.views_min;
  const ageMaxMs = rules.ageMaxMs ?? VIEW_RESULTS.age_max_ms;
  const waiting = await unbatchedViewCounts(db);
  const enrolments = new Map((await enrolmentsByIds(db, waiting.map((w) => w.enrolment_id))).map((e) => [e.id, e]));
  let batched = 0;
  for (const w of waiting) {
    const enrolment = enrolments.get(w.enrolment_id);
    assert(enrolment, `verified views name enrolment ${w.enrolment_id}, which does not exist`);
    if (!batchDue(w, enrolment, now, viewsMin, ageMaxMs)) continue;
    if (batched >= VIEW_RESULTS.batches_per_run_max) break;
    const batch = await inTransaction(db, (trx) => takeViewBatch(trx, w.enrolment_id, newId('vb')));
    if (batch) batched++;
  }
  const recorded = await recordBatchResults(db, enrolments);
  return { batched, recorded };
}

/** The rule above, for one enrolment's waiting views. */
export function batchDue(
  w: { views: bigint; oldest: Date },
  enrolment: Pick<EnrolmentWithTerms, 'terms'>,
  now: Date,
  viewsMin: bigint = VIEW_RESULTS.views_min,
  ageMaxMs: number = VIEW_RESULTS.age_max_ms,
): boolean {
  if (w.views >= viewsMin) return true;
  if (now.getTime() - new Date(w.oldest).getTime() >= ageMaxMs) return true;
  return new Date(enrolment.terms.ends_at).getTime() - now.getTime() <= ageMaxMs;
}

async function recordBatchResults(db: Kysely<any>, known: Map<string, EnrolmentWithTerms>): Promise<number> {
  const batches = await unrecordedViewBatches(db, VIEW_RESULTS.batches_per_run_max);
  if (batches.length === 0) return 0;
  const missing = batches.map((b) => b.enrolment_id).filter((id) => !known.has(id));
  for (const e of await enrolmentsByIds(db, missing)) known.set(e.id, e);
  const drafts: ResultDraft[] = batches.map((b: ViewBatch) => {
    const enrolment = known.get(b.enrolment_id);
    assert(enrolment, `view batch ${b.id} names enrolment ${b.enrolment_id}, which does not exist`);
    return { kind: 'views', sourceId: b.id, enrolment, occurredAt: new Date(b.occurred_at), views: b.views };
  });
  const results = await recordResults(db, drafts);
  assert(results.length === drafts.length, 'recordResults answers one result per draft');
  await setViewBatchResults(db, results.map((r, i) => ({ batchId: (batches[i] as ViewBatch).id, resultId: r.id })));
  return results.length;
}

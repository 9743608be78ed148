import type { Kysely } from 'kysely';
import { assert } from '../errors/index.js';
import type { ResultDraft } from '../results/index.js';
import type { BillableClick } from '../tracking/index.js';
import { recordResults } from './hold.js';

/**
 * The click writer's CPC hand-off (step 1 of the money path, docs/architecture.md): the valid clicks
 * of CPC campaigns the tracker (src/tracking/tracker.ts) has written become 'click' results with their
 * holds — one recordResults call per batch, idempotent on the click id — and the tracker stores their
 * ids on the clicks. Injected into the ClickTracker by src/flows/jobs/trackers.ts.
 */
export async function recordClickResults(db: Kysely<any>, clicks: readonly BillableClick[]): Promise<string[]> {
  const drafts: ResultDraft[] = clicks.map((w) => ({
    kind: 'click',
    sourceId: w.clickId,
    enrolment: w.enrolment,
    occurredAt: w.occurredAt,
    attributes: { country: w.country },
  }));
  const results = await recordResults(db, drafts);
  assert(results.length === drafts.length, 'recordResults answers one result per draft');
  return results.map((r) => r.id);
}

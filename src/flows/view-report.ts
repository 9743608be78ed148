import type { Kysely } from 'kysely';
import { enrolmentById } from '../campaigns/index.js';
import { markViewReportConfirmed, setViewReportResult, type ViewReport, viewReportById } from '../conversions/index.js';
import { assert } from '../errors/index.js';
import { getResult, type Result } from '../results/index.js';
import { recordResults } from './hold.js';

/**
 * A brand confirms a verified view report (CPM, src/conversions/views.ts): the report is marked
 * confirmed (first transaction), then its 'views' result and hold are recorded (recordResults' own
 * transaction, idempotent on the report id), and the result's id stored on the report: a retry after
 * a failure in between finishes it.
 */
export async function confirmViewReport(db: Kysely<any>, p: { orgId: string; id: string }): Promise<{ report: ViewReport; result: Result }> {
  const report = await markViewReportConfirmed(db, p);
  if (report.result_id) return { report, result: await getResult(db, report.result_id) };
  const enrolment = await enrolmentById(db, report.enrolment_id);
  assert(enrolment, `view report ${report.id} names enrolment ${report.enrolment_id}, which does not exist`);
  const [result] = await recordResults(db, [
    { kind: 'views', sourceId: report.id, enrolment, occurredAt: report.created_at, views: BigInt(report.views) },
  ]);
  assert(result, `recordResults returned no result for view report ${report.id}`);
  await setViewReportResult(db, report.id, result.id);
  return { report: await viewReportById(db, report.id), result };
}

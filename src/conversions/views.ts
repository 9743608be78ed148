import type { Kysely } from 'kysely';
import { enrolmentById, getCampaign } from '../campaigns/index.js';
import { inTransaction } from '../db/index.js';
import { AppError, assert } from '../errors/index.js';
import { newId } from '../ids/index.js';
import { insertViewReport, judgeSubmission, lockViewEvidence, type ReportedPost, viewReportByExternalId } from './index.js';
import { enrolmentIdOf, lockViewReport, markConfirmed, markCleared, markRejected, viewReportById } from './repository.js';

/**
 * Verified views (CPM): a creator reports a number of views with evidence; the brand confirms the
 * report — a 'views' result paid at rate × views / 1,000 (half to even) and held on the escrow — or
 * rejects it, holding nothing. Confirming is idempotent (the result's source is the report); a
 * decision is final: rejecting a confirmed report, or confirming a rejected one, is invalid_state.
 * A report the plausibility rules doubt (src/validation/views) is `in_review`: the brand cannot
 * confirm it until an operator clears it or official insights of the post verify it
 * (./view-insights.ts); the brand may reject it meanwhile.
 */
export type ViewReportStatus = 'submitted' | 'in_review' | 'confirmed' | 'rejected';
export const VIEW_REPORT_STATUSES = ['submitted', 'in_review', 'confirmed', 'rejected'] as const;

export interface ViewReport {
  id: string;
  enrolment_id: string;
  campaign_id: string;
  creator_id: string;
  /** The creator's own id for the report (the business key), when they gave one. */
  external_id: string | null;
  views: bigint;
  evidence_url: string;
  status: ViewReportStatus;
  decision_reason: string | null;
  decision_note: string | null;
  result_id: string | null;
  created_at: Date;
  decided_at: Date | null;
  platform: string | null;
  post_id: string | null;
  posted_at: Date | null;
  likes: bigint | null;
  comments: bigint | null;
  /** What the plausibility rules found, in VIEW_REASONS order; kept once cleared. */
  findings: Array<{ code: string; detail: string }>;
  /** When official insights of the post matched the report. */
  verified_at: Date | null;
  /** The official insights' views the report was last checked against (all days imported). */
  insights_views: bigint | null;
  cleared_at: Date | null;
  cleared_by: 'operator' | 'insights' | null;
  clear_note: string | null;
}

type Db = Kysely<any>;

/** Reports are taken while the campaign runs (active, or paused: views already earned may be reported). */
const OPEN_STATUSES = ['active', 'paused'];

/**
 * A creator's report. With an `externalId` (the creator's own id for it, unique per creator: the
 * business key, docs/api-conventions.md) the same report again answers the report as it stands
 * (`replayed`), whatever the campaign's state now, and another report with that id is
 * idempotency_conflict naming the first field that differs.
 */
export async function submitViewReport(
  db: Db,
  p: { creatorId: string; campaignId: string; views: bigint; evidenceUrl: string; externalId?: string | null; post?: ReportedPost },
): Promise<{ report: ViewReport; replayed: boolean }> {
  assert(p.views > 0n, 'views must be positive');
  const externalId = p.externalId ?? null;
  const earlier = externalId === null ? undefined : await viewReportByExternalId(db, p.creatorId, externalId);
  if (earlier) return { report: sameReport(earlier, p), replayed: true };
  const campaign = await getCampaign(db, { kind: 'creator', id: p.creatorId }, p.campaignId);
  const enrolmentId = await enrolmentIdOf(db, campaign.id, p.creatorId);
  const enrolment = enrolmentId !== undefined ? await enrolmentById(db, enrolmentId) : undefined;
  if (!enrolment) throw new AppError('forbidden', `join campaign ${campaign.id} before reporting views for it`);
  if (enrolment.terms.objective !== 'cpm') {
    throw new AppError('invalid_state', `campaign ${campaign.id} pays per ${enrolment.terms.objective}, not per view: it takes no view reports`, {
      details: { field: 'campaign_id' },
    });
  }
  if (!OPEN_STATUSES.includes(campaign.status)) {
    throw new AppError('invalid_state', `campaign ${campaign.id} is ${campaign.status}: it takes no view reports`);
  }
  const post = p.post ?? NO_POST;
  const report = await inTransaction(db, async (trx) => {
    await lockViewEvidence(trx, enrolment.id);
    const judged = await judgeSubmission(trx, { enrolment, views: p.views, evidenceUrl: p.evidenceUrl, post });
    return insertViewReport(trx, {
      id: newId('vr'),
      enrolment_id: enrolment.id,
      campaign_id: campaign.id,
      creator_id: p.creatorId,
      views: p.views,
      evidence_url: p.evidenceUrl,
      external_id: externalId,
      ...postColumns(post),
      ...judged,
    });
  });
  if (report) return { report, replayed: false };
  // A concurrent copy with this external_id was inserted first.
  const raced = await viewReportByExternalId(db, p.creatorId, externalId as string);
  assert(raced, `view report ${externalId} of creator ${p.creatorId} conflicted on insert but is not there`);
  return { report: sameReport(raced, p), replayed: true };
}

const NO_POST: ReportedPost = { platform: null, postId: null, postedAt: null, likes: null, comments: null };

function postColumns(post: ReportedPost) {
  return { platform: post.platform, post_id: post.postId, posted_at: post.postedAt, likes: post.likes, comments: post.comments };
}

const sameCount = (a: bigint | string | null, b: bigint | null) => (a === null ? b === null : b !== null && BigInt(a) === b);

/** The report a replay answers, if the request is the same; else idempotency_conflict naming the first field that differs. */
function sameReport(report: ViewReport, p: { campaignId: string; views: bigint; evidenceUrl: string; post?: ReportedPost }): ViewReport {
  const post = p.post ?? NO_POST;
  const differs =
    report.campaign_id !== p.campaignId
      ? 'campaign_id'
      : BigInt(report.views) !== p.views
        ? 'views'
        : report.evidence_url !== p.evidenceUrl
          ? 'evidence_url'
          : report.platform !== post.platform
            ? 'platform'
            : report.post_id !== post.postId
              ? 'post_id'
              : (report.posted_at?.getTime() ?? null) !== (post.postedAt?.getTime() ?? null)
                ? 'posted_at'
                : !sameCount(report.likes, post.likes)
                  ? 'likes'
                  : !sameCount(report.comments, post.comments)
                    ? 'comments'
                    : null;
  if (differs === null) return report;
  throw new AppError('idempotency_conflict', `external_id ${report.external_id} was reported with a different ${differs}`, { details: { field: differs } });
}

/** Locks a report of one of the brand's campaigns (any report for an operator: orgId null); another brand's report is not_found. */
async function lockReport(trx: Db, orgId: string | null, id: string): Promise<ViewReport> {
  const v = await lockViewReport(trx, orgId, id);
  if (!v) throw new AppError('not_found', `no view report ${id}`);
  return v;
}

/**
 * The first transaction of confirming a report (src/flows/view-report.ts `confirmViewReport`): a
 * submitted report is marked confirmed; one already confirmed is answered as it is (its result may
 * still be missing after a failure in between); a rejected or doubted one cannot be confirmed.
 */
export async function markViewReportConfirmed(db: Db, p: { orgId: string; id: string }): Promise<ViewReport> {
  return inTransaction(db, async (trx) => {
    const v = await lockReport(trx, p.orgId, p.id);
    if (v.status === 'rejected') throw new AppError('invalid_state', `view report ${v.id} was rejected; it cannot be confirmed`);
    if (v.status === 'in_review') {
      const codes = v.findings.map((f) => f.code).join(', ');
      throw new AppError('invalid_state', `view report ${v.id} is in review (${codes}): an operator must clear it, or official insights of the post verify it, before it can be confirmed`);
    }
    if (v.status === 'submitted') {
      await markConfirmed(trx, v.id);
    }
    return v;
  });
}

/** The brand rejects a submitted or doubted report; an operator (orgId null) may reject any. */
export async function rejectViewReport(db: Db, p: { orgId: string | null; id: string; reason: string; note: string | null }): Promise<ViewReport> {
  return inTransaction(db, async (trx) => {
    const v = await lockReport(trx, p.orgId, p.id);
    if (v.status === 'confirmed') throw new AppError('invalid_state', `view report ${v.id} was confirmed; reject its result instead`);
    if (v.status === 'rejected') return v;
    await markRejected(trx, { id: v.id, reason: p.reason, note: p.note });
    return viewReportById(trx, v.id);
  });
}

/**
 * An operator clears a report in review: it goes back to `submitted`, with its findings kept and the
 * note shown to brand and creator; the brand may then confirm (or reject) it. Clearing a report
 * already cleared answers it unchanged; a confirmed or rejected one, or one never in review, is invalid_state.
 */
export async function clearViewReport(db: Db, p: { id: string; note: string }): Promise<ViewReport> {
  return inTransaction(db, async (trx) => {
    const v = await lockReport(trx, null, p.id);
    if (v.status === 'submitted' && v.cleared_by !== null) return v;
    if (v.status !== 'in_review') throw new AppError('invalid_state', `view report ${v.id} is ${v.status}, not in review: there is nothing to clear`);
    await markCleared(trx, { id: v.id, note: p.note });
    return viewReportById(trx, v.id);
  });
}

export interface ViewReportScope {
  orgId?: string;
  creatorId?: string;
}

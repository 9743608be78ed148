import type { Kysely } from 'kysely';
import type { EnrolmentWithTerms } from '../campaigns/index.js';
import { databaseNow, inTransaction } from '../db/index.js';
import { AppError, assert } from '../errors/index.js';
import { fetchInsights, type InsightImport, type InsightsQuery, type PlatformInsights, postTotals, type PostTotals, recordInsightsImport, trustOf, type Uploader } from '../insights/index.js';
import { declaredFollowers } from '../tenants/index.js';
import { viewSettingsFor } from '../terms/index.js';
import { judgeViewReport, matchInsights, type PostInsights, type ViewFinding, type ViewRuleSettings } from '../validation/index.js';
import { MAX_FUTURE_SKEW_MS } from './input.js';
import type { ViewReport } from './views.js';
import { creatorViewHistory, lockOpenViewReports, lockViewEvidence, updateViewVerification } from './repository.js';

/**
 * Where a view report meets its evidence: the plausibility rules at submission (the facts gathered
 * here, judged by the pure src/validation/views), and imported platform insights (src/insights),
 * which verify the reports of the posts they cover.
 */
type Db = Kysely<any>;

/** What a creator may say of the post beyond its views: every field optional, none ever required. */
export interface ReportedPost {
  platform: string | null;
  postId: string | null;
  postedAt: Date | null;
  likes: bigint | null;
  comments: bigint | null;
}

/** Earlier reports the velocity rule compares with: the latest, bounded. */
const HISTORY_LIMIT = 100;
/** Open reports one import re-checks at most (an enrolment rarely has more than a handful). */
const OPEN_REPORTS_LIMIT = 1000;

function settingsOf(enrolment: EnrolmentWithTerms): ViewRuleSettings {
  const parsed = viewSettingsFor(enrolment.terms.validation);
  assert(parsed.success, `the view settings of campaign ${enrolment.campaign_id} were checked when its terms were written`);
  return parsed.data;
}

const utcDay = (d: Date) => d.toISOString().slice(0, 10);

function byTrust(totals: readonly PostTotals[]): { official: PostInsights | null; creator: PostInsights | null } {
  const of = (trust: 'official' | 'creator'): PostInsights | null => {
    const rows = totals.filter((t) => t.trust === trust);
    if (rows.length === 0) return null;
    return { trust, through_report: rows.reduce((s, t) => s + t.through_day, 0n), all: rows.reduce((s, t) => s + t.all, 0n) };
  };
  return { official: of('official'), creator: of('creator') };
}

function postOf(report: { platform: string | null; post_id: string | null }) {
  return report.platform && report.post_id ? { platform: report.platform, post_id: report.post_id } : null;
}

/** The status, findings and verification a new report is inserted with; run under lockViewEvidence, in the insert's transaction. */
export async function judgeSubmission(
  db: Db,
  p: { enrolment: EnrolmentWithTerms; views: bigint; evidenceUrl: string; post: ReportedPost },
): Promise<{ status: 'submitted' | 'in_review'; findings: ViewFinding[]; verified: boolean; insights_views: bigint | null }> {
  const now = await databaseNow(db);
  if (p.post.postedAt && p.post.postedAt.getTime() > now.getTime() + MAX_FUTURE_SKEW_MS) {
    throw new AppError('invalid_request', `posted_at ${p.post.postedAt.toISOString()} is in the future`, { details: { field: 'posted_at' } });
  }
  const settings = settingsOf(p.enrolment);
  const creatorId = p.enrolment.creator_id;
  // One after the other: this runs inside the caller's transaction, on one connection.
  const followers = p.post.platform ? await declaredFollowers(db, creatorId, p.post.platform) : null;
  const earlier = await creatorViewHistory(db, creatorId, HISTORY_LIMIT);
  const totals = await postTotals(db, { enrolmentId: p.enrolment.id, post: postOf({ platform: p.post.platform, post_id: p.post.postId }), url: p.evidenceUrl, day: utcDay(now) });
  const insights = byTrust(totals);
  const judged = judgeViewReport(
    {
      views: p.views,
      reported_at: now,
      platform: p.post.platform,
      posted_at: p.post.postedAt,
      likes: p.post.likes,
      comments: p.post.comments,
      declared_followers: followers,
      earlier,
      insights,
    },
    settings,
  );
  return {
    status: judged.findings.length > 0 ? 'in_review' : 'submitted',
    findings: judged.findings,
    verified: judged.official === 'matched',
    insights_views: insights.official?.all ?? null,
  };
}

/**
 * What official insights make of an open report: matched → verified (a report in review is cleared,
 * `cleared_by: insights`, its findings kept); above every view the platform counted →
 * `views_exceed_insights`, back in review whoever had cleared it; below or not covered → only the
 * insights' views are noted. Undefined: the import says nothing of the report's post.
 */
function verdictOn(report: ViewReport, official: PostInsights | null, settings: ViewRuleSettings): Parameters<typeof updateViewVerification>[1] | undefined {
  if (!official) return undefined;
  const match = matchInsights(BigInt(report.views), official, settings.insights.tolerance);
  const base = { id: report.id, insightsViews: official.all };
  if (match === 'matched') {
    return { ...base, status: 'submitted', findings: report.findings, verified: true, cleared: report.status === 'in_review' ? 'insights' : 'keep' };
  }
  if (match === 'exceeds') {
    const detail = `${BigInt(report.views).toLocaleString('en-US')} views reported; the imported insights of the post show ${official.all.toLocaleString('en-US')} in all (tolerance ${settings.insights.tolerance * 100} %)`;
    const findings = [{ code: 'views_exceed_insights', detail }, ...report.findings.filter((f) => f.code !== 'views_exceed_insights')];
    return { ...base, status: 'in_review', findings, verified: false, cleared: 'reopen' };
  }
  return { ...base, status: report.status === 'in_review' ? 'in_review' : 'submitted', findings: report.findings, verified: false, cleared: 'keep' };
}

export interface ViewInsightsImport {
  import: InsightImport;
  /** The open reports of the enrolment the import spoke about, as they stand after it. */
  reports: string[];
}

/**
 * Imports a provider's insights for an enrolment and, in the same transaction, re-checks the
 * enrolment's open reports of the posts imported (official insights only: a creator's own file is
 * kept as evidence for the reviewer, and spares later reports of its posts the round-number rule,
 * but verifies nothing). Nothing is written when the provider's rows are refused.
 */
export async function importViewInsights(
  db: Db,
  p: { enrolment: EnrolmentWithTerms; by: Uploader; provider: PlatformInsights; query: InsightsQuery },
): Promise<ViewInsightsImport> {
  const rows = await fetchInsights(p.provider, p.query);
  const settings = settingsOf(p.enrolment);
  const official = trustOf(p.provider.origin, p.by.kind) === 'official';
  const posts = new Set(rows.map((r) => `${r.platform}\u0000${r.post_id}`));
  const urls = new Set(rows.flatMap((r) => (r.post_url ? [r.post_url] : [])));
  return inTransaction(db, async (trx) => {
    await lockViewEvidence(trx, p.enrolment.id);
    const record = await recordInsightsImport(trx, { enrolmentId: p.enrolment.id, provider: p.provider, by: p.by, rows });
    const touched: string[] = [];
    if (!official) return { import: record, reports: touched };
    for (const report of await lockOpenViewReports(trx, p.enrolment.id, OPEN_REPORTS_LIMIT)) {
      const post = postOf(report);
      const named = post ? posts.has(`${post.platform}\u0000${post.post_id}`) : urls.has(report.evidence_url);
      if (!named) continue;
      const totals = await postTotals(trx, { enrolmentId: p.enrolment.id, post, url: report.evidence_url, day: utcDay(report.created_at) });
      const verdict = verdictOn(report, byTrust(totals).official, settings);
      if (!verdict) continue;
      await updateViewVerification(trx, verdict);
      touched.push(report.id);
    }
    return { import: record, reports: touched };
  });
}

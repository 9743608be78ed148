import { z } from 'zod';
import type { ReasonCode } from '../engine/reasons.js';

/**
 * Plausibility of a creator's reported platform views (CPM campaigns): pure rules over what the
 * report, the creator's declared audience, their earlier reports and any imported platform insights
 * say. Every rule fires on evidence only: a field the report or the creator left out (likes, the
 * post time, a declared follower count) is no evidence, and the rule that needs it stays silent.
 * Every finding sends the report to review (a person looks), never to rejection: each rule has an
 * honest population it can catch (docs/validation.md, "View reports"), so thresholds are generous.
 *
 * Defaults: ../shared/REFERENCE.md has no figures for reported views (only MRC viewability), so they
 * are set one to two orders of magnitude beyond what ordinary posts show, and every one is tunable
 * per campaign (`terms.validation.views`).
 */

export const VIEW_REASONS = [
  'views_exceed_insights',
  'views_exceed_followers',
  'engagement_exceeds_views',
  'engagement_low',
  'view_velocity_high',
  'views_round_number',
] as const satisfies readonly ReasonCode[];
export type ViewReason = (typeof VIEW_REASONS)[number];

const enabled = z.boolean().default(true);
const count = (fallback: number) => z.number().int().min(0).max(1_000_000_000_000).default(fallback);

export const viewRuleSettingsSchema = z
  .strictObject({
    /** Reported views above `max_views_per_follower` × the followers the creator declared on the post's platform. */
    followers: z
      .strictObject({ enabled, max_views_per_follower: z.number().gt(0).max(1_000_000).default(50), min_views: count(10_000) })
      .prefault({}),
    /** When likes or comments are reported: (likes + comments) / views below `min_rate`, or above `max_rate`. */
    engagement: z
      .strictObject({
        enabled,
        min_rate: z.number().min(0).max(1).default(0.0005),
        max_rate: z.number().gt(0).max(100).default(1),
        min_views: count(10_000),
      })
      .refine((v) => v.min_rate < v.max_rate, { path: ['max_rate'], message: 'must be above min_rate' })
      .prefault({}),
    /** Views per day since the post, over the median of the creator's earlier reports (those with a post time). */
    velocity: z
      .strictObject({
        enabled,
        max_ratio_to_median: z.number().gt(1).max(1_000_000).default(25),
        min_history: z.number().int().min(1).max(1000).default(3),
        min_views: count(10_000),
      })
      .prefault({}),
    /** A count ending in `min_trailing_zeros` zeros (100,000; 50,000), with no platform export of the post to back it. */
    round_numbers: z.strictObject({ enabled, min_trailing_zeros: z.number().int().min(2).max(12).default(4), min_views: count(10_000) }).prefault({}),
    /** How far a report may be from the official insights of its post and still match them (a share of the insights' views). */
    insights: z.strictObject({ tolerance: z.number().min(0).max(1).default(0.05) }).prefault({}),
  })
  .prefault({});

export type ViewRuleSettings = z.output<typeof viewRuleSettingsSchema>;
export type ViewRuleSettingsInput = z.input<typeof viewRuleSettingsSchema>;
export const DEFAULT_VIEW_RULE_SETTINGS: ViewRuleSettings = viewRuleSettingsSchema.parse(undefined);

/** An earlier report of the same creator, for the velocity rule. */
export interface EarlierReport {
  views: bigint;
  posted_at: Date | null;
  reported_at: Date;
}

/**
 * Imported platform statistics of the report's post (src/insights): rows are views per day, so the
 * views the platform had counted by the report are the rows up to the report's day (`through_report`),
 * and `all` adds the later rows (a lifetime export made after the report is one row dated after it).
 */
export interface PostInsights {
  through_report: bigint;
  all: bigint;
  /** `official`: imported by the brand or an operator (or an API adapter); `creator`: the creator's own upload. */
  trust: 'official' | 'creator';
}

export interface ViewReportFacts {
  views: bigint;
  reported_at: Date;
  platform: string | null;
  posted_at: Date | null;
  likes: bigint | null;
  comments: bigint | null;
  /** What the creator declared for the report's platform; null when they declared nothing (or the report names no platform). */
  declared_followers: bigint | null;
  earlier: readonly EarlierReport[];
  /** The post's insights by trust; absent when nothing was imported for it. */
  insights: { official: PostInsights | null; creator: PostInsights | null };
}

export interface ViewFinding {
  code: ViewReason;
  /** What was measured against what, for the brand, the creator and the reviewer. */
  detail: string;
}

export type InsightsMatch = 'matched' | 'exceeds' | 'below' | 'none';

export interface ViewJudgement {
  findings: ViewFinding[];
  /** The report against official insights of its post: within tolerance, above, below, or none imported. */
  official: InsightsMatch;
}

const DAY_MS = 86_400_000;
const fmt = (n: bigint | number) => (typeof n === 'bigint' ? n : Math.round(n)).toLocaleString('en-US');
const ratio = (x: number) => (x >= 10 ? x.toFixed(0) : x.toFixed(2));

/**
 * How a report stands against a post's insights, with a tolerance as a share of the insights' views:
 * matched when within it of the views counted by the report's day or of all views counted since;
 * exceeds only when above even all of them (views only grow: more than the platform ever counted
 * cannot be right); below when under, which is no doubt (the creator claims less).
 */
export function matchInsights(views: bigint, insights: PostInsights | null, tolerance: number): InsightsMatch {
  if (!insights) return 'none';
  const reported = Number(views);
  const near = (official: number) => official > 0 && Math.abs(reported - official) <= tolerance * official;
  if (near(Number(insights.through_report)) || near(Number(insights.all))) return 'matched';
  return reported > Number(insights.all) * (1 + tolerance) ? 'exceeds' : 'below';
}

/** Every finding on one report, in VIEW_REASONS order; with `official: 'matched'` there are none (the count is the platform's). */
export function judgeViewReport(f: ViewReportFacts, s: ViewRuleSettings = DEFAULT_VIEW_RULE_SETTINGS): ViewJudgement {
  const official = matchInsights(f.views, f.insights.official, s.insights.tolerance);
  if (official === 'matched') return { findings: [], official };
  const findings: ViewFinding[] = [];
  if (official === 'exceeds' && f.insights.official) {
    findings.push({
      code: 'views_exceed_insights',
      detail: `${fmt(f.views)} views reported; the imported insights of the post show ${fmt(f.insights.official.all)} in all (tolerance ${s.insights.tolerance * 100} %)`,
    });
  }
  const rules = [followers, engagementHigh, engagementLow, velocity, roundNumber];
  for (const rule of rules) {
    const finding = rule(f, s);
    if (finding) findings.push(finding);
  }
  return { findings, official };
}

function followers(f: ViewReportFacts, s: ViewRuleSettings): ViewFinding | null {
  const r = s.followers;
  if (!r.enabled || f.declared_followers === null || f.views < BigInt(r.min_views)) return null;
  const perFollower = Number(f.views) / Math.max(Number(f.declared_followers), 1);
  if (perFollower <= r.max_views_per_follower) return null;
  return {
    code: 'views_exceed_followers',
    detail: `${fmt(f.views)} views is ${ratio(perFollower)} × the ${fmt(f.declared_followers)} followers declared on ${f.platform} (limit ${r.max_views_per_follower} ×)`,
  };
}

function engagement(f: ViewReportFacts): bigint | null {
  if (f.likes === null && f.comments === null) return null;
  return (f.likes ?? 0n) + (f.comments ?? 0n);
}

function engagementHigh(f: ViewReportFacts, s: ViewRuleSettings): ViewFinding | null {
  const e = engagement(f);
  if (!s.engagement.enabled || e === null) return null;
  const rate = Number(e) / Number(f.views);
  if (rate <= s.engagement.max_rate) return null;
  return { code: 'engagement_exceeds_views', detail: `${fmt(e)} likes and comments on ${fmt(f.views)} views (rate ${ratio(rate)}, limit ${s.engagement.max_rate})` };
}

function engagementLow(f: ViewReportFacts, s: ViewRuleSettings): ViewFinding | null {
  const e = engagement(f);
  const r = s.engagement;
  if (!r.enabled || e === null || f.views < BigInt(r.min_views)) return null;
  const rate = Number(e) / Number(f.views);
  if (rate >= r.min_rate) return null;
  return { code: 'engagement_low', detail: `${fmt(e)} likes and comments on ${fmt(f.views)} views: ${(rate * 100).toFixed(3)} % (minimum ${r.min_rate * 100} %)` };
}

/** Views per day since the post; a post younger than a day counts as a day old (its first day's views are its first day's). */
function perDay(views: bigint, postedAt: Date, reportedAt: Date): number {
  return Number(views) / Math.max((reportedAt.getTime() - postedAt.getTime()) / DAY_MS, 1);
}

export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function velocity(f: ViewReportFacts, s: ViewRuleSettings): ViewFinding | null {
  const r = s.velocity;
  if (!r.enabled || f.posted_at === null || f.views < BigInt(r.min_views)) return null;
  const history = f.earlier.flatMap((e) => (e.posted_at ? [perDay(e.views, e.posted_at, e.reported_at)] : []));
  if (history.length < r.min_history) return null;
  const usual = median(history);
  const now = perDay(f.views, f.posted_at, f.reported_at);
  if (usual > 0 && now <= r.max_ratio_to_median * usual) return null;
  return {
    code: 'view_velocity_high',
    detail: `${fmt(now)} views a day since the post, ${usual > 0 ? `${ratio(now / usual)} ×` : 'against'} the creator's median of ${fmt(usual)} over ${history.length} earlier reports (limit ${r.max_ratio_to_median} ×)`,
  };
}

function roundNumber(f: ViewReportFacts, s: ViewRuleSettings): ViewFinding | null {
  const r = s.round_numbers;
  // An export of the post, even the creator's own, says where the count came from: no longer typed from a rounded display.
  if (!r.enabled || f.views < BigInt(r.min_views) || f.insights.official || f.insights.creator) return null;
  if (f.views % 10n ** BigInt(r.min_trailing_zeros) !== 0n) return null;
  return {
    code: 'views_round_number',
    detail: `exactly ${fmt(f.views)} views, with no platform export of the post: send the exact count (an export of the post's insights clears this)`,
  };
}

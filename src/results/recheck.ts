import type { Kysely } from 'kysely';
import { enrolmentsByIds, type EnrolmentWithTerms } from '../campaigns/index.js';
import { recheckTraffic, type StoredClick, type StoredConversion } from '../judging/index.js';
import { baselineRows, creatorContacts, recentClickRows, recentConversionRows } from './repository.js';
import type { Result } from './results.js';

/**
 * The cohort re-check before a hold is released (issue #4 §1): the due results of a settlement batch
 * are grouped by enrolment (one creator on one campaign), each group's recent traffic is loaded once
 * — its clicks and conversions from one attribution window before the earliest due result up to the
 * latest — and the engine judges it as one stream. A due result whose source (its click, or its
 * conversion) is no longer `valid` is flagged with the engine's reasons.
 *
 * Bounded: a few set-based statements per batch whatever its size, and at most RECHECK_LIMITS events
 * per group (the most recent ones), plus the due results' own sources and the clicks of every loaded
 * conversion, so the evidence about the results being paid is always there.
 *
 * Not re-checked: results an operator approved after a review (`reviewed`: a person decided), and view
 * reports (no traffic: the brand confirmed them).
 */
export const RECHECK_LIMITS = {
  clicks_per_group: 2_000,
  conversions_per_group: 1_000,
  /** The campaign's most recent clicks looked at for its baseline conversion rate, per batch. */
  baseline_clicks: 50_000,
} as const;

const MS_PER_DAY = 86_400_000;
type Db = Kysely<any>;

interface Group {
  enrolment: EnrolmentWithTerms;
  results: Result[];
  from: Date;
  to: Date;
}

/** Due results whose source the engine no longer calls valid, with the engine's reasons. */
export async function recheckDue(db: Db, due: readonly Result[]): Promise<Map<string, string[]>> {
  const candidates = due.filter((r) => !r.reviewed && r.kind !== 'views');
  const flagged = new Map<string, string[]>();
  if (candidates.length === 0) return flagged;
  const enrolments = new Map((await enrolmentsByIds(db, candidates.map((r) => r.enrolment_id))).map((e) => [e.id, e]));
  const groups = new Map<string, Group>();
  for (const r of candidates) {
    const enrolment = enrolments.get(r.enrolment_id);
    if (!enrolment) continue;
    const windowMs = enrolment.terms.attribution_window_days * MS_PER_DAY;
    const from = new Date(r.occurred_at.getTime() - windowMs);
    const g = groups.get(enrolment.id);
    if (!g) groups.set(enrolment.id, { enrolment, results: [r], from, to: r.occurred_at });
    else {
      g.results.push(r);
      if (from < g.from) g.from = from;
      if (r.occurred_at > g.to) g.to = r.occurred_at;
    }
  }
  const list = [...groups.values()];
  const conversions = await recentConversions(db, list, candidates.filter((r) => r.kind !== 'click').map((r) => r.source_id));
  const clickIds = [
    ...candidates.filter((r) => r.kind === 'click').map((r) => r.source_id),
    ...[...conversions.values()].flatMap((cs) => cs.flatMap((c) => (c.clickId ? [c.clickId] : []))),
  ];
  const clicks = await recentClicks(db, list, clickIds);
  const creators = await contacts(db, list.map((g) => g.enrolment.creator_id));
  const baselines = await campaignBaselines(db, list);
  for (const g of list) {
    const creator = creators.get(g.enrolment.creator_id);
    if (!creator) continue;
    const verdicts = recheckTraffic({
      campaignId: g.enrolment.campaign_id,
      terms: g.enrolment.terms,
      creator: { id: g.enrolment.creator_id, ...creator },
      clicks: clicks.get(g.enrolment.id) ?? [],
      conversions: conversions.get(g.enrolment.id) ?? [],
      baseline: baselines.get(g.enrolment.id),
    });
    for (const r of g.results) {
      const v = verdicts.get(r.source_id);
      if (v && v.verdict !== 'valid') flagged.set(r.id, v.reasons);
    }
  }
  return flagged;
}

function windows(groups: readonly Group[]) {
  return {
    enrolments: groups.map((g) => g.enrolment.id),
    from: groups.map((g) => g.from.toISOString()),
    to: groups.map((g) => g.to.toISOString()),
  };
}

/**
 * Each group's conversions in its window that validation did not refuse at intake (an invalid one is
 * no evidence about the creator's paid traffic, and the engine's cohort rules count only valid events
 * anyway), the most recent first up to the limit, and the due results' own conversions.
 */
async function recentConversions(db: Db, groups: readonly Group[], sourceIds: readonly string[]): Promise<Map<string, StoredConversion[]>> {
  const w = windows(groups);
  const rows = await recentConversionRows(db, w, sourceIds);
  // A due result's conversion inside its group's window comes twice.
  return byEnrolmentOnce(rows, (c): StoredConversion => ({
    id: c.id,
    occurredAt: new Date(c.occurred_at),
    kind: c.type,
    clickId: c.click_id,
    promoCode: c.request.promo_code,
    customer: { ...c.request.customer, age: c.request.customer.age ?? null },
    ipHash: c.ip_hash,
    userAgent: c.user_agent,
    amount: c.request.amount,
    currency: c.request.currency,
  }));
}

/** Each group's clicks in its window, the most recent first up to the limit, and the clicks named by id. */
async function recentClicks(db: Db, groups: readonly Group[], ids: readonly string[]): Promise<Map<string, StoredClick[]>> {
  const w = windows(groups);
  const creators = groups.map((g) => g.enrolment.creator_id);
  const rows = await recentClickRows(db, w, creators, ids);
  return byEnrolmentOnce(rows, (k): StoredClick => ({
    id: k.id,
    occurredAt: new Date(k.occurred_at),
    ipHash: k.ip_hash,
    userAgent: k.user_agent,
    referrer: k.referrer,
    landingUrl: k.landing_url,
    status: k.status,
  }));
}

/** Rows by enrolment, each id once (a row can come from both the window and the named ids), as `toItem` makes them. */
function byEnrolmentOnce<R extends { id: string; enrolment_id: string }, T>(rows: readonly R[], toItem: (row: R) => T): Map<string, T[]> {
  const byGroup = new Map<string, T[]>();
  const seen = new Set<string>();
  for (const row of rows) {
    if (seen.has(row.id)) continue;
    seen.add(row.id);
    const list = byGroup.get(row.enrolment_id) ?? [];
    list.push(toItem(row));
    byGroup.set(row.enrolment_id, list);
  }
  return byGroup;
}

/**
 * Each group's baseline for the conversion-rate comparison: the campaign's valid clicks of other
 * creators in the group's window, and how many of them led to a valid conversion — counted over the
 * campaign's most recent RECHECK_LIMITS.baseline_clicks clicks (a window older than those leaves the
 * baseline empty, and the rule then stays silent). The recent clicks are read once per campaign and
 * batch, whether converted once per click, and shared by all the campaign's groups in the batch.
 */
export async function campaignBaselines(db: Db, groups: readonly Group[]): Promise<Map<string, Baseline>> {
  const out = new Map<string, Baseline>();
  if (groups.length === 0) return out;
  const w = windows(groups);
  const campaigns = groups.map((g) => g.enrolment.campaign_id);
  const rows = await baselineRows(db, w, campaigns);
  const perGroup = new Map<string, Array<{ clicks: number; conversions: number }>>();
  for (const row of rows) {
    const list = perGroup.get(row.group_enrolment) ?? [];
    list.push({ clicks: Number(row.clicks), conversions: Number(row.conversions) });
    perGroup.set(row.group_enrolment, list);
  }
  for (const [enrolment, others] of perGroup) out.set(enrolment, baselineOf(others));
  return out;
}

interface Baseline {
  clicks: number;
  conversions: number;
  /** The other creator with the most conversions above the pooled rate, if any is above it (the engine leaves it out). */
  top: { clicks: number; conversions: number } | null;
  creators: number;
}

/** The other creators' totals, their count, and the best-converting of them (see the engine's conversion-rate rule). */
export function baselineOf(others: ReadonlyArray<{ clicks: number; conversions: number }>): Baseline {
  let clicks = 0;
  let conversions = 0;
  for (const o of others) {
    clicks += o.clicks;
    conversions += o.conversions;
  }
  const rate = clicks > 0 ? conversions / clicks : 0;
  let top: Baseline['top'] = null;
  let best = 0;
  for (const o of others) {
    const excess = o.conversions - o.clicks * rate;
    if (excess > best) {
      best = excess;
      top = { clicks: o.clicks, conversions: o.conversions };
    }
  }
  return { clicks, conversions, top, creators: others.length };
}

async function contacts(db: Db, ids: readonly string[]): Promise<Map<string, { email: string; phone: string | null }>> {
  const rows = await creatorContacts(db, ids);
  return new Map(rows.map((c) => [c.id, { email: c.email, phone: c.phone }]));
}

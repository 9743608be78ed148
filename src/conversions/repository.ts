import { type Kysely, sql } from 'kysely';
import { campaignRowsPage } from '../campaigns/index.js';
import { AppError, assert } from '../errors/index.js';
import { keyset, type Page, type PageRequest, type PageTime } from '../db/index.js';
import type { ClickStatus } from '../validation/index.js';
import type { VerdictLevel } from '../judging/index.js';
import type { ConversionRequest, ConversionType } from './input.js';
import type { ViewReport, ViewReportScope, ViewReportStatus } from './views.js';

/** The tables this module owns (only it writes them) and those of other modules it may read. */
export const TABLES = { owns: ['conversions', 'conversion_touches', 'view_reports'], reads: ['campaigns', 'enrolments', 'clicks', 'creators'] } as const;

/** The only SQL on conversions and view_reports (and the read-only click lookup attribution needs). */
export type ConversionStatus = 'attributed' | 'unattributed' | 'rejected' | 'over_budget';

export interface ConversionRow {
  id: string;
  org_id: string;
  external_id: string;
  request: ConversionRequest;
  request_sha256: string;
  /** 'recording' between the decision and its result (see migration 0005). */
  status: ConversionStatus | 'recording';
  response: unknown;
  type: ConversionType;
  campaign_id: string | null;
  enrolment_id: string | null;
  attributed_by: 'click' | 'promo' | null;
  click_id: string | null;
  customer_id: string;
  customer_email: string | null;
  order_amount: bigint | null;
  occurred_at: Date;
  reasons: string[];
  /** Validation's verdict (migration 0008); null when unattributed. */
  verdict: VerdictLevel | null;
  /** The customer's IP as a salted hash (`4:`/`6:` + hex), when the brand sent one. */
  ip_hash: string | null;
  user_agent: string | null;
  /** The product sold, when the brand sent it (conditional rates). */
  sku: string | null;
  /** How the campaign's model split the conversion among creators (migration 0013); null before, or unattributed. */
  split: StoredSplit | null;
  result_id: string | null;
  created_at: Date;
}

/** A conversion's split as stored: the credited creators with the integer weights its money is allocated by. */
export interface StoredSplit {
  model: string;
  fallback: string | null;
  credits: Array<{ enrolment_id: string; creator_id: string; share: number; weight: number; reasons?: string[] }>;
}

export interface StoredTouch {
  click_id: string | null;
  enrolment_id: string;
  creator_id: string;
  occurred_at: Date;
  credit: number;
}

/**
 * A conversion to insert. Rows written before validation had verdicts (and tests that write one by
 * hand) may leave out the verdict: any reason then means invalid, as it did.
 */
export type NewConversion = Omit<ConversionRow, 'result_id' | 'created_at' | 'verdict' | 'ip_hash' | 'user_agent' | 'sku' | 'split'> &
  Partial<Pick<ConversionRow, 'verdict' | 'ip_hash' | 'user_agent' | 'sku' | 'split'>> & {
    /** The journey, written with the conversion (conversion_touches). */
    touches?: StoredTouch[];
  };

function verdictOf(c: NewConversion): VerdictLevel | null {
  if (c.verdict !== undefined) return c.verdict;
  if (c.status === 'unattributed') return null;
  return c.reasons.length > 0 ? 'invalid' : 'valid';
}

type Db = Kysely<any>;

/** A batch's external ids, locked in sorted order (the same keys as lockExternalId). */
export async function lockExternalIds(trx: Db, keys: readonly { orgId: string; externalId: string }[]): Promise<void> {
  if (keys.length === 0) return;
  const texts = keys.map((k) => `${k.orgId}:${k.externalId}`);
  await sql`select pg_advisory_xact_lock(k) from (
      select distinct hashtextextended(x, 7101) as k from unnest(${texts}::text[]) as x order by 1) as keys`.execute(trx);
}

/** The decision locks of many conversions at once, in one sorted order (see lockCampaignDecisions). */
export async function lockManyCampaignDecisions(trx: Db, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await sql`select pg_advisory_xact_lock(k) from (
      select distinct hashtextextended(x, 7102) as k from unnest(${[...keys]}::text[]) as x order by 1) as keys`.execute(trx);
}

export function campaignDecisionKeys(p: { campaignId: string; customerId: string; email: string | null; cappedEnrolmentId: string | null }): string[] {
  const keys = [`${p.campaignId}:c:${p.customerId}`];
  if (p.email) keys.push(`${p.campaignId}:e:${p.email}`);
  if (p.cappedEnrolmentId) keys.push(`${p.cappedEnrolmentId}:promo`);
  return keys;
}

export async function findConversions(db: Db, keys: readonly { orgId: string; externalId: string }[]): Promise<ConversionRow[]> {
  if (keys.length === 0) return [];
  const r = await sql<ConversionRow>`select ${COLUMNS} from conversions where (org_id, external_id) in (
      select * from unnest(${keys.map((k) => k.orgId)}::text[], ${keys.map((k) => k.externalId)}::text[]))`.execute(db);
  return r.rows;
}

/** Concurrent posts of one external id wait for each other: the second sees the first's row. */
export async function lockExternalId(trx: Db, orgId: string, externalId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`${orgId}:${externalId}`}, 7101))`.execute(trx);
}

/**
 * Serialises the decisions that could race: the same customer on the same campaign (lead
 * de-duplication, once-per-customer promo codes), and — only when the promo code has a usage cap —
 * the enrolment's promo uses. Conversions of different customers run in parallel. Keys are taken in
 * sorted order, so two decisions never deadlock.
 */
export async function lockCampaignDecisions(
  trx: Db,
  p: { campaignId: string; customerId: string; email: string | null; cappedEnrolmentId: string | null },
): Promise<void> {
  await lockManyCampaignDecisions(trx, campaignDecisionKeys(p));
}

const COLUMNS = sql`id, org_id, external_id, request, request_sha256, status, response, type, campaign_id, enrolment_id,
  attributed_by, click_id, customer_id, customer_email, order_amount, occurred_at, reasons, verdict, ip_hash, user_agent,
  sku, split, result_id, created_at`;

export async function findConversion(db: Db, orgId: string, externalId: string): Promise<ConversionRow | undefined> {
  const r = await sql<ConversionRow>`select ${COLUMNS} from conversions where org_id = ${orgId} and external_id = ${externalId}`.execute(db);
  return r.rows[0];
}

export async function conversionById(db: Db, id: string, orgId?: string): Promise<ConversionRow | undefined> {
  const owner = orgId ? sql`and org_id = ${orgId}` : sql``;
  const r = await sql<ConversionRow>`select ${COLUMNS} from conversions where id = ${id} ${owner}`.execute(db);
  return r.rows[0];
}

export async function insertConversion(trx: Db, c: NewConversion): Promise<void> {
  await insertConversions(trx, [c]);
}

/** The journeys of conversions just inserted, in one statement. */
async function insertTouches(trx: Db, rows: readonly NewConversion[]): Promise<void> {
  const touches = rows.flatMap((c) =>
    (c.touches ?? []).map((t, position) => ({ conversion_id: c.id, position, ...t, occurred_at: t.occurred_at.toISOString() })),
  );
  if (touches.length === 0) return;
  await sql`insert into conversion_touches (conversion_id, position, click_id, enrolment_id, creator_id, occurred_at, credit)
    select conversion_id, position, click_id, enrolment_id, creator_id, occurred_at, credit
    from json_to_recordset(${JSON.stringify(touches)}::json) as x(conversion_id text, position int, click_id text, enrolment_id text,
      creator_id text, occurred_at timestamptz, credit float8)`.execute(trx);
}

/** A conversion's journey, oldest touch first (empty for conversions recorded before journeys were kept). */
export async function touchesOf(db: Db, conversionId: string): Promise<StoredTouch[]> {
  const r = await sql<StoredTouch>`select click_id, enrolment_id, creator_id, occurred_at, credit from conversion_touches
    where conversion_id = ${conversionId} order by position`.execute(db);
  return r.rows.map((t) => ({ ...t, credit: Number(t.credit) }));
}

/** A batch's conversions in one statement (rows travel as one JSON document). */
export async function insertConversions(trx: Db, rows: readonly NewConversion[]): Promise<void> {
  if (rows.length === 0) return;
  const json = JSON.stringify(
    rows.map((c) => ({
      ...c,
      order_amount: c.order_amount?.toString() ?? null,
      occurred_at: c.occurred_at.toISOString(),
      verdict: verdictOf(c),
      ip_hash: c.ip_hash ?? null,
      user_agent: c.user_agent ?? null,
      sku: c.sku ?? null,
      split: c.split ?? null,
      touches: undefined,
    })),
  );
  await sql`insert into conversions (id, org_id, external_id, request, request_sha256, status, response, type, campaign_id,
      enrolment_id, attributed_by, click_id, customer_id, customer_email, order_amount, occurred_at, reasons, verdict, ip_hash, user_agent,
      sku, split)
    select id, org_id, external_id, request, request_sha256, status, response, type, campaign_id, enrolment_id, attributed_by,
      click_id, customer_id, customer_email, order_amount, occurred_at, reasons, verdict, ip_hash, user_agent, sku, split
    from json_to_recordset(${json}::json) as x(id text, org_id text, external_id text, request jsonb, request_sha256 text,
      status text, response jsonb, type text, campaign_id text, enrolment_id text, attributed_by text, click_id text,
      customer_id text, customer_email text, order_amount int8, occurred_at timestamptz, reasons text[], verdict text,
      ip_hash text, user_agent text, sku text, split jsonb)`.execute(trx);
  await insertTouches(trx, rows);
}

/** completeConversion for a batch, in one statement. */
export async function completeConversions(
  trx: Db,
  done: ReadonlyArray<{ id: string; status: ConversionStatus; resultId: string; response: unknown }>,
): Promise<void> {
  if (done.length === 0) return;
  const json = JSON.stringify(done.map((d) => ({ id: d.id, status: d.status, result_id: d.resultId, response: d.response })));
  await sql`update conversions c set status = x.status, result_id = x.result_id, response = x.response
    from json_to_recordset(${json}::json) as x(id text, status text, result_id text, response jsonb)
    where c.id = x.id and c.status = 'recording'`.execute(trx);
}

/** Writes the answer once; a concurrent finisher of the same conversion wrote the same one. */
export async function completeConversion(
  db: Db,
  id: string,
  p: { status: ConversionStatus; resultId: string; response: unknown },
): Promise<void> {
  await sql`update conversions set status = ${p.status}, result_id = ${p.resultId}, response = ${JSON.stringify(p.response)}::jsonb
    where id = ${id} and status = 'recording'`.execute(db);
}

/** Conversions a crash left between their decision and their result, oldest first, a bounded batch. */
export async function recordingConversions(db: Db, olderThanSeconds: number, limit: number): Promise<ConversionRow[]> {
  const r = await sql<ConversionRow>`select ${COLUMNS} from conversions
    where status = 'recording' and created_at <= now() - make_interval(secs => ${olderThanSeconds})
    order by created_at limit ${limit}`.execute(db);
  return r.rows;
}

/**
 * Conversions newest first by created_at (when Earnest received them; occurred_at is the brand's
 * word), then id: a brand's through conversions_org_created, its campaign and status filters on it.
 */
export async function listConversions(
  db: Db,
  filter: { orgId?: string; campaignId?: string; status?: ConversionStatus | 'recording' },
  page: PageRequest,
): Promise<Page<ConversionRow>> {
  const k = keyset(page, { time: 'created_at', keys: ['id'] });
  const conditions = [
    filter.orgId ? sql`org_id = ${filter.orgId}` : sql`true`,
    filter.campaignId ? sql`campaign_id = ${filter.campaignId}` : sql`true`,
    filter.status ? sql`status = ${filter.status}` : sql`true`,
    k.where,
  ];
  const r = await sql<ConversionRow & PageTime>`select ${COLUMNS}, ${k.select} from conversions where ${sql.join(conditions, sql` and `)}
    order by ${k.orderBy} limit ${k.limit}`.execute(db);
  return k.page(r.rows, (c) => [c.id]);
}

/** Any earlier lead attributed to the campaign from this customer, by id or by normalised email. */
export async function hasEarlierLead(trx: Db, campaignId: string, customer: { id: string; email: string | null }): Promise<boolean> {
  const byEmail = customer.email ? sql`or customer_email = ${customer.email}` : sql``;
  const r = await sql`select 1 from conversions where campaign_id = ${campaignId} and type = 'lead'
    and (customer_id = ${customer.id} ${byEmail}) limit 1`.execute(trx);
  return r.rows.length > 0;
}

export interface CustomerProbe {
  /** The campaign (earlier leads) or the enrolment (promo uses) asked about. */
  scope: string;
  customerId: string;
  email: string | null;
}

/**
 * hasEarlierLead for many (campaign, customer) probes at once: the indexes of the probes that have one.
 * Each probe is its own lateral subquery (two index probes, stopping at the first hit): written as
 * `exists … or exists …`, the planner hashes every lead of the campaign once per batch instead, which
 * grows with the campaign (measured: 5 ms at 6,000 leads against 0.08 ms). The email probes say
 * `customer_email is not null` outright: it is the email indexes' predicate, and without it the planner
 * was seen probing the customer-id index by campaign alone and filtering every lead.
 */
export async function probesWithEarlierLead(trx: Db, probes: readonly CustomerProbe[]): Promise<Set<number>> {
  if (probes.length === 0) return new Set();
  const r = await sql<{ i: bigint }>`select v.i from unnest(${probes.map((p) => p.scope)}::text[], ${probes.map((p) => p.customerId)}::text[],
      ${probes.map((p) => p.email)}::text[]) with ordinality as v(campaign_id, customer_id, email, i)
    cross join lateral (
      (select 1 from conversions c where c.campaign_id = v.campaign_id and c.type = 'lead' and c.customer_id = v.customer_id limit 1)
      union all
      (select 1 from conversions c where v.email is not null and c.campaign_id = v.campaign_id and c.type = 'lead'
        and c.customer_email is not null and c.customer_email = v.email limit 1)
      limit 1) as hit`.execute(trx);
  return new Set(r.rows.map((x) => Number(x.i) - 1));
}

/** promoUses for many probes at once: accepted uses per capped enrolment, and the probes whose customer used the code. */
export async function promoUsesMany(
  trx: Db,
  probes: readonly CustomerProbe[],
  cappedEnrolmentIds: readonly string[],
): Promise<{ totals: Map<string, number>; used: Set<number> }> {
  const totals = new Map<string, number>();
  if (cappedEnrolmentIds.length > 0) {
    const r = await sql<{ enrolment_id: string; n: bigint }>`select enrolment_id, count(*) as n from conversions
      where enrolment_id = any(${[...new Set(cappedEnrolmentIds)]}::text[]) and attributed_by = 'promo' and verdict in ('valid', 'review')
      group by enrolment_id`.execute(trx);
    for (const row of r.rows) totals.set(row.enrolment_id, Number(row.n));
  }
  if (probes.length === 0) return { totals, used: new Set() };
  const r = await sql<{ i: bigint }>`select v.i from unnest(${probes.map((p) => p.scope)}::text[], ${probes.map((p) => p.customerId)}::text[],
      ${probes.map((p) => p.email)}::text[]) with ordinality as v(enrolment_id, customer_id, email, i)
    cross join lateral (
      (select 1 from conversions c where c.enrolment_id = v.enrolment_id and c.attributed_by = 'promo' and c.verdict in ('valid', 'review')
        and c.customer_id = v.customer_id limit 1)
      union all
      (select 1 from conversions c where v.email is not null and c.enrolment_id = v.enrolment_id and c.attributed_by = 'promo'
        and c.customer_email is not null and c.verdict in ('valid', 'review') and c.customer_email = v.email limit 1)
      limit 1) as hit`.execute(trx);
  return { totals, used: new Set(r.rows.map((x) => Number(x.i) - 1)) };
}

/**
 * Accepted uses of an enrolment's promo code: all of them (counted only when the code has a cap) and
 * whether this customer used it already (an index probe).
 */
export async function promoUses(
  trx: Db,
  enrolmentId: string,
  customer: { id: string; email: string | null },
  countAll: boolean,
): Promise<{ total: number; byCustomer: number }> {
  const byEmail = customer.email ? sql`or customer_email = ${customer.email}` : sql``;
  const total = countAll
    ? sql`(select count(*) from conversions where enrolment_id = ${enrolmentId} and attributed_by = 'promo' and verdict in ('valid', 'review'))`
    : sql`0::int8`;
  const r = await sql<{ total: bigint; by_customer: bigint }>`select ${total} as total,
      (select count(*) from (select 1 from conversions where enrolment_id = ${enrolmentId} and attributed_by = 'promo'
         and verdict in ('valid', 'review') and (customer_id = ${customer.id} ${byEmail}) limit 1) as used) as by_customer`.execute(trx);
  const row = r.rows[0];
  return { total: Number(row?.total ?? 0n), byCustomer: Number(row?.by_customer ?? 0n) };
}

export interface BrandClick {
  id: string;
  enrolment_id: string;
  campaign_id: string;
  occurred_at: Date;
  status: ClickStatus;
  ip_hash: string;
  user_agent: string | null;
  referrer: string | null;
  landing_url: string | null;
  creator_id: string;
  visitor_id: string | null;
}

const CLICK_COLUMNS = sql`k.id, k.enrolment_id, k.campaign_id, k.occurred_at, k.status, k.ip_hash, k.user_agent, k.referrer, k.landing_url,
  k.creator_id, k.visitor_id`;

/**
 * The valid clicks of these visitors on these campaigns since a time: the rest of each visitor's
 * journey (the redirect's first-party cookie ties a visitor's clicks together across creators' links).
 * One statement for a whole batch; callers keep each conversion's own campaign and window.
 */
export async function visitorClicks(
  trx: Db,
  p: { campaignIds: readonly string[]; visitorIds: readonly string[]; since: Date; until: Date },
): Promise<BrandClick[]> {
  if (p.campaignIds.length === 0 || p.visitorIds.length === 0) return [];
  // One index probe per visitor (clicks_visitor_id), as decision 11's customer probes: before statistics
  // catch up, a flat `visitor_id = any(…)` may be planned as a scan of the campaign's clicks instead.
  const r = await sql<BrandClick>`select ${CLICK_COLUMNS}
    from unnest(${[...new Set(p.visitorIds)]}::text[]) as v(id)
    cross join lateral (select * from clicks k where k.visitor_id = v.id
      and k.occurred_at >= ${p.since.toISOString()}::timestamptz and k.occurred_at <= ${p.until.toISOString()}::timestamptz
      order by k.occurred_at limit 1000) k
    where k.campaign_id = any(${[...new Set(p.campaignIds)]}::text[]) and k.status = 'valid'
    order by k.occurred_at, k.id`.execute(trx);
  return r.rows;
}

/** brandClick for many (brand, click id) pairs at once. */
export async function brandClicks(trx: Db, keys: ReadonlyArray<{ orgId: string; clickId: string }>): Promise<Array<BrandClick & { org_id: string }>> {
  if (keys.length === 0) return [];
  const r = await sql<BrandClick & { org_id: string }>`select c.org_id, ${CLICK_COLUMNS}
    from unnest(${keys.map((k) => k.orgId)}::text[], ${keys.map((k) => k.clickId)}::text[]) as x(org_id, click_id)
    join clicks k on k.id = x.click_id join campaigns c on c.id = k.campaign_id and c.org_id = x.org_id`.execute(trx);
  return r.rows;
}

/** A click on one of this brand's campaigns; another brand's click is as unknown as a made-up id. */
export async function brandClick(trx: Db, orgId: string, clickId: string): Promise<BrandClick | undefined> {
  const r = await sql<BrandClick>`select ${CLICK_COLUMNS}
    from clicks k join campaigns c on c.id = k.campaign_id where k.id = ${clickId} and c.org_id = ${orgId}`.execute(trx);
  return r.rows[0];
}

/** Creators' contacts by id (self-referral compares the customer's email and phone with them). */
export async function creatorContacts(db: Db, ids: readonly string[]): Promise<Map<string, { email: string; phone: string | null }>> {
  if (ids.length === 0) return new Map();
  const r = await sql<{ id: string; email: string; phone: string | null }>`select id, email, phone from creators
    where id = any(${[...new Set(ids)]}::text[])`.execute(db);
  return new Map(r.rows.map((c) => [c.id, { email: c.email, phone: c.phone }]));
}

export interface NewViewReport {
  id: string;
  enrolment_id: string;
  campaign_id: string;
  creator_id: string;
  views: bigint;
  evidence_url: string;
  external_id: string | null;
  platform: string | null;
  post_id: string | null;
  posted_at: Date | null;
  likes: bigint | null;
  comments: bigint | null;
  status: 'submitted' | 'in_review';
  findings: readonly { code: string; detail: string }[];
  verified: boolean;
  insights_views: bigint | null;
}

/** Inserts a view report; undefined when the creator's external_id is taken (by a concurrent copy, say). */
export async function insertViewReport(db: Db, v: NewViewReport): Promise<ViewReport | undefined> {
  const r = await sql<ViewReport>`insert into view_reports (id, enrolment_id, campaign_id, creator_id, views, evidence_url, external_id, created_at,
      platform, post_id, posted_at, likes, comments, status, findings, verified_at, insights_views)
    values (${v.id}, ${v.enrolment_id}, ${v.campaign_id}, ${v.creator_id}, ${v.views.toString()}::int8, ${v.evidence_url}, ${v.external_id}, earnest_now(),
      ${v.platform}, ${v.post_id}, ${v.posted_at}, ${v.likes?.toString() ?? null}::int8, ${v.comments?.toString() ?? null}::int8, ${v.status},
      ${JSON.stringify(v.findings)}::jsonb, ${v.verified ? sql`earnest_now()` : null}, ${v.insights_views?.toString() ?? null}::int8)
    on conflict (creator_id, external_id) where external_id is not null do nothing
    returning *`.execute(db);
  return r.rows[0];
}

/**
 * An enrolment's view evidence: a report being judged and an import of insights for the same
 * enrolment wait for each other, so a report is never judged without an import that committed
 * while it was being judged, nor missed by the import's re-check.
 */
export async function lockViewEvidence(trx: Db, enrolmentId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${enrolmentId}, 7103))`.execute(trx);
}

/** The creator's latest reports that are neither doubted nor rejected, with a post time: their own pace, for the velocity rule. */
export async function creatorViewHistory(db: Db, creatorId: string, limit: number): Promise<Array<{ views: bigint; posted_at: Date; reported_at: Date }>> {
  const r = await sql<{ views: string; posted_at: Date; reported_at: Date }>`select views::text, posted_at, created_at as reported_at from view_reports
    where creator_id = ${creatorId} and status in ('submitted', 'confirmed') and posted_at is not null
    order by created_at desc, id desc limit ${limit}`.execute(db);
  return r.rows.map((h) => ({ views: BigInt(h.views), posted_at: h.posted_at, reported_at: h.reported_at }));
}

/** An enrolment's open reports (submitted or in review), locked, oldest first: what an import of official insights may verify. */
export async function lockOpenViewReports(db: Db, enrolmentId: string, limit: number): Promise<ViewReport[]> {
  const r = await sql<ViewReport>`select * from view_reports where enrolment_id = ${enrolmentId} and status in ('submitted', 'in_review')
    order by created_at, id limit ${limit} for update`.execute(db);
  return r.rows;
}

/** The outcome of checking a report against official insights. */
export async function updateViewVerification(
  db: Db,
  p: { id: string; status: 'submitted' | 'in_review'; findings: readonly { code: string; detail: string }[]; verified: boolean; insightsViews: bigint; cleared: 'insights' | 'reopen' | 'keep' },
): Promise<void> {
  const cleared =
    p.cleared === 'insights' ? sql`cleared_at = earnest_now(), cleared_by = 'insights', clear_note = null` : p.cleared === 'reopen' ? sql`cleared_at = null, cleared_by = null, clear_note = null` : sql`cleared_at = cleared_at`;
  await sql`update view_reports set status = ${p.status}, findings = ${JSON.stringify(p.findings)}::jsonb,
      verified_at = ${p.verified ? sql`coalesce(verified_at, earnest_now())` : null}, insights_views = ${p.insightsViews.toString()}::int8, ${cleared}
    where id = ${p.id}`.execute(db);
}

/** The creator's view report with this external_id (its business key), if any. */
export async function viewReportByExternalId(db: Db, creatorId: string, externalId: string): Promise<ViewReport | undefined> {
  const r = await sql<ViewReport>`select * from view_reports where creator_id = ${creatorId} and external_id = ${externalId}`.execute(db);
  return r.rows[0];
}

/** A conversion as the brand lists it (the recorded answer is returned by POST only). */
export async function getConversion(db: Kysely<any>, orgId: string, id: string): Promise<ConversionRow> {
  const row = await conversionById(db, id, orgId);
  if (!row) throw new AppError('not_found', `no conversion ${id}`);
  return row;
}

// The verified views' SQL (views.ts keeps the rules of reporting, confirming, rejecting and clearing).

/** The creator's enrolment in the campaign, if they joined it. */
export async function enrolmentIdOf(db: Db, campaignId: string, creatorId: string): Promise<string | undefined> {
  const found = await sql<{ id: string }>`select id from enrolments where campaign_id = ${campaignId} and creator_id = ${creatorId}`.execute(db);
  return found.rows[0]?.id;
}

/** A report of one of the brand's campaigns (any report: orgId null), locked; undefined when there is none. */
export async function lockViewReport(trx: Db, orgId: string | null, id: string): Promise<ViewReport | undefined> {
  const r = await sql<ViewReport>`select v.* from view_reports v join campaigns c on c.id = v.campaign_id
    where v.id = ${id} and ${orgId === null ? sql`true` : sql`c.org_id = ${orgId}`} for update of v`.execute(trx);
  return r.rows[0];
}

export async function markConfirmed(trx: Db, id: string): Promise<void> {
  await sql`update view_reports set status = 'confirmed', decided_at = earnest_now() where id = ${id}`.execute(trx);
}

export async function markRejected(trx: Db, p: { id: string; reason: string; note: string | null }): Promise<void> {
  await sql`update view_reports set status = 'rejected', decision_reason = ${p.reason}, decision_note = ${p.note}, decided_at = earnest_now()
    where id = ${p.id}`.execute(trx);
}

/** Cleared by an operator: submitted again. */
export async function markCleared(trx: Db, p: { id: string; note: string }): Promise<void> {
  await sql`update view_reports set status = 'submitted', cleared_at = earnest_now(), cleared_by = 'operator', clear_note = ${p.note}
    where id = ${p.id}`.execute(trx);
}

/** A confirmed report's result, once recorded (a retry finds it set and leaves it). */
export async function setViewReportResult(db: Db, reportId: string, resultId: string): Promise<void> {
  await sql`update view_reports set result_id = ${resultId} where id = ${reportId} and result_id is null`.execute(db);
}

export async function viewReportById(db: Db, id: string): Promise<ViewReport> {
  const r = await sql<ViewReport>`select * from view_reports where id = ${id}`.execute(db);
  assert(r.rows[0], `view report ${id} vanished`);
  return r.rows[0];
}

function scoped(scope: ViewReportScope) {
  return [
    scope.orgId ? sql`v.campaign_id in (select id from campaigns where org_id = ${scope.orgId})` : sql`true`,
    scope.creatorId ? sql`v.creator_id = ${scope.creatorId}` : sql`true`,
  ];
}

export async function getViewReport(db: Db, id: string, scope: ViewReportScope): Promise<ViewReport> {
  const r = await sql<ViewReport>`select v.* from view_reports v where v.id = ${id} and ${sql.join(scoped(scope), sql` and `)}`.execute(db);
  if (!r.rows[0]) throw new AppError('not_found', `no view report ${id}`);
  return r.rows[0];
}

/**
 * View reports newest first by created_at, then id: a creator's through view_reports_creator, a
 * campaign's through view_reports_campaign (a brand's campaign by campaign), all through view_reports_created.
 */
export async function listViewReports(
  db: Db,
  scope: ViewReportScope,
  filter: { campaignId?: string; status?: ViewReportStatus },
  page: PageRequest,
): Promise<Page<ViewReport>> {
  const k = keyset(page, { time: 'r.created_at', keys: ['r.id'] });
  const rows = { orgId: scope.orgId, creatorId: scope.creatorId, campaignId: filter.campaignId, status: filter.status };
  const r = await sql<ViewReport & PageTime>`${campaignRowsPage({ table: 'view_reports', columns: sql`r.*`, filter: rows, k })}`.execute(db);
  return k.page(r.rows, (v) => [v.id]);
}

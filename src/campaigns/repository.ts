import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Keyset } from '../db/index.js';
import type { Campaign, CampaignStatus, Viewer } from './campaigns.js';
import type { Enrolment, EnrolmentWithTerms } from './enrolments.js';
import type { Terms } from '../terms/index.js';

/** The tables this module owns (only it writes them) and those of other modules it may read. */
export const TABLES = { owns: ['campaigns', 'campaign_terms', 'enrolments', 'terms_acceptances'], reads: ['results'] } as const;

/** Every SQL statement on campaigns, terms, enrolments and acceptances (issue #12): the module's logic calls these. */
type Db = Kysely<any>;

/** The creator's enrolment in the campaign if it ever accepted exactly this version of the terms (its business key). */
export async function enrolmentThatAccepted(
  db: Db,
  p: { creatorId: string; campaignId: string; termsVersion: number; termsSha256: string },
): Promise<Enrolment | undefined> {
  const r = await sql<Enrolment>`select e.* from enrolments e
    join terms_acceptances a on a.enrolment_id = e.id and a.terms_version = ${p.termsVersion} and a.terms_sha256 = ${p.termsSha256}
    where e.campaign_id = ${p.campaignId} and e.creator_id = ${p.creatorId}`.execute(db);
  return r.rows[0];
}

/** The terms of each (campaign, version) named, as stored and hashed; keyed `<campaign id> <version>`. */
export async function termsVersions(db: Db, refs: ReadonlyArray<{ campaign_id: string; terms_version: number }>): Promise<Map<string, Terms>> {
  if (refs.length === 0) return new Map();
  const r = await sql<{ campaign_id: string; version: number; terms: Terms }>`select t.campaign_id, t.version, t.terms
    from unnest(${refs.map((x) => x.campaign_id)}::text[], ${refs.map((x) => x.terms_version)}::int[]) as x(campaign_id, version)
    join campaign_terms t on t.campaign_id = x.campaign_id and t.version = x.version`.execute(db);
  return new Map(r.rows.map((row) => [`${row.campaign_id} ${row.version}`, row.terms]));
}

/** Sets the fields given (undefined: unchanged; a null threshold clears it). */
export async function updateSettings(db: Db, campaignId: string, s: { name?: string | undefined; lowEscrowThreshold?: bigint | null | undefined }): Promise<void> {
  const sets = [
    ...(s.name !== undefined ? [sql`name = ${s.name}`] : []),
    ...(s.lowEscrowThreshold !== undefined ? [sql`low_escrow_threshold = ${s.lowEscrowThreshold}`] : []),
  ];
  if (sets.length === 0) return;
  await sql`update campaigns set ${sql.join(sets)}, updated_at = now() where id = ${campaignId}`.execute(db);
}

/**
 * The escrow cannot cover the next result: running campaigns pause themselves until the brand tops
 * up (`paused_reason` over_budget). Called inside the transaction that found it out.
 */
export async function pauseForBudget(db: Db, campaignIds: readonly string[]): Promise<void> {
  if (campaignIds.length === 0) return;
  await sql`update campaigns set status = 'paused', paused_reason = 'over_budget', updated_at = now()
    where id = any(${[...campaignIds]}::text[]) and status = 'active'`.execute(db);
}

/** A campaign paused for budget that the brand pauses becomes the brand's pause. Whether it was one. */
export async function pauseByBrandIfBudgetPaused(db: Db, p: { campaignId: string; orgId: string; reason: string }): Promise<boolean> {
  const r = await sql`update campaigns set paused_reason = ${p.reason}, updated_at = now()
    where id = ${p.campaignId} and org_id = ${p.orgId} and status = 'paused' and paused_reason = 'over_budget'`.execute(db);
  return (r.numAffectedRows ?? 0n) > 0n;
}

// ---------------------------------------------------------------------------------------------
// Campaigns and their terms

export async function insertCampaign(
  trx: Db,
  p: { id: string; orgId: string; name: string; currency: string; threshold: bigint | null },
): Promise<void> {
  const { id, threshold } = p;
  await sql`insert into campaigns (id, org_id, name, currency, low_escrow_threshold)
      values (${id}, ${p.orgId}, ${p.name}, ${p.currency}, ${threshold})`.execute(trx);
}

/** One version of a campaign's terms, stored as `stored` (JSON text) with its hash. */
export async function insertTermsVersion(db: Db, p: { campaignId: string; version: number; stored: string; sha256: string }): Promise<void> {
  const { campaignId, version, stored, sha256 } = p;
  await sql`insert into campaign_terms (campaign_id, version, terms, terms_sha256)
    values (${campaignId}, ${version}, ${stored}::jsonb, ${sha256})`.execute(db);
}

const COLUMNS = sql`c.id, c.org_id, c.name, c.status, trim(c.currency) as currency, c.terms_version, t.terms,
    t.terms_sha256, c.paused_reason, c.low_escrow_threshold, c.created_at, c.ended_at, c.settled_at`;
const FROM = sql`from campaigns c join campaign_terms t on t.campaign_id = c.id and t.version = c.terms_version`;
const SELECT = sql`select ${COLUMNS} ${FROM}`;

function visibleTo(viewer: Viewer) {
  if (viewer.kind === 'operator') return sql`true`;
  if (viewer.kind === 'organization') return sql`c.org_id = ${viewer.id}`;
  return sql`(c.status in ('active', 'paused') or exists (
    select 1 from enrolments e where e.campaign_id = c.id and e.creator_id = ${viewer.id}))`;
}

/** The campaign if it exists and the viewer may see it. */
export async function campaignVisibleTo(db: Db, viewer: Viewer, id: string): Promise<Campaign | undefined> {
  const r = await sql<Campaign>`${SELECT} where c.id = ${id} and ${visibleTo(viewer)}`.execute(db);
  return r.rows[0];
}

/** One page of the campaigns the viewer may see, on the keyset `k` (columns `c.…`). */
export async function campaignsPage<T>(db: Db, viewer: Viewer, status: CampaignStatus | undefined, k: Keyset): Promise<T[]> {
  const filter = status ? sql`and c.status = ${status}` : sql``;
  const r = await sql<T>`select ${COLUMNS}, ${k.select} ${FROM} where ${visibleTo(viewer)} ${filter} and ${k.where}
    order by ${k.orderBy} limit ${k.limit}`.execute(db);
  return r.rows;
}

/** The brand's campaign locked for a change of terms (inside the transaction making it). */
export async function campaignForTermsChange(
  trx: Db,
  orgId: string,
  id: string,
): Promise<{ status: CampaignStatus; currency: string; terms_version: number } | undefined> {
  const r = await sql<{ status: CampaignStatus; currency: string; terms_version: number }>`
      select status, trim(currency) as currency, terms_version from campaigns where id = ${id} and org_id = ${orgId} for update`.execute(trx);
  return r.rows[0];
}

export async function setTermsVersion(trx: Db, id: string, version: number): Promise<void> {
  await sql`update campaigns set terms_version = ${version}, updated_at = now() where id = ${id}`.execute(trx);
}

/**
 * Moves the campaign to `to` if its status is one of `from` (and it is the brand's, when `orgId` is
 * given); `pausedReason` is stored as is. Whether it moved.
 */
export async function moveCampaign(
  db: Db,
  p: { id: string; to: CampaignStatus; from: readonly CampaignStatus[]; orgId?: string | undefined; pausedReason: string | null },
): Promise<boolean> {
  const { id, to, from } = p;
  const owner = p.orgId ? sql`and org_id = ${p.orgId}` : sql``;
  const stamps = to === 'ended' ? sql`, ended_at = earnest_now()` : to === 'settled' ? sql`, settled_at = earnest_now()` : sql``;
  const r = await sql`update campaigns set status = ${to}, paused_reason = ${p.pausedReason},
      updated_at = now() ${stamps}
    where id = ${id} ${owner} and status in (${sql.join([...from])})`.execute(db);
  return (r.numAffectedRows ?? 0n) > 0n;
}

/** The campaign's status (the brand's only, when `orgId` is given), or undefined. */
export async function campaignStatus(db: Db, id: string, orgId?: string | undefined): Promise<CampaignStatus | undefined> {
  const owner = orgId ? sql`and org_id = ${orgId}` : sql``;
  const current = await sql<{ status: CampaignStatus }>`select status from campaigns where id = ${id} ${owner}`.execute(db);
  return current.rows[0]?.status;
}

// ---------------------------------------------------------------------------------------------
// Enrolments

/** The creator's enrolment in the campaign, locked (inside the transaction accepting terms). */
export async function enrolmentForUpdate(trx: Db, p: { campaignId: string; creatorId: string }): Promise<Enrolment | undefined> {
  const existing = await sql<Enrolment>`
    select * from enrolments where campaign_id = ${p.campaignId} and creator_id = ${p.creatorId} for update`.execute(trx);
  return existing.rows[0];
}

export async function rebindEnrolment(trx: Db, id: string, p: { termsVersion: number; termsSha256: string }): Promise<void> {
  await sql`update enrolments set terms_version = ${p.termsVersion}, terms_sha256 = ${p.termsSha256}, accepted_at = earnest_now()
      where id = ${id}`.execute(trx);
}

export async function insertEnrolment(
  trx: Db,
  id: string,
  p: { creatorId: string; campaignId: string; termsVersion: number; termsSha256: string },
  codes: { linkCode: string; promoCode: string; promoMaxUses: number | null; promoOncePerCustomer: boolean },
): Promise<void> {
  await sql`insert into enrolments (id, campaign_id, creator_id, terms_version, terms_sha256, accepted_at, link_code, promo_code,
        promo_max_uses, promo_once_per_customer)
      values (${id}, ${p.campaignId}, ${p.creatorId}, ${p.termsVersion}, ${p.termsSha256}, earnest_now(), ${codes.linkCode},
        ${codes.promoCode}, ${codes.promoMaxUses}, ${codes.promoOncePerCustomer})`.execute(trx);
}

export async function recordAcceptance(trx: Db, id: string, p: { termsVersion: number; termsSha256: string }): Promise<void> {
  await sql`insert into terms_acceptances (enrolment_id, terms_version, terms_sha256, accepted_at)
    values (${id}, ${p.termsVersion}, ${p.termsSha256}, earnest_now()) on conflict do nothing`.execute(trx);
}

export async function enrolmentRow(trx: Db, id: string): Promise<Enrolment | undefined> {
  const r = await sql<Enrolment>`select * from enrolments where id = ${id}`.execute(trx);
  return r.rows[0];
}

const WITH_TERMS = sql`select e.*, c.org_id, c.status as campaign_status, t.terms
  from enrolments e join campaigns c on c.id = e.campaign_id
  join campaign_terms t on t.campaign_id = e.campaign_id and t.version = e.terms_version`;

export async function enrolmentByLinkCode(db: Db, code: string): Promise<EnrolmentWithTerms | undefined> {
  const r = await sql<EnrolmentWithTerms>`${WITH_TERMS} where e.link_code = ${code}`.execute(db);
  return r.rows[0];
}

export async function enrolmentByPromoCode(db: Db, orgId: string, code: string): Promise<EnrolmentWithTerms | undefined> {
  const r = await sql<EnrolmentWithTerms>`${WITH_TERMS} where upper(e.promo_code) = upper(${code}) and c.org_id = ${orgId}`.execute(db);
  return r.rows[0];
}

export async function enrolmentById(db: Db, id: string): Promise<EnrolmentWithTerms | undefined> {
  const r = await sql<EnrolmentWithTerms>`${WITH_TERMS} where e.id = ${id}`.execute(db);
  return r.rows[0];
}

/** Many enrolments at once (a batch of conversions), by id. */
export async function enrolmentsByIds(db: Db, ids: readonly string[]): Promise<EnrolmentWithTerms[]> {
  if (ids.length === 0) return [];
  const r = await sql<EnrolmentWithTerms>`${WITH_TERMS} where e.id = any(${[...new Set(ids)]}::text[])`.execute(db);
  return r.rows;
}

/** Many promo codes at once, each looked up among its brand's enrolments (codes compare case-insensitively). */
export async function enrolmentsByPromoCodes(
  db: Db,
  codes: ReadonlyArray<{ orgId: string; code: string }>,
): Promise<Array<EnrolmentWithTerms & { code: string }>> {
  if (codes.length === 0) return [];
  const r = await sql<EnrolmentWithTerms & { code: string }>`select x.code, w.* from unnest(${codes.map((c) => c.orgId)}::text[],
      ${codes.map((c) => c.code.toUpperCase())}::text[]) as x(org_id, code)
    cross join lateral (${WITH_TERMS} where upper(e.promo_code) = x.code and c.org_id = x.org_id) as w`.execute(db);
  return r.rows;
}

/** Sets (or clears) the enrolment's own target; the row, or undefined when the campaign has no such enrolment. */
export async function updateEnrolmentTarget(db: Db, p: { campaignId: string; enrolmentId: string; target: number | null }): Promise<Enrolment | undefined> {
  const r = await sql<Enrolment>`update enrolments set target = ${p.target}
     where id = ${p.enrolmentId} and campaign_id = ${p.campaignId} returning *`.execute(db);
  return r.rows[0];
}

/** One page of enrolments, on the keyset `k` (columns `e.…`). */
export async function enrolmentsPage<T>(db: Db, filter: { campaignId?: string; creatorId?: string; orgId?: string }, k: Keyset): Promise<T[]> {
  const conditions = [
    filter.campaignId ? sql`e.campaign_id = ${filter.campaignId}` : sql`true`,
    filter.creatorId ? sql`e.creator_id = ${filter.creatorId}` : sql`true`,
    filter.orgId ? sql`c.org_id = ${filter.orgId}` : sql`true`,
    k.where,
  ];
  const r = await sql<T>`select e.*, ${k.select} from enrolments e join campaigns c on c.id = e.campaign_id
    where ${sql.join(conditions, sql` and `)} order by ${k.orderBy} limit ${k.limit}`.execute(db);
  return r.rows;
}

/** The creator's enrolment id in the campaign, if any. */
export async function enrolmentIdOf(db: Db, p: { creatorId: string; campaignId: string }): Promise<string | undefined> {
  const found = await sql<{ id: string }>`select id from enrolments where campaign_id = ${p.campaignId} and creator_id = ${p.creatorId}`.execute(db);
  return found.rows[0]?.id;
}

/** The enrolment's results recorded in [start, end) that count or may count: approved, pending, in review. */
export async function resultsInPeriod(db: Db, enrolmentId: string, period: { start: Date; end: Date }): Promise<Array<{ status: string; gross: bigint }>> {
  const rows = await sql<{ status: string; gross: bigint }>`select status, gross from results
    where enrolment_id = ${enrolmentId} and recorded_at >= ${period.start.toISOString()}::timestamptz
      and recorded_at < ${period.end.toISOString()}::timestamptz and status in ('approved', 'pending', 'review')
    order by recorded_at, id`.execute(db);
  return rows.rows;
}

// ---------------------------------------------------------------------------------------------
// Lists over rows of other modules scoped by campaign (results, clicks, view reports)

/**
 * The conditions of a list over rows that carry `campaign_id` and `creator_id` (results, clicks, view
 * reports): a brand sees its campaigns' rows, a creator their own, optionally one campaign and one
 * status. Joined with `and`; an absent filter is `true`.
 */
export interface CampaignRowFilter {
  campaignId?: string | undefined;
  orgId?: string | undefined;
  creatorId?: string | undefined;
  status?: string | undefined;
}

/** The conditions on the rows' table, aliased `r` (a brand's scope is a join, see `campaignRowsPage`). */
function rowConditions(f: CampaignRowFilter): RawBuilder<unknown> {
  const conditions = [
    f.campaignId ? sql`r.campaign_id = ${f.campaignId}` : sql`true`,
    f.creatorId ? sql`r.creator_id = ${f.creatorId}` : sql`true`,
    f.status ? sql`r.status = ${f.status}` : sql`true`,
  ];
  return sql.join(conditions, sql` and `);
}

/**
 * One page of such a list, newest first on the keyset `k` (whose columns are `r.…`): `table` is read
 * as `r`, `columns` its select list. A creator's rows, one campaign's and all of them (operators)
 * are one index range each ((creator_id | campaign_id | nothing, time, id)). A brand's rows have no
 * org column: they are read campaign by campaign — at most a page from each campaign's index range —
 * and merged, so a page sorts at most (the brand's campaigns × a page) rows, never the brand's history.
 */
export function campaignRowsPage(p: { table: string; columns: RawBuilder<unknown>; filter: CampaignRowFilter; k: Keyset }): RawBuilder<unknown> {
  const { filter: f, k } = p;
  const table = sql.table(p.table);
  const inner = sql`select ${p.columns}, ${k.select} from ${table} r where ${rowConditions(f)} and ${k.where}`;
  if (!f.orgId) return sql`${inner} order by ${k.orderBy} limit ${k.limit}`;
  const campaign = f.campaignId ? sql`and c.id = ${f.campaignId}` : sql``;
  return sql`select r.* from campaigns c
    cross join lateral (${inner} and r.campaign_id = c.id order by ${k.orderBy} limit ${k.limit}) r
    where c.org_id = ${f.orgId} ${campaign}
    order by ${k.orderBy} limit ${k.limit}`;
}

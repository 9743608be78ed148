import { randomBytes } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import { campaignRowsPage } from '../campaigns/index.js';
import { keyset, type Page, type PageRequest, type PageTime } from '../db/index.js';
import { assert } from '../errors/index.js';
import type { ClickStatus } from './flags.js';

/** The tables this module owns (only it writes them) and those of other modules it may read. */
export const TABLES = { owns: ['clicks', 'instance_settings', 'verified_views', 'verified_view_batches'], reads: ['earnest_clock'] } as const;

/** Every SQL statement of src/tracking/: the clicks, the IP-hash salt, verified views and their batches. */
type Db = Kysely<any>;
type Trx = Transaction<any>;

export interface Click {
  id: string;
  enrolment_id: string;
  campaign_id: string;
  creator_id: string;
  occurred_at: Date;
  ip_hash: string;
  user_agent: string | null;
  referrer: string | null;
  country: string | null;
  landing_url: string | null;
  /** The visitor cookie's id: a visitor's clicks across links and campaigns form one journey. */
  visitor_id: string | null;
  status: ClickStatus;
  result_id: string | null;
  billable: boolean;
}

export type NewClick = Omit<Click, 'result_id'>;

const SALT_KEY = 'ip_hash_salt';

/**
 * The installation's salt for hashing visitor IPs: made once (the first process to start wins the
 * insert), then read by every process, so all of them hash an IP alike and repeat detection works
 * across processes.
 */
export async function ipHashSalt(db: Db): Promise<string> {
  const read = async () => (await sql<{ value: string }>`select value from instance_settings where key = ${SALT_KEY}`.execute(db)).rows[0];
  const existing = await read();
  if (existing) return existing.value;
  await sql`insert into instance_settings (key, value) values (${SALT_KEY}, ${randomBytes(32).toString('hex')})
    on conflict (key) do nothing`.execute(db);
  const made = await read();
  assert(made, 'the IP hash salt must exist after it was made');
  return made.value;
}

/**
 * Serialises click writers across processes (so repeat detection sees every committed click) and
 * reads the database clock's offset in the same round trip. The two-int advisory key space is apart
 * from the ledger's bigint keys; the schema keeps test schemas on one server apart.
 */
export async function lockWriterAndReadClockOffsetMs(trx: Trx): Promise<number> {
  const r = await sql<{ offset_us: bigint }>`select offset_us from earnest_clock,
    (select pg_advisory_xact_lock(7002, hashtext(current_schema()))) as lock`.execute(trx);
  const offset = r.rows[0]?.offset_us;
  assert(offset !== undefined, 'earnest_clock has its row');
  return Number(BigInt(offset) / 1000n);
}

/**
 * Valid clicks already written by these visitors (link, IP hash, user agent) between `from` and `to`.
 * Valid clicks always have a user agent (none is a bot), so each visitor is one probe of the partial
 * index clicks_visitor_key (a hash of the three), however many visitors share an IP. The lateral
 * subquery is fenced (`offset 0`) so the planner cannot flatten it into a scan of every recent click
 * that is joined against the batch, which it picks when the table's statistics are stale.
 */
export async function writtenValidClicks(
  trx: Trx,
  p: { visitors: ReadonlyArray<{ enrolmentId: string; ipHash: string; userAgent: string }>; from: Date; to: Date },
): Promise<Array<{ enrolment_id: string; ip_hash: string; user_agent: string; occurred_at: Date }>> {
  if (p.visitors.length === 0) return [];
  const v = p.visitors;
  const r = await sql<{ enrolment_id: string; ip_hash: string; user_agent: string; occurred_at: Date }>`
    select v.enrolment_id, v.ip_hash, v.user_agent, c.occurred_at
    from unnest(${v.map((x) => x.enrolmentId)}::text[], ${v.map((x) => x.ipHash)}::text[], ${v.map((x) => x.userAgent)}::text[])
      as v(enrolment_id, ip_hash, user_agent)
    cross join lateral (
      select c.occurred_at from clicks c
      where c.visitor_key = hashtextextended(v.enrolment_id || '|' || v.ip_hash || '|' || coalesce(v.user_agent, ''), 0)
        and c.enrolment_id = v.enrolment_id and c.ip_hash = v.ip_hash and c.user_agent = v.user_agent and c.status = 'valid'
        and c.occurred_at > ${p.from.toISOString()}::timestamptz and c.occurred_at < ${p.to.toISOString()}::timestamptz
      offset 0) as c`.execute(trx);
  return r.rows;
}

/**
 * One insert for the whole batch; the rows travel as one JSON document (serialised natively, parsed
 * once by the database) rather than a dozen array parameters. A retry after a lost commit
 * acknowledgement inserts nothing twice (ids are the keys). Only when fewer rows went in than were sent
 * (such a retry, whose batch may have grown since) are the ids that did go in read back.
 */
export async function insertClicks(trx: Trx, rows: readonly NewClick[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const json = JSON.stringify(rows);
  const r = await sql<{ n: bigint }>`with inserted as (
      insert into clicks (id, enrolment_id, campaign_id, creator_id, occurred_at, ip_hash, user_agent, referrer, country, landing_url,
        visitor_id, status, billable)
      select id, enrolment_id, campaign_id, creator_id, occurred_at, ip_hash, user_agent, referrer, country, landing_url, visitor_id,
        status, billable
      from json_to_recordset(${json}::json) as x(id text, enrolment_id text, campaign_id text, creator_id text, occurred_at timestamptz,
        ip_hash text, user_agent text, referrer text, country text, landing_url text, visitor_id text, status text, billable boolean)
      on conflict (id) do nothing
      returning 1)
    select count(*) as n from inserted`.execute(trx);
  if (Number(r.rows[0]?.n ?? 0n) === rows.length) return new Set(rows.map((x) => x.id));
  // Some were there already: the rows this transaction wrote carry its transaction id.
  const mine = await sql<{ id: string }>`select id from clicks where id = any(${rows.map((x) => x.id)}::text[])
    and xmin = pg_current_xact_id()::xid`.execute(trx);
  return new Set(mine.rows.map((x) => x.id));
}

export async function setResultIds(db: Db, pairs: ReadonlyArray<{ clickId: string; resultId: string }>): Promise<void> {
  if (pairs.length === 0) return;
  await sql`update clicks c set result_id = x.result_id
    from unnest(${pairs.map((p) => p.clickId)}::text[], ${pairs.map((p) => p.resultId)}::text[]) as x(click_id, result_id)
    where c.id = x.click_id`.execute(db);
}

/** Billable clicks written without their result (a crash between the two steps), oldest first. */
export async function clicksAwaitingResult(db: Db, limit: number): Promise<Array<Pick<Click, 'id' | 'enrolment_id' | 'occurred_at' | 'country'>>> {
  const r = await sql<Pick<Click, 'id' | 'enrolment_id' | 'occurred_at' | 'country'>>`select id, enrolment_id, occurred_at, country from clicks
    where billable and result_id is null order by id limit ${limit}`.execute(db);
  return r.rows;
}

export interface ClickFilter {
  campaignId?: string | undefined;
  orgId?: string | undefined;
  creatorId?: string | undefined;
  status?: ClickStatus | undefined;
}

/**
 * Clicks newest first by occurred_at (the click's own time), then id: a creator's through
 * clicks_creator, a campaign's through clicks_campaign_time (a brand's campaign by campaign), all
 * through clicks_time. The API view leaves out the IP hash.
 */
export async function listClicks(db: Db, filter: ClickFilter, page: PageRequest): Promise<Page<Click>> {
  const k = keyset(page, { time: 'r.occurred_at', keys: ['r.id'] });
  const columns = sql`r.id, r.enrolment_id, r.campaign_id, r.creator_id, r.occurred_at, r.ip_hash, r.user_agent, r.referrer,
      trim(r.country) as country, r.landing_url, r.visitor_id, r.status, r.result_id, r.billable`;
  const r = await sql<Click & PageTime>`${campaignRowsPage({ table: 'clicks', columns, filter, k })}`.execute(db);
  return k.page(r.rows, (c) => [c.id]);
}

// ---------------------------------------------------------------------------------------------
// Verified views (the viewability beacon) and their batches

export const VERIFIED_VIEW_STATUSES = ['valid', 'bot', 'datacenter', 'click_flagged'] as const;
export type VerifiedViewStatus = (typeof VERIFIED_VIEW_STATUSES)[number];

export interface VerifiedView {
  id: string;
  enrolment_id: string;
  campaign_id: string;
  creator_id: string;
  click_id: string;
  element: string;
  kind: 'video' | 'display';
  visitor_key: string;
  ip_hash: string;
  user_agent: string | null;
  page_url: string | null;
  visible_ms: number;
  occurred_at: Date;
  status: VerifiedViewStatus;
  batch_id: string | null;
}

export type NewVerifiedView = Omit<VerifiedView, 'batch_id'>;

/** The database clock's offset from this process's (tests and the demo move it), in milliseconds. */
export async function clockOffsetMs(db: Db): Promise<number> {
  const r = await sql<{ offset_us: bigint }>`select offset_us from earnest_clock`.execute(db);
  const offset = r.rows[0]?.offset_us;
  assert(offset !== undefined, 'earnest_clock has its row');
  return Number(BigInt(offset) / 1000n);
}

export interface ClickForView {
  id: string;
  enrolment_id: string;
  campaign_id: string;
  occurred_at: Date;
  status: ClickStatus;
}

/** The clicks of these ids that exist (a beacon's ids are the visitor's; unknown ones are skipped). */
export async function clicksByIds(db: Db, ids: readonly string[]): Promise<ClickForView[]> {
  if (ids.length === 0) return [];
  const r = await sql<ClickForView>`select id, enrolment_id, campaign_id, occurred_at, status from clicks
    where id = any(${[...new Set(ids)]}::text[])`.execute(db);
  return r.rows;
}

/**
 * One insert for the batch (one JSON parameter). A view already there for its visitor, element and
 * enrolment (the unique key), or an id already written by a retry, is skipped. Answers how many went in.
 */
export async function insertVerifiedViews(trx: Trx | Db, rows: readonly NewVerifiedView[]): Promise<number> {
  if (rows.length === 0) return 0;
  const r = await sql<{ n: bigint }>`with inserted as (
      insert into verified_views (id, enrolment_id, campaign_id, creator_id, click_id, element, kind, visitor_key, ip_hash, user_agent,
        page_url, visible_ms, occurred_at, status)
      select id, enrolment_id, campaign_id, creator_id, click_id, element, kind, visitor_key, ip_hash, user_agent, page_url, visible_ms,
        occurred_at, status
      from json_to_recordset(${JSON.stringify(rows)}::json) as x(id text, enrolment_id text, campaign_id text, creator_id text,
        click_id text, element text, kind text, visitor_key text, ip_hash text, user_agent text, page_url text, visible_ms integer,
        occurred_at timestamptz, status text)
      on conflict do nothing
      returning 1)
    select count(*) as n from inserted`.execute(trx);
  return Number(r.rows[0]?.n ?? 0n);
}

/** Per enrolment, its valid views no batch has taken yet: how many, and the oldest's time. */
export async function unbatchedViewCounts(db: Db): Promise<Array<{ enrolment_id: string; views: bigint; oldest: Date }>> {
  const r = await sql<{ enrolment_id: string; views: bigint; oldest: Date }>`select enrolment_id, count(*) as views,
      min(occurred_at) as oldest
    from verified_views where status = 'valid' and batch_id is null group by enrolment_id order by enrolment_id`.execute(db);
  return r.rows.map((x) => ({ ...x, views: BigInt(x.views) }));
}

export interface ViewBatch {
  id: string;
  enrolment_id: string;
  views: bigint;
  first_view_id: string;
  last_view_id: string;
  occurred_at: Date;
  result_id: string | null;
}

/**
 * Takes an enrolment's unbatched valid views into a new batch, in the caller's transaction: the rows
 * are locked (SKIP LOCKED: a process doing the same at once takes none of them twice) and marked
 * with the batch. Undefined when there is none to take.
 */
export async function takeViewBatch(trx: Trx, enrolmentId: string, batchId: string): Promise<ViewBatch | undefined> {
  const r = await sql<{ id: string; occurred_at: Date }>`select id, occurred_at from verified_views
    where enrolment_id = ${enrolmentId} and status = 'valid' and batch_id is null order by id for update skip locked`.execute(trx);
  if (r.rows.length === 0) return undefined;
  const ids = r.rows.map((x) => x.id);
  const latest = r.rows.reduce((a, b) => (new Date(b.occurred_at) > new Date(a.occurred_at) ? b : a));
  const batch: ViewBatch = {
    id: batchId,
    enrolment_id: enrolmentId,
    views: BigInt(ids.length),
    first_view_id: ids[0] as string,
    last_view_id: ids[ids.length - 1] as string,
    occurred_at: new Date(latest.occurred_at),
    result_id: null,
  };
  await sql`insert into verified_view_batches (id, enrolment_id, views, first_view_id, last_view_id, occurred_at)
    values (${batch.id}, ${batch.enrolment_id}, ${batch.views.toString()}, ${batch.first_view_id}, ${batch.last_view_id},
      ${batch.occurred_at.toISOString()})`.execute(trx);
  await sql`update verified_views set batch_id = ${batch.id} where id = any(${ids}::text[])`.execute(trx);
  return batch;
}

/** Batches whose result is not recorded yet (just made, or a failure in between), oldest first. */
export async function unrecordedViewBatches(db: Db, limit: number): Promise<ViewBatch[]> {
  const r = await sql<ViewBatch>`select id, enrolment_id, views, first_view_id, last_view_id, occurred_at, result_id
    from verified_view_batches where result_id is null order by id limit ${limit}`.execute(db);
  return r.rows.map((b) => ({ ...b, views: BigInt(b.views) }));
}

export async function setViewBatchResults(db: Db, pairs: ReadonlyArray<{ batchId: string; resultId: string }>): Promise<void> {
  if (pairs.length === 0) return;
  await sql`update verified_view_batches b set result_id = x.result_id
    from unnest(${pairs.map((p) => p.batchId)}::text[], ${pairs.map((p) => p.resultId)}::text[]) as x(batch_id, result_id)
    where b.id = x.batch_id and b.result_id is null`.execute(db);
}

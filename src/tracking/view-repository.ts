import { type Kysely, sql, type Transaction } from 'kysely';
import { assert } from '../errors/index.js';
import type { ClickStatus } from './flags.js';

/** The only SQL for verified views (the viewability beacon) and their batches. */
type Db = Kysely<any>;
type Trx = Transaction<any>;

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

/** The database clock's time now (earnest_now()). */
export async function databaseNow(db: Db): Promise<Date> {
  const r = await sql<{ now: Date }>`select earnest_now() as now`.execute(db);
  assert(r.rows[0], 'earnest_now() answers');
  return new Date(r.rows[0].now);
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

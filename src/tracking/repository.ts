import { randomBytes } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import { campaignRowsPage } from '../campaigns/index.js';
import { keyset, type Page, type PageRequest, type PageTime } from '../db/index.js';
import { assert } from '../errors/index.js';
import type { ClickStatus } from './flags.js';

/** The tables this module owns (only it writes them) and those of other modules it may read. */
export const TABLES = { owns: ['clicks', 'instance_settings', 'verified_views', 'verified_view_batches'], reads: ['earnest_clock'] } as const;

/** The only SQL for the clicks table and the IP-hash salt. */
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

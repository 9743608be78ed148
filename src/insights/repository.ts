import { type Kysely, sql } from 'kysely';
import type { InsightRow, PostRef } from './provider.js';

/** The tables this module owns (only it writes them) and those of other modules it may read. */
export const TABLES = { owns: ['insight_imports', 'platform_insights'], reads: [] } as const;

/** The only SQL on insight_imports and platform_insights. */
type Db = Kysely<any>;

export type InsightsTrust = 'official' | 'creator';

export interface InsightImport {
  id: string;
  enrolment_id: string;
  source: string;
  trust: InsightsTrust;
  uploaded_by_kind: 'organization' | 'creator' | 'operator';
  uploaded_by_id: string | null;
  content_sha256: string;
  row_count: number;
  created_at: Date;
}

export async function insertImport(db: Db, i: Omit<InsightImport, 'created_at'>): Promise<InsightImport> {
  const r = await sql<InsightImport>`insert into insight_imports (id, enrolment_id, source, trust, uploaded_by_kind, uploaded_by_id, content_sha256, row_count, created_at)
    values (${i.id}, ${i.enrolment_id}, ${i.source}, ${i.trust}, ${i.uploaded_by_kind}, ${i.uploaded_by_id}, ${i.content_sha256}, ${i.row_count}, earnest_now())
    returning *`.execute(db);
  return r.rows[0] as InsightImport;
}

const CHUNK = 500;

/** Writes the rows; a row of the same post, day and trust replaces the earlier one (a later export is the newer count). */
export async function upsertInsightRows(db: Db, p: { enrolmentId: string; trust: InsightsTrust; importId: string; rows: readonly InsightRow[] }): Promise<void> {
  for (let i = 0; i < p.rows.length; i += CHUNK) {
    const values = p.rows.slice(i, i + CHUNK).map(
      (r) =>
        sql`(${p.enrolmentId}, ${p.trust}, ${r.platform}, ${r.post_id}, ${r.date}::date, ${r.post_url}, ${r.views.toString()}::int8,
          ${r.likes?.toString() ?? null}::int8, ${r.comments?.toString() ?? null}::int8, ${r.followers?.toString() ?? null}::int8, ${p.importId})`,
    );
    await sql`insert into platform_insights (enrolment_id, trust, platform, post_id, day, post_url, views, likes, comments, followers, import_id)
      values ${sql.join(values)}
      on conflict (enrolment_id, trust, platform, post_id, day) do update set post_url = excluded.post_url, views = excluded.views,
        likes = excluded.likes, comments = excluded.comments, followers = excluded.followers, import_id = excluded.import_id`.execute(db);
  }
}

export interface PostTotals {
  trust: InsightsTrust;
  platform: string;
  post_id: string;
  /** Views on the days up to and including `day` (the report's day). */
  through_day: bigint;
  all: bigint;
}

/**
 * A post's imported views by trust: the post named by platform and id, or else the one whose post_url
 * is `url` (a report that gave only its evidence link). Empty when nothing was imported for it.
 */
export async function postTotals(db: Db, p: { enrolmentId: string; post: PostRef | null; url: string | null; day: string }): Promise<PostTotals[]> {
  const which = p.post
    ? sql`platform = ${p.post.platform} and post_id = ${p.post.post_id}`
    : p.url
      ? sql`(platform, post_id) in (select platform, post_id from platform_insights where enrolment_id = ${p.enrolmentId} and post_url = ${p.url})`
      : null;
  if (!which) return [];
  const r = await sql<{ trust: InsightsTrust; platform: string; post_id: string; through_day: string; total: string }>`
    select trust, platform, post_id, coalesce(sum(views) filter (where day <= ${p.day}::date), 0)::text as through_day, sum(views)::text as total
    from platform_insights where enrolment_id = ${p.enrolmentId} and ${which}
    group by trust, platform, post_id order by trust, platform, post_id`.execute(db);
  return r.rows.map((row) => ({ platform: row.platform, post_id: row.post_id, trust: row.trust, through_day: BigInt(row.through_day), all: BigInt(row.total) }));
}

export async function importsOf(db: Db, enrolmentId: string, limit: number): Promise<InsightImport[]> {
  const r = await sql<InsightImport>`select * from insight_imports where enrolment_id = ${enrolmentId} order by created_at desc, id desc limit ${limit}`.execute(db);
  return r.rows;
}

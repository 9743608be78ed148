import { type RawBuilder, sql } from 'kysely';
import { AppError, assert } from '../errors/index.js';

/**
 * Keyset pages for every list (docs/api-conventions.md, "Lists"): newest first by one time column,
 * then by tie-break key columns (the id, or a composite key), descending; a page is read from where
 * the previous one ended — never with OFFSET, so a page costs the same deep in a list as at its top
 * and rows written meanwhile neither repeat nor vanish.
 *
 * The cursor's time is the last row's time exactly as the database holds it (microseconds), read in
 * the same statement as text: a JavaScript Date has only milliseconds, and a cursor rounded to them
 * would repeat or skip rows sharing that millisecond.
 */
export interface Cursor {
  /** `YYYY-MM-DDTHH:MM:SS.ffffffZ`, UTC, microseconds. */
  readonly time: string;
  /** The tie-break values of the last row, in the list's key order. */
  readonly keys: readonly string[];
}

export interface PageRequest {
  /** Rows in a page (the API keeps it within 1–100). */
  limit: number;
  /** Where the previous page ended; absent for the first page. */
  after?: Cursor | undefined;
  /** RFC 3339 times on the list's time column: `from` inclusive, `to` exclusive. */
  from?: string | undefined;
  to?: string | undefined;
}

export interface Page<T> {
  rows: T[];
  hasMore: boolean;
  /** The cursor after the last row, when another page follows. */
  next: Cursor | null;
}

/** The column the list's SQL selects (`k.select`) for the cursor. */
export interface PageTime {
  page_time: string;
}

export const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
export const PAGE_LIMIT_MAX = 100;

export interface Keyset {
  /** The filters of the page: the cursor and the time range. */
  where: RawBuilder<unknown>;
  /** `time desc, key… desc`. */
  orderBy: RawBuilder<unknown>;
  /** limit + 1: the extra row tells whether another page follows. */
  limit: number;
  /** The cursor time column, `page_time`. */
  select: RawBuilder<unknown>;
  /** The page from the rows read (at most `limit`), dropping `page_time`. */
  page<T>(rows: ReadonlyArray<T & PageTime>, keysOf: (row: T) => readonly string[]): Page<T>;
}

/**
 * The SQL pieces of one page of a list ordered by `columns.time` then `columns.keys` (qualified
 * column names such as `r.recorded_at`, `r.id`). The list's SQL stays in its module:
 * `select r.*, ${k.select} from … where … and ${k.where} order by ${k.orderBy} limit ${k.limit}`.
 * An index on (scope…, time, keys…) makes each page one index range.
 */
export function keyset(page: PageRequest, columns: { time: string; keys: readonly string[] }): Keyset {
  assert(Number.isInteger(page.limit) && page.limit >= 1 && page.limit <= PAGE_LIMIT_MAX, `page limit ${page.limit} out of range`);
  assert(columns.keys.length >= 1, 'a keyset needs a tie-break key');
  const time = sql.ref(columns.time);
  const keys = columns.keys.map((k) => sql.ref(k));
  const { after } = page;
  if (after) {
    // A cursor is opaque to clients; one of another list (another number of keys) is theirs to fix.
    if (after.keys.length !== keys.length || !CURSOR_TIME.test(after.time)) {
      throw new AppError('invalid_request', 'after: not a cursor of this list; pass the next_after of its previous page', { details: { field: 'after' } });
    }
  }
  const conditions = [
    page.from === undefined ? null : sql`${time} >= ${page.from}::timestamptz`,
    page.to === undefined ? null : sql`${time} < ${page.to}::timestamptz`,
    after ? sql`(${sql.join([time, ...keys])}) < (${sql.join([sql`${after.time}::timestamptz`, ...after.keys.map((k) => sql`${k}`)])})` : null,
  ].filter((c): c is RawBuilder<unknown> => c !== null);
  return {
    where: conditions.length === 0 ? sql`true` : sql.join(conditions, sql` and `),
    orderBy: sql.join([time, ...keys].map((c) => sql`${c} desc`)),
    limit: page.limit + 1,
    select: sql`to_char(${time} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as page_time`,
    page<T>(rows: ReadonlyArray<T & PageTime>, keysOf: (row: T) => readonly string[]): Page<T> {
      assert(rows.length <= page.limit + 1, `a page read ${rows.length} rows for a limit of ${page.limit}`);
      const kept = rows.slice(0, page.limit).map(({ page_time, ...row }) => ({ row: row as T, time: page_time }));
      const hasMore = rows.length > page.limit;
      const last = kept.at(-1);
      return { rows: kept.map((x) => x.row), hasMore, next: hasMore && last ? { time: last.time, keys: keysOf(last.row) } : null };
    },
  };
}

import { z } from 'zod';
import { CURSOR_TIME, type Cursor, PAGE_LIMIT_MAX, type Page, type PageRequest } from '../db/index.js';
import { AppError } from '../errors/index.js';

/**
 * Lists on the wire (docs/api-conventions.md, "Lists"): every list answers
 * `{data, has_more, next_after}`, newest first by its time then its id; `limit` 1–100 (default 50),
 * `after` the opaque `next_after` of the previous page, `created_from` (inclusive) / `created_to`
 * (exclusive) on the list's time. The SQL of each list is its module's (`keyset` in src/db/page.ts).
 */

/** A cursor's longest tie-break value (ids are ~30 characters; composite keys a few of them). */
const CURSOR_KEY_LENGTH_MAX = 200;
const CURSOR_KEYS_MAX = 3;
const CURSOR_LENGTH_MAX = 1000;

/** The cursor is base64url of a JSON array `[time, key…]`: opaque to clients, readable to us. */
export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.time, ...c.keys]), 'utf8').toString('base64url');
}

/** The cursor in `after`, or null when it is not one of ours (never an exception: a client's mistake). */
export function decodeCursor(s: string): Cursor | null {
  if (s.length === 0 || s.length > CURSOR_LENGTH_MAX || !/^[A-Za-z0-9_-]+$/.test(s)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length < 2 || parsed.length > CURSOR_KEYS_MAX + 1) return null;
  if (!parsed.every((x): x is string => typeof x === 'string')) return null;
  const [time, ...keys] = parsed as [string, ...string[]];
  if (!CURSOR_TIME.test(time) || !validInstant(time)) return null;
  // Keys go to the database as text: no NUL (PostgreSQL text cannot hold it) nor other controls.
  if (!keys.every((k) => k.length >= 1 && k.length <= CURSOR_KEY_LENGTH_MAX && !/[\u0000-\u001f\u007f]/.test(k))) return null;
  return { time, keys };
}

function validInstant(time: string): boolean {
  const ms = Date.parse(time);
  // Date.parse rolls 2026-02-30 over to March; the round trip refuses it.
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 19) === time.slice(0, 19);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|([+-])(\d{2}):(\d{2}))$/;
const YEAR_MIN = 2000;
const YEARS_AHEAD_MAX = 100;

/**
 * An RFC 3339 time with an offset, between the year 2000 and 100 years ahead (docs/api-conventions.md,
 * "Times"), kept as the text given so the database compares it to the microsecond. A minimal parser
 * for the list filters; the API's shared `timestamp` schema may replace it.
 */
export function pageTimeError(s: string): string | null {
  const m = RFC3339.exec(s);
  if (!m) {
    const hint = /\d \d{2}:\d{2}$/.test(s) ? ' (in a query string, write + as %2B)' : '';
    return `must be an RFC 3339 time with an offset, such as 2026-12-04T14:25:17Z${hint}`;
  }
  const [, y, mo, d, h, mi, sec] = m.map(Number) as number[];
  const date = new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, sec));
  const real = date.getUTCFullYear() === y && date.getUTCMonth() === (mo as number) - 1 && date.getUTCDate() === d && date.getUTCHours() === h
    && date.getUTCMinutes() === mi && date.getUTCSeconds() === sec;
  if (!real || (m[10] !== undefined && (Number(m[10]) > 23 || Number(m[11]) > 59))) return 'is not a real time';
  const ms = Date.parse(s);
  const max = new Date();
  max.setUTCFullYear(max.getUTCFullYear() + YEARS_AHEAD_MAX);
  if (!(ms >= Date.UTC(YEAR_MIN, 0, 1)) || ms > max.getTime()) return `must be between the year ${YEAR_MIN} and ${YEARS_AHEAD_MAX} years ahead`;
  return null;
}

const pageTime = z
  .string()
  .max(40)
  .superRefine((s, ctx) => {
    const error = pageTimeError(s);
    if (error) ctx.addIssue({ code: 'custom', message: error });
  });

const cursor = z
  .string()
  .max(CURSOR_LENGTH_MAX)
  .transform((s, ctx) => {
    const c = decodeCursor(s);
    if (c) return c;
    ctx.addIssue({ code: 'custom', message: 'not a list cursor; pass the next_after of the previous page' });
    return z.NEVER;
  });

/** The query of every list; lists add their filters with `.extend`. */
export const pageQuery = z.strictObject({
  after: cursor.optional().describe('The next_after of the previous page (opaque)'),
  limit: z.coerce.number().int().min(1).max(PAGE_LIMIT_MAX).default(50).describe('Rows per page, 1–100'),
  created_from: pageTime.optional().describe("RFC 3339; rows at or after it, on the list's time"),
  created_to: pageTime.optional().describe("RFC 3339; rows before it, on the list's time"),
});

/** The page a list's query asks for, as the modules' list functions take it. */
export function pageRequest(query: z.output<typeof pageQuery>): PageRequest {
  const { created_from: from, created_to: to } = query;
  if (from !== undefined && to !== undefined && !(Date.parse(from) < Date.parse(to))) {
    throw new AppError('invalid_request', 'created_to: must be after created_from', { details: { field: 'created_to' } });
  }
  return { limit: query.limit, after: query.after, from, to };
}

export interface ListAnswer<V> {
  data: V[];
  has_more: boolean;
  next_after: string | null;
}

/** A list's answer: the page's rows as the API shows them, and the cursor of the next page. */
export function page<T, V>(p: Page<T>, view: (row: T) => V): ListAnswer<V> {
  return { data: p.rows.map(view), has_more: p.hasMore, next_after: p.next ? encodeCursor(p.next) : null };
}

/** A list bounded by nature (one row per currency): the same shape, always one page. */
export function whole<V>(data: V[]): ListAnswer<V> {
  return { data, has_more: false, next_after: null };
}

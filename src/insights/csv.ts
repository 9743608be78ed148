import { parse } from 'csv-parse/sync';
import { AppError } from '../errors/index.js';
import { type InsightRow, type InsightsQuery, MAX_IMPORT_ROWS, PLATFORM_PATTERN, type PlatformInsights } from './provider.js';

/**
 * The CSV adapter: a platform's insights exported to a file, one row per post per day, with a header
 * row naming the columns (any order, case and spaces ignored, unknown columns ignored):
 *
 *   platform, post_id, post_url, date, views, likes, comments, followers
 *
 * `post_id`, `date` (YYYY-MM-DD) and `views` are required; `platform` too, unless the upload names one
 * for the whole file; the others may be absent or empty. The whole file is parsed and checked before
 * anything is written: a malformed row is `invalid_request` naming its line, and nothing is imported.
 */
const COLUMNS = ['platform', 'post_id', 'post_url', 'date', 'views', 'likes', 'comments', 'followers'] as const;
type Column = (typeof COLUMNS)[number];
const REQUIRED: readonly Column[] = ['post_id', 'date', 'views'];
const MAX_COUNT = 1_000_000_000_000n;
const CONTROL = /[\u0000-\u001f\u007f]/;

export function csvInsightsFile(text: string, options: { platform?: string | null; today: string }): PlatformInsights {
  const rows = parseInsightsCsv(text, options);
  return {
    name: 'csv',
    origin: 'upload',
    async insights(query: InsightsQuery) {
      const wanted = new Set(query.posts.map((p) => `${p.platform}\u0000${p.post_id}`));
      return rows.filter((r) => r.date >= query.since && r.date <= query.until && (wanted.size === 0 || wanted.has(`${r.platform}\u0000${r.post_id}`)));
    },
  };
}

function refuse(line: number, message: string): AppError {
  return new AppError('invalid_request', `csv line ${line}: ${message}`, { details: { field: 'csv', line } });
}

function records(text: string): Array<{ record: string[]; line: number }> {
  try {
    const parsed = parse(text, { info: true, bom: true, skip_empty_lines: true, trim: true, relax_quotes: false }) as unknown as Array<{
      record: string[];
      info: { lines: number };
    }>;
    return parsed.map((p) => ({ record: p.record, line: p.info.lines }));
  } catch (e) {
    const line = typeof (e as { lines?: unknown }).lines === 'number' ? (e as { lines: number }).lines : 1;
    const why = (e as { code?: string }).code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH' ? 'it has another number of fields than the header' : 'it is not valid CSV (check its quotes)';
    throw refuse(line, why);
  }
}

export function parseInsightsCsv(text: string, options: { platform?: string | null; today: string }): InsightRow[] {
  const all = records(text);
  const header = all[0];
  if (!header) throw refuse(1, 'the file is empty: it needs a header row and at least one row');
  const index = new Map<Column, number>();
  header.record.forEach((name, i) => {
    const column = name.toLowerCase().replace(/[\s-]+/g, '_') as Column;
    if (!COLUMNS.includes(column)) return;
    if (index.has(column)) throw refuse(header.line, `the column ${column} is named twice`);
    index.set(column, i);
  });
  const missing = REQUIRED.filter((c) => !index.has(c));
  if (!index.has('platform') && !options.platform) missing.unshift('platform');
  if (missing.length > 0) throw refuse(header.line, `the header lacks ${missing.join(', ')} (columns: ${COLUMNS.join(', ')})`);
  if (all.length < 2) throw refuse(header.line, 'the file has a header but no rows');
  if (all.length - 1 > MAX_IMPORT_ROWS) throw refuse(all[MAX_IMPORT_ROWS + 1]?.line ?? header.line, `more than ${MAX_IMPORT_ROWS} rows: split the file`);
  const seen = new Map<string, number>();
  return all.slice(1).map(({ record, line }) => {
    const cell = (c: Column) => {
      const i = index.get(c);
      return i === undefined ? '' : (record[i] ?? '');
    };
    const row = toRow(cell, line, options);
    const key = `${row.platform}\u0000${row.post_id}\u0000${row.date}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) throw refuse(line, `post ${row.post_id} on ${row.date} is already on line ${earlier}`);
    seen.set(key, line);
    return row;
  });
}

function toRow(cell: (c: Column) => string, line: number, options: { platform?: string | null; today: string }): InsightRow {
  const platform = (cell('platform') || options.platform || '').toLowerCase();
  if (!PLATFORM_PATTERN.test(platform)) throw refuse(line, `platform "${platform}" is not a platform name (lower-case letters, digits, _)`);
  const postId = cell('post_id');
  if (postId.length < 1 || postId.length > 200 || CONTROL.test(postId)) throw refuse(line, 'post_id must be 1 to 200 characters, without control characters');
  const postUrl = cell('post_url') || null;
  if (postUrl !== null && (postUrl.length > 2000 || !/^https?:\/\/[^\s]+$/.test(postUrl))) throw refuse(line, 'post_url must be an http(s) URL of at most 2000 characters');
  const date = cell('date');
  if (!isDate(date)) throw refuse(line, `date "${date}" is not a date as YYYY-MM-DD`);
  if (date > options.today) throw refuse(line, `date ${date} is in the future`);
  if (date < '2000-01-01') throw refuse(line, `date ${date} is before 2000`);
  return {
    platform,
    post_id: postId,
    post_url: postUrl,
    date,
    views: count(cell('views'), 'views', line, true) as bigint,
    likes: count(cell('likes'), 'likes', line, false),
    comments: count(cell('comments'), 'comments', line, false),
    followers: count(cell('followers'), 'followers', line, false),
  };
}

function isDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

function count(s: string, column: Column, line: number, required: boolean): bigint | null {
  if (s === '') {
    if (required) throw refuse(line, `${column} is empty`);
    return null;
  }
  if (!/^\d{1,13}$/.test(s) || BigInt(s) > MAX_COUNT) throw refuse(line, `${column} "${s.slice(0, 40)}" is not a whole number from 0 to 1,000,000,000,000 (no separators)`);
  return BigInt(s);
}

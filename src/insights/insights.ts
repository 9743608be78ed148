import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { AppError, assert } from '../errors/index.js';
import { newId } from '../ids/index.js';
import { MAX_IMPORT_ROWS, type InsightRow, type InsightsQuery, type PlatformInsights } from './provider.js';
import { type InsightImport, type InsightsTrust, insertImport, upsertInsightRows } from './repository.js';

export { csvInsightsFile, parseInsightsCsv } from './csv.js';
export { type InsightRow, type InsightsQuery, MAX_IMPORT_ROWS, PLATFORM_PATTERN, type PlatformInsights, type PostRef } from './provider.js';
export { type InsightImport, type InsightsTrust, importsOf, type PostTotals, postTotals } from './repository.js';

type Db = Kysely<any>;

export type Uploader = { kind: 'organization' | 'creator' | 'operator'; id: string | null };

/**
 * How far an import is evidence: numbers from the platform's own API are official whoever fetched
 * them; an uploaded file is as good as its uploader — the paying brand's or an operator's is official,
 * the creator's own is not (the one whose pay it decides could have edited it).
 */
export function trustOf(origin: PlatformInsights['origin'], by: Uploader['kind']): InsightsTrust {
  return origin === 'platform' || by !== 'creator' ? 'official' : 'creator';
}

/** A provider's rows, fetched before any transaction (an API adapter may take seconds). */
export async function fetchInsights(provider: PlatformInsights, query: InsightsQuery): Promise<InsightRow[]> {
  const rows = await provider.insights(query);
  if (rows.length === 0) throw new AppError('invalid_request', `${provider.name}: no insights rows for the posts and dates asked`, { details: { field: 'csv' } });
  if (rows.length > MAX_IMPORT_ROWS) throw new AppError('invalid_request', `${provider.name}: more than ${MAX_IMPORT_ROWS} rows in one import`);
  return rows;
}

/** Records one import and its rows; run inside the caller's transaction so that the import and its consequences commit together. */
export async function recordInsightsImport(
  trx: Db,
  p: { enrolmentId: string; provider: PlatformInsights; by: Uploader; rows: readonly InsightRow[] },
): Promise<InsightImport> {
  assert(p.rows.length > 0 && p.rows.length <= MAX_IMPORT_ROWS, 'an import has 1 to MAX_IMPORT_ROWS rows');
  const trust = trustOf(p.provider.origin, p.by.kind);
  const digest = createHash('sha256');
  for (const r of p.rows) digest.update(`${r.platform},${r.post_id},${r.date},${r.views},${r.likes ?? ''},${r.comments ?? ''},${r.followers ?? ''}\n`);
  const record = await insertImport(trx, {
    id: newId('ins'),
    enrolment_id: p.enrolmentId,
    source: p.provider.name,
    trust,
    uploaded_by_kind: p.by.kind,
    uploaded_by_id: p.by.id,
    content_sha256: digest.digest('hex'),
    row_count: p.rows.length,
  });
  await upsertInsightRows(trx, { enrolmentId: p.enrolmentId, trust, importId: record.id, rows: p.rows });
  return record;
}

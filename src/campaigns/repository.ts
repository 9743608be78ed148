import { type Kysely, sql } from 'kysely';
import type { Enrolment } from './enrolments.js';
import type { Terms } from '../terms/index.js';

/** The tables this module owns (only it writes them) and those of other modules it may read. */
export const TABLES = { owns: ['campaigns', 'campaign_terms', 'enrolments', 'terms_acceptances'], reads: ['results'] } as const;

/**
 * SQL on campaigns, terms and enrolments added since issue #12's layering (older statements still live
 * beside their functions and move here with it): enrolments' business key, the brand's settings that
 * are not terms, and the pauses for budget (issue #10).
 */
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

import { type Kysely, sql } from 'kysely';

/**
 * SQL on the campaigns table written for the budget (issue #10 §4): the brand's settings that are not
 * terms, and the pauses for budget. The lifecycle's other moves are `transition` (campaigns.ts).
 */
type Db = Kysely<any>;

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

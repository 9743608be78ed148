import { type Kysely, sql } from 'kysely';

/**
 * The decisions log (`result_decisions`, append-only: the database refuses updates and deletes): every
 * change of a result's status, who made it and when. Validation at intake and the release re-check
 * decide as `system` actors (`validation`, `settlement`), brands as their organization, operators as
 * the API key they used.
 */
export type ActorKind = 'organization' | 'operator' | 'system';

export interface Actor {
  kind: ActorKind;
  id: string;
}

export const VALIDATION: Actor = { kind: 'system', id: 'validation' };
export const SETTLEMENT: Actor = { kind: 'system', id: 'settlement' };
/** What the escrow decides: a result waits for funds, is held once funded, or is over budget when its grace ends. */
export const BUDGET: Actor = { kind: 'system', id: 'budget' };

export interface NewDecision {
  resultId: string;
  /** The status before (`new` for a result decided as it was recorded). */
  from: string;
  to: 'pending' | 'review' | 'approved' | 'rejected' | 'reversed' | 'awaiting_funds' | 'over_budget';
  reasons: readonly string[];
  note: string | null;
  actor: Actor;
}

export interface ResultDecision {
  id: string;
  result_id: string;
  from_status: string;
  to_status: string;
  reasons: string[];
  note: string | null;
  actor_kind: ActorKind;
  actor_id: string;
  decided_at: Date;
}

/** Reason codes are `[a-z0-9_]`: written as array literals, one per row, through unnest. */
export function textArrays(lists: ReadonlyArray<readonly string[]>): string[] {
  return lists.map((l) => `{${l.join(',')}}`);
}

/** Appends decisions, all at the database clock's now, in one statement. */
export async function recordDecisions(db: Kysely<any>, decisions: readonly NewDecision[]): Promise<void> {
  if (decisions.length === 0) return;
  const col = <T>(f: (d: NewDecision) => T) => decisions.map(f);
  await sql`insert into result_decisions (result_id, from_status, to_status, reasons, note, actor_kind, actor_id, decided_at)
    select result_id, from_status, to_status, reasons::text[], note, actor_kind, actor_id, earnest_now()
    from unnest(${col((d) => d.resultId)}::text[], ${col((d) => d.from)}::text[], ${col((d) => d.to)}::text[],
      ${textArrays(col((d) => d.reasons))}::text[], ${col((d) => d.note)}::text[], ${col((d) => d.actor.kind)}::text[],
      ${col((d) => d.actor.id)}::text[]) as x(result_id, from_status, to_status, reasons, note, actor_kind, actor_id)`.execute(db);
}

/** The decisions on these results, oldest first. */
export async function decisionsOf(db: Kysely<any>, resultIds: readonly string[]): Promise<ResultDecision[]> {
  if (resultIds.length === 0) return [];
  const r = await sql<ResultDecision>`select id::text as id, result_id, from_status, to_status, reasons, note, actor_kind, actor_id, decided_at
    from result_decisions where result_id = any(${[...new Set(resultIds)]}::text[]) order by result_id, id`.execute(db);
  return r.rows;
}

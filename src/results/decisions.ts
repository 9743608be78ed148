import type { Kysely } from 'kysely';
import { decisionRows, insertDecisions } from './repository.js';

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

/** Appends decisions, all at the database clock's now, in one statement. */
export async function recordDecisions(db: Kysely<any>, decisions: readonly NewDecision[]): Promise<void> {
  if (decisions.length === 0) return;
  await insertDecisions(db, decisions);
}

/** The decisions on these results, oldest first. */
export async function decisionsOf(db: Kysely<any>, resultIds: readonly string[]): Promise<ResultDecision[]> {
  if (resultIds.length === 0) return [];
  return decisionRows(db, resultIds);
}

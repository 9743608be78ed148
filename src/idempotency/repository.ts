import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { assert } from '../errors/index.js';
import { IDEMPOTENCY_LIMITS, isStoredStatus } from './rules.js';

/** The tables this module owns (only it writes them) and those of other modules it may read. */
export const TABLES = { owns: ['idempotency_keys'], reads: [] } as const;

/**
 * The only SQL on idempotency_keys (migration 0016). Every function is one statement in its own
 * transaction: nothing is held open while the request runs, so on PGlite's single session other
 * requests go on, and on a PostgreSQL server the primary key alone decides who runs a key.
 */
export interface IdempotencyOwner {
  kind: 'operator' | 'organization' | 'creator';
  /** '' for the operators, who are one owner. */
  id: string;
}

export interface StoredAnswer {
  status: number;
  headers: Record<string, string>;
  /** Undefined for an empty answer. */
  body: unknown;
}

/** What a request with a key may do, in this order of precedence. */
export type Claim =
  /** Run it: this request holds the key under `token`. */
  | { outcome: 'run'; token: string }
  /** Another request with the key: different method, path or body. */
  | { outcome: 'conflict'; method: string; path: string }
  /** The same request answered before: its answer. */
  | { outcome: 'replay'; answer: StoredAnswer }
  /** The same request is running now (its lease has not expired). */
  | { outcome: 'in_use' };

type Db = Kysely<any>;

export interface KeyedRequest {
  owner: IdempotencyOwner;
  key: string;
  method: string;
  path: string;
  fingerprint: Buffer;
}

/** Tries this many times when the record changes between statements (it answered, or was deleted, meanwhile). */
const CLAIM_ATTEMPTS_MAX = 4;

const LEASE = sql`earnest_now() + ${IDEMPOTENCY_LIMITS.lease_seconds}::int * interval '1 second'`;

function where(owner: IdempotencyOwner, key: string) {
  return sql`owner_kind = ${owner.kind} and owner_id = ${owner.id} and key = ${key}`;
}

export async function claimKey(db: Db, r: KeyedRequest): Promise<Claim> {
  for (let attempt = 0; attempt < CLAIM_ATTEMPTS_MAX; attempt++) {
    const token = randomUUID();
    const inserted = await sql`insert into idempotency_keys (owner_kind, owner_id, key, method, path, request_sha256, lease_token, lease_expires_at, created_at)
      values (${r.owner.kind}, ${r.owner.id}, ${r.key}, ${r.method}, ${r.path}, ${r.fingerprint}, ${token}, ${LEASE}, earnest_now())
      on conflict do nothing`.execute(db);
    if ((inserted.numAffectedRows ?? 0n) > 0n) return { outcome: 'run', token };
    const found = await sql<{
      same: boolean;
      method: string;
      path: string;
      response_status: number | null;
      response_headers: Record<string, string> | null;
      response_body: string | null;
      leased: boolean | null;
    }>`select request_sha256 = ${r.fingerprint} as same, method, path, response_status, response_headers, response_body,
        lease_expires_at > earnest_now() as leased
      from idempotency_keys where ${where(r.owner, r.key)}`.execute(db);
    const row = found.rows[0];
    if (!row) continue; // deleted after a 5xx, or purged, since the insert: try again
    if (!row.same) return { outcome: 'conflict', method: row.method, path: row.path };
    if (row.response_status !== null) {
      const body = row.response_body === null ? undefined : JSON.parse(row.response_body);
      return { outcome: 'replay', answer: { status: row.response_status, headers: row.response_headers ?? {}, body } };
    }
    if (row.leased) return { outcome: 'in_use' };
    // Its process died while running it: take the key over (one taker wins the update).
    const taken = await sql`update idempotency_keys set lease_token = ${token}, lease_expires_at = ${LEASE}
      where ${where(r.owner, r.key)} and response_status is null and lease_expires_at <= earnest_now()`.execute(db);
    if ((taken.numAffectedRows ?? 0n) > 0n) return { outcome: 'run', token };
  }
  // The record keeps changing under us: someone else is working on it.
  return { outcome: 'in_use' };
}

/** Keeps a running request's key from being taken over; false when it no longer holds it. */
export async function renewLease(db: Db, owner: IdempotencyOwner, key: string, token: string): Promise<boolean> {
  const r = await sql`update idempotency_keys set lease_expires_at = ${LEASE}
    where ${where(owner, key)} and lease_token = ${token}`.execute(db);
  return (r.numAffectedRows ?? 0n) > 0n;
}

/** Stores the answer of the request holding the key; false when the key was taken over meanwhile (its taker's answer stands). */
export async function storeAnswer(db: Db, owner: IdempotencyOwner, key: string, token: string, answer: StoredAnswer): Promise<boolean> {
  assert(isStoredStatus(answer.status), `an answer with status ${answer.status} is never stored`);
  const body = answer.body === undefined ? null : JSON.stringify(answer.body);
  const r = await sql`update idempotency_keys set response_status = ${answer.status}, response_headers = ${JSON.stringify(answer.headers)}::jsonb,
      response_body = ${body}, completed_at = earnest_now(), lease_token = null, lease_expires_at = null
    where ${where(owner, key)} and lease_token = ${token}`.execute(db);
  return (r.numAffectedRows ?? 0n) > 0n;
}

/** Forgets a key whose request failed without an answer to keep (a 5xx): the next request with it runs. */
export async function releaseKey(db: Db, owner: IdempotencyOwner, key: string, token: string): Promise<void> {
  await sql`delete from idempotency_keys where ${where(owner, key)} and lease_token = ${token}`.execute(db);
}

/** Deletes up to `limit` records created more than `olderThanHours` ago; returns how many. */
export async function purgeIdempotencyKeys(db: Db, options: { olderThanHours?: number; limit?: number } = {}): Promise<number> {
  const hours = options.olderThanHours ?? IDEMPOTENCY_LIMITS.retention_hours;
  assert(hours >= 24, 'idempotency keys are kept at least 24 hours');
  const limit = options.limit ?? IDEMPOTENCY_LIMITS.purge_batch_size;
  const r = await sql`delete from idempotency_keys where (owner_kind, owner_id, key) in (
      select owner_kind, owner_id, key from idempotency_keys
      where created_at < earnest_now() - ${hours}::int * interval '1 hour' limit ${limit})`.execute(db);
  return Number(r.numAffectedRows ?? 0n);
}

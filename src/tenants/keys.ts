import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { newId, randomToken } from '../ids/index.js';

/**
 * API keys: `ek_<key id>_<secret>`, shown once; only the SHA-256 of the secret is stored. Each key
 * belongs to one organization, one creator, or the operators.
 */
export type Principal =
  | { kind: 'public'; id: null }
  | { kind: 'operator'; id: null }
  | { kind: 'organization'; id: string }
  | { kind: 'creator'; id: string };

export type KeyOwner = { kind: 'operator' } | { kind: 'organization'; id: string } | { kind: 'creator'; id: string };

/** A key as its create answers it: `api_key` is the secret, shown this once. */
export interface IssuedKey {
  id: string;
  owner: KeyOwner;
  label: string | null;
  created_at: Date;
  api_key: string;
}

export async function createApiKey(db: Kysely<any>, owner: KeyOwner, label?: string): Promise<IssuedKey> {
  const id = newId('key');
  const secret = randomToken(43);
  const r = await sql<{ created_at: Date }>`insert into api_keys (id, secret_sha256, owner_kind, owner_id, label)
    values (${id}, ${sha256(secret)}, ${owner.kind}, ${owner.kind === 'operator' ? null : owner.id}, ${label ?? null}) returning created_at`.execute(db);
  const ownerView: KeyOwner = owner.kind === 'operator' ? { kind: 'operator' } : { kind: owner.kind, id: owner.id };
  return { id, owner: ownerView, label: label ?? null, created_at: (r.rows[0] as { created_at: Date }).created_at, api_key: `ek_${id.slice(4)}_${secret}` };
}

export async function revokeApiKey(db: Kysely<any>, id: string): Promise<boolean> {
  const r = await sql`update api_keys set revoked_at = now() where id = ${id} and revoked_at is null`.execute(db);
  return (r.numAffectedRows ?? 0n) > 0n;
}

export async function countOperatorKeys(db: Kysely<any>): Promise<number> {
  const r = await sql<{ n: bigint }>`select count(*) as n from api_keys where owner_kind = 'operator' and revoked_at is null`.execute(db);
  return Number(r.rows[0]?.n ?? 0n);
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** A stored key: the hash of its secret, whom it acts for, whether it was revoked. */
export interface StoredKey {
  hash: Buffer;
  principal: Principal;
  revoked: boolean;
}

export async function findApiKey(db: Kysely<any>, id: string): Promise<StoredKey | undefined> {
  const r = await sql<{ secret_sha256: Buffer | Uint8Array; owner_kind: string; owner_id: string | null; revoked_at: Date | null }>`
    select secret_sha256, owner_kind, owner_id, revoked_at from api_keys where id = ${id}`.execute(db);
  const row = r.rows[0];
  if (!row) return undefined;
  const principal = (row.owner_kind === 'operator' ? { kind: 'operator', id: null } : { kind: row.owner_kind, id: row.owner_id }) as Principal;
  return { hash: Buffer.from(row.secret_sha256), principal, revoked: row.revoked_at !== null };
}

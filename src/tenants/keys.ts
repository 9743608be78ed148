import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { newId, randomToken } from '../ids/index.js';
import { apiKeyRow, insertApiKey } from './repository.js';

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
  const createdAt = await insertApiKey(db, { id, secretSha256: sha256(secret), ownerKind: owner.kind, ownerId: owner.kind === 'operator' ? null : owner.id, label: label ?? null });
  const ownerView: KeyOwner = owner.kind === 'operator' ? { kind: 'operator' } : { kind: owner.kind, id: owner.id };
  return { id, owner: ownerView, label: label ?? null, created_at: createdAt, api_key: `ek_${id.slice(4)}_${secret}` };
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
  const row = await apiKeyRow(db, id);
  if (!row) return undefined;
  const principal = (row.owner_kind === 'operator' ? { kind: 'operator', id: null } : { kind: row.owner_kind, id: row.owner_id }) as Principal;
  return { hash: Buffer.from(row.secret_sha256), principal, revoked: row.revoked_at !== null };
}

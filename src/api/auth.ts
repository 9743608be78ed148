import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type Kysely, sql } from 'kysely';
import { AppError } from '../errors/index.js';
import { newId, randomToken } from '../ids/index.js';
import type { Access } from './endpoint.js';

/**
 * API keys: `ek_<key id>_<secret>`, shown once; only the SHA-256 of the secret is stored. Each key
 * belongs to one organization, one creator, or the operators. Verified keys are cached for
 * KEY_CACHE_MS, so a revocation takes effect within that time on every process.
 */
export type Principal =
  | { kind: 'public'; id: null }
  | { kind: 'operator'; id: null }
  | { kind: 'organization'; id: string }
  | { kind: 'creator'; id: string };

/** An authenticated request: who it acts for, and the API key it came with (null without one). */
export interface Caller {
  principal: Principal;
  keyId: string | null;
}

export type KeyOwner = { kind: 'operator' } | { kind: 'organization'; id: string } | { kind: 'creator'; id: string };

const TOKEN = /^ek_([0-9a-z]{26})_([0-9a-z]{43})$/;
const KEY_CACHE_MS = 30_000;
const KEY_CACHE_MAX = 10_000;

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

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

interface CachedKey {
  hash: Buffer;
  principal: Principal;
  revoked: boolean;
  fetchedAt: number;
}

export class Authenticator {
  readonly #db: Kysely<any>;
  readonly #cache = new Map<string, CachedKey>();

  constructor(db: Kysely<any>) {
    this.#db = db;
  }

  async authenticate(request: IncomingMessage, access: readonly Access[]): Promise<Caller> {
    const header = request.headers.authorization;
    if (!header) {
      if (access.includes('public')) return { principal: { kind: 'public', id: null }, keyId: null };
      throw new AppError('unauthorized', 'send your API key as `Authorization: Bearer ek_…`');
    }
    const caller = await this.#verify(header);
    if (!access.includes(caller.principal.kind) && !access.includes('public')) {
      throw new AppError('forbidden', `this endpoint is not for ${caller.principal.kind} keys`);
    }
    return caller;
  }

  async #verify(header: string): Promise<Caller> {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const token = match ? TOKEN.exec(match[1] as string) : null;
    if (!token) throw new AppError('unauthorized', 'the API key is malformed');
    const id = `key_${token[1]}`;
    const key = await this.#load(id);
    const given = sha256(token[2] as string);
    if (!key || key.revoked || !timingSafeEqual(given, key.hash)) {
      throw new AppError('unauthorized', 'the API key is not valid');
    }
    return { principal: key.principal, keyId: id };
  }

  async #load(id: string): Promise<CachedKey | undefined> {
    const cached = this.#cache.get(id);
    if (cached && Date.now() - cached.fetchedAt < KEY_CACHE_MS) return cached;
    const r = await sql<{ secret_sha256: Buffer | Uint8Array; owner_kind: string; owner_id: string | null; revoked_at: Date | null }>`
      select secret_sha256, owner_kind, owner_id, revoked_at from api_keys where id = ${id}`.execute(this.#db);
    const row = r.rows[0];
    if (!row) return undefined;
    const principal = (row.owner_kind === 'operator' ? { kind: 'operator', id: null } : { kind: row.owner_kind, id: row.owner_id }) as Principal;
    const entry = { hash: Buffer.from(row.secret_sha256), principal, revoked: row.revoked_at !== null, fetchedAt: Date.now() };
    if (this.#cache.size >= KEY_CACHE_MAX) this.#cache.clear();
    this.#cache.set(id, entry);
    return entry;
  }
}

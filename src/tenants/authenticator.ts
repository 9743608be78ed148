import { timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { AppError } from '../errors/index.js';
import { findApiKey, type Principal, sha256 } from './keys.js';

/**
 * API keys: `ek_<key id>_<secret>`, shown once; only the SHA-256 of the secret is stored. Each key
 * belongs to one organization, one creator, or the operators. Verified keys are cached for
 * KEY_CACHE_MS, so a revocation takes effect within that time on every process.
 */
const TOKEN = /^ek_([0-9a-z]{26})_([0-9a-z]{43})$/;
const KEY_CACHE_MS = 30_000;
const KEY_CACHE_MAX = 10_000;

/** An authenticated request: who it acts for, and the API key it came with (null without one). */
export interface Caller {
  principal: Principal;
  keyId: string | null;
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

  /** Who an `Authorization` header acts for, if `access` lets them in. */
  async authenticate(header: string | undefined, access: readonly Principal['kind'][]): Promise<Caller> {
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
    const stored = await findApiKey(this.#db, id);
    if (!stored) return undefined;
    const entry = { ...stored, fetchedAt: Date.now() };
    if (this.#cache.size >= KEY_CACHE_MAX) this.#cache.clear();
    this.#cache.set(id, entry);
    return entry;
  }
}

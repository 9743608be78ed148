import { type Kysely, sql } from 'kysely';
import { createApiKey, type IssuedKey, type KeyOwner } from './keys.js';

export { Authenticator, type Caller } from './authenticator.js';
export { createApiKey, findApiKey, type IssuedKey, type KeyOwner, type Principal, sha256, type StoredKey } from './keys.js';
import { keyset, type Page, type PageRequest, type PageTime } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { newId } from '../ids/index.js';

/** The tables this module owns (only it writes them) and those of other modules it may read. */
export const TABLES = { owns: ['organizations', 'creators', 'creator_platforms', 'api_keys'], reads: [] } as const;

/** Organizations (brands) and creators, created by operators; each gets an API key shown once. */
export interface Organization {
  id: string;
  name: string;
  created_at: Date;
}

export interface Creator {
  id: string;
  name: string;
  email: string;
  phone: string | null;
  created_at: Date;
}

type Db = Kysely<any>;

/** A create's answer: the object itself, with its first API key's secret (shown once) as `api_key`. */
export type WithApiKey<T> = T & { api_key: string };

export async function createOrganization(db: Db, p: { name: string }): Promise<WithApiKey<Organization>> {
  const id = newId('org');
  const r = await sql<Organization>`insert into organizations (id, name) values (${id}, ${p.name}) returning *`.execute(db);
  const key = await createApiKey(db, { kind: 'organization', id }, 'created with the organization');
  return { ...(r.rows[0] as Organization), api_key: key.api_key };
}

export async function createCreator(
  db: Db,
  p: { name: string; email: string; phone?: string | null },
): Promise<WithApiKey<Creator>> {
  const id = newId('cr');
  const taken = await sql`select 1 from creators where lower(email) = lower(${p.email})`.execute(db);
  if (taken.rows.length > 0) throw new AppError('conflict', `a creator with email ${p.email} exists`, { details: { field: 'email' } });
  const r = await sql<Creator>`insert into creators (id, name, email, phone) values (${id}, ${p.name}, ${p.email}, ${p.phone ?? null})
    returning *`.execute(db);
  const key = await createApiKey(db, { kind: 'creator', id }, 'created with the creator');
  return { ...(r.rows[0] as Creator), api_key: key.api_key };
}

export async function getOrganization(db: Db, id: string): Promise<Organization> {
  const r = await sql<Organization>`select * from organizations where id = ${id}`.execute(db);
  if (!r.rows[0]) throw new AppError('not_found', `no organization ${id}`);
  return r.rows[0];
}

export async function getCreator(db: Db, id: string): Promise<Creator> {
  const r = await sql<Creator>`select * from creators where id = ${id}`.execute(db);
  if (!r.rows[0]) throw new AppError('not_found', `no creator ${id}`);
  return r.rows[0];
}

/** Creators' emails by id, for a batch of conversions (self-referral checks). */
export async function creatorEmails(db: Db, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const r = await sql<{ id: string; email: string }>`select id, email from creators where id = any(${[...new Set(ids)]}::text[])`.execute(db);
  return new Map(r.rows.map((c) => [c.id, c.email]));
}

/** Newest first by created_at, then id (index organizations_created). */
export async function listOrganizations(db: Db, page: PageRequest): Promise<Page<Organization>> {
  const k = keyset(page, { time: 'o.created_at', keys: ['o.id'] });
  const r = await sql<Organization & PageTime>`select o.*, ${k.select} from organizations o where ${k.where}
    order by ${k.orderBy} limit ${k.limit}`.execute(db);
  return k.page(r.rows, (o) => [o.id]);
}

/** Newest first by created_at, then id (index creators_created). */
export async function listCreators(db: Db, page: PageRequest): Promise<Page<Creator>> {
  const k = keyset(page, { time: 'c.created_at', keys: ['c.id'] });
  const r = await sql<Creator & PageTime>`select c.*, ${k.select} from creators c where ${k.where}
    order by ${k.orderBy} limit ${k.limit}`.execute(db);
  return k.page(r.rows, (c) => [c.id]);
}

/** A new key for an existing owner (the owner must exist). */
export async function issueKey(db: Db, owner: KeyOwner, label?: string): Promise<IssuedKey> {
  if (owner.kind === 'organization') await getOrganization(db, owner.id);
  if (owner.kind === 'creator') await getCreator(db, owner.id);
  return createApiKey(db, owner, label);
}

/** What a creator declares of their audience on one platform: optional evidence for view reports (never required). */
export interface CreatorPlatform {
  creator_id: string;
  platform: string;
  followers: bigint;
  updated_at: Date;
}

/** Sets (or changes) the followers a creator declares on a platform. */
export async function declarePlatform(db: Db, p: { creatorId: string; platform: string; followers: bigint }): Promise<CreatorPlatform> {
  await getCreator(db, p.creatorId);
  const r = await sql<CreatorPlatform>`insert into creator_platforms (creator_id, platform, followers, updated_at)
    values (${p.creatorId}, ${p.platform}, ${p.followers.toString()}::int8, earnest_now())
    on conflict (creator_id, platform) do update set followers = excluded.followers, updated_at = excluded.updated_at
    returning *`.execute(db);
  return r.rows[0] as CreatorPlatform;
}

/** Withdraws a declaration: the creator declares nothing on that platform any more (not_found if they did not). */
export async function removePlatform(db: Db, p: { creatorId: string; platform: string }): Promise<void> {
  const r = await sql`delete from creator_platforms where creator_id = ${p.creatorId} and platform = ${p.platform}`.execute(db);
  if (Number(r.numAffectedRows ?? 0) === 0) throw new AppError('not_found', `creator ${p.creatorId} declares nothing on ${p.platform}`);
}

/** A creator's declarations, by platform name. */
export async function creatorPlatforms(db: Db, creatorId: string): Promise<CreatorPlatform[]> {
  await getCreator(db, creatorId);
  const r = await sql<CreatorPlatform>`select * from creator_platforms where creator_id = ${creatorId} order by platform`.execute(db);
  return r.rows;
}

/** The followers the creator declared on the platform; null when they declared none. */
export async function declaredFollowers(db: Db, creatorId: string, platform: string): Promise<bigint | null> {
  const r = await sql<{ followers: string }>`select followers::text from creator_platforms where creator_id = ${creatorId} and platform = ${platform}`.execute(db);
  return r.rows[0] ? BigInt(r.rows[0].followers) : null;
}

// ---------------------------------------------------------------------------------------------
// API keys (their logic: keys.ts)

/** Stores a key (the SHA-256 of its secret only); its created_at. */
export async function insertApiKey(
  db: Db,
  p: { id: string; secretSha256: Buffer; ownerKind: KeyOwner['kind']; ownerId: string | null; label: string | null },
): Promise<Date> {
  const { id } = p;
  const r = await sql<{ created_at: Date }>`insert into api_keys (id, secret_sha256, owner_kind, owner_id, label)
    values (${id}, ${p.secretSha256}, ${p.ownerKind}, ${p.ownerId}, ${p.label}) returning created_at`.execute(db);
  return (r.rows[0] as { created_at: Date }).created_at;
}

export async function revokeApiKey(db: Kysely<any>, id: string): Promise<boolean> {
  const r = await sql`update api_keys set revoked_at = now() where id = ${id} and revoked_at is null`.execute(db);
  return (r.numAffectedRows ?? 0n) > 0n;
}

export async function countOperatorKeys(db: Kysely<any>): Promise<number> {
  const r = await sql<{ n: bigint }>`select count(*) as n from api_keys where owner_kind = 'operator' and revoked_at is null`.execute(db);
  return Number(r.rows[0]?.n ?? 0n);
}

export async function apiKeyRow(
  db: Db,
  id: string,
): Promise<{ secret_sha256: Buffer | Uint8Array; owner_kind: string; owner_id: string | null; revoked_at: Date | null } | undefined> {
  const r = await sql<{ secret_sha256: Buffer | Uint8Array; owner_kind: string; owner_id: string | null; revoked_at: Date | null }>`
    select secret_sha256, owner_kind, owner_id, revoked_at from api_keys where id = ${id}`.execute(db);
  return r.rows[0];
}

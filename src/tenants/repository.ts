import { type ColumnType, type Generated, type Kysely, sql } from 'kysely';
import { keyset, type Page, type PageRequest, type PageTime } from '../db/index.js';

/**
 * The tenants' SQL. Ordinary queries go through Kysely's typed builder over the tables below (the
 * pattern for the other modules: decision 27); the keyset pages and the case-insensitive email probe
 * stay raw SQL, where it is the clearer tool.
 */

/** The tables this module owns (only it writes them) and those of other modules it may read. */
export const TABLES = { owns: ['organizations', 'creators', 'creator_platforms', 'api_keys'], reads: [] } as const;

/** The columns of the tenants' tables (migrations 0003 and 0021), as both engines read them back. */
export interface TenantTables {
  organizations: { id: string; name: string; created_at: Generated<Date> };
  creators: { id: string; name: string; email: string; phone: string | null; created_at: Generated<Date> };
  creator_platforms: { creator_id: string; platform: string; followers: ColumnType<bigint, string, string>; updated_at: Date };
  api_keys: {
    id: string;
    secret_sha256: ColumnType<Buffer | Uint8Array, Buffer, never>;
    owner_kind: 'organization' | 'creator' | 'operator';
    owner_id: string | null;
    label: string | null;
    created_at: Generated<Date>;
    revoked_at: ColumnType<Date | null, never, Date>;
  };
}

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

/** What a creator declares of their audience on one platform: optional evidence for view reports (never required). */
export interface CreatorPlatform {
  creator_id: string;
  platform: string;
  followers: bigint;
  updated_at: Date;
}

/** The same handle (a database or a transaction), typed over the tenants' tables. */
function tenants(db: Kysely<any>): Kysely<TenantTables> {
  return db as Kysely<TenantTables>;
}

export async function insertOrganization(db: Kysely<any>, p: { id: string; name: string }): Promise<Organization> {
  return tenants(db).insertInto('organizations').values({ id: p.id, name: p.name }).returningAll().executeTakeFirstOrThrow();
}

export async function creatorEmailTaken(db: Kysely<any>, email: string): Promise<boolean> {
  const r = await sql`select 1 from creators where lower(email) = lower(${email})`.execute(db);
  return r.rows.length > 0;
}

export async function insertCreator(db: Kysely<any>, p: { id: string; name: string; email: string; phone: string | null }): Promise<Creator> {
  return tenants(db).insertInto('creators').values(p).returningAll().executeTakeFirstOrThrow();
}

export async function organizationById(db: Kysely<any>, id: string): Promise<Organization | undefined> {
  return tenants(db).selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function creatorById(db: Kysely<any>, id: string): Promise<Creator | undefined> {
  return tenants(db).selectFrom('creators').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Creators' emails by id, for a batch of conversions (self-referral checks). */
export async function creatorEmails(db: Kysely<any>, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await tenants(db).selectFrom('creators').select(['id', 'email']).where('id', 'in', [...new Set(ids)]).execute();
  return new Map(rows.map((c) => [c.id, c.email]));
}

/** Newest first by created_at, then id (index organizations_created). */
export async function listOrganizations(db: Kysely<any>, page: PageRequest): Promise<Page<Organization>> {
  const k = keyset(page, { time: 'o.created_at', keys: ['o.id'] });
  const r = await sql<Organization & PageTime>`select o.*, ${k.select} from organizations o where ${k.where}
    order by ${k.orderBy} limit ${k.limit}`.execute(db);
  return k.page(r.rows, (o) => [o.id]);
}

/** Newest first by created_at, then id (index creators_created). */
export async function listCreators(db: Kysely<any>, page: PageRequest): Promise<Page<Creator>> {
  const k = keyset(page, { time: 'c.created_at', keys: ['c.id'] });
  const r = await sql<Creator & PageTime>`select c.*, ${k.select} from creators c where ${k.where}
    order by ${k.orderBy} limit ${k.limit}`.execute(db);
  return k.page(r.rows, (c) => [c.id]);
}

/** Sets (or changes) the followers a creator declares on a platform, at the database clock's now. */
export async function upsertPlatform(db: Kysely<any>, p: { creatorId: string; platform: string; followers: bigint }): Promise<CreatorPlatform> {
  return tenants(db)
    .insertInto('creator_platforms')
    .values({ creator_id: p.creatorId, platform: p.platform, followers: p.followers.toString(), updated_at: sql<Date>`earnest_now()` })
    .onConflict((oc) => oc.columns(['creator_id', 'platform']).doUpdateSet((eb) => ({ followers: eb.ref('excluded.followers'), updated_at: eb.ref('excluded.updated_at') })))
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Whether a declaration was there to delete. */
export async function deletePlatform(db: Kysely<any>, p: { creatorId: string; platform: string }): Promise<boolean> {
  const r = await tenants(db).deleteFrom('creator_platforms').where('creator_id', '=', p.creatorId).where('platform', '=', p.platform).executeTakeFirst();
  return r.numDeletedRows > 0n;
}

/** A creator's declarations, by platform name. */
export async function platformsOf(db: Kysely<any>, creatorId: string): Promise<CreatorPlatform[]> {
  return tenants(db).selectFrom('creator_platforms').selectAll().where('creator_id', '=', creatorId).orderBy('platform').execute();
}

/** The followers the creator declared on the platform; null when they declared none. */
export async function declaredFollowers(db: Kysely<any>, creatorId: string, platform: string): Promise<bigint | null> {
  const row = await tenants(db)
    .selectFrom('creator_platforms')
    .select('followers')
    .where('creator_id', '=', creatorId)
    .where('platform', '=', platform)
    .executeTakeFirst();
  return row ? BigInt(row.followers) : null;
}

// ---------------------------------------------------------------------------------------------
// API keys (their logic: keys.ts)

/** Stores a key (the SHA-256 of its secret only); its created_at. */
export async function insertApiKey(
  db: Kysely<any>,
  p: { id: string; secretSha256: Buffer; ownerKind: 'organization' | 'creator' | 'operator'; ownerId: string | null; label: string | null },
): Promise<Date> {
  const row = await tenants(db)
    .insertInto('api_keys')
    .values({ id: p.id, secret_sha256: p.secretSha256, owner_kind: p.ownerKind, owner_id: p.ownerId, label: p.label })
    .returning('created_at')
    .executeTakeFirstOrThrow();
  return row.created_at;
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
  db: Kysely<any>,
  id: string,
): Promise<{ secret_sha256: Buffer | Uint8Array; owner_kind: string; owner_id: string | null; revoked_at: Date | null } | undefined> {
  return tenants(db).selectFrom('api_keys').select(['secret_sha256', 'owner_kind', 'owner_id', 'revoked_at']).where('id', '=', id).executeTakeFirst();
}

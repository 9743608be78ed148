import type { Kysely } from 'kysely';
import { AppError } from '../errors/index.js';
import { newId } from '../ids/index.js';
import { createApiKey, type IssuedKey, type KeyOwner } from './keys.js';
import {
  type Creator,
  creatorById,
  creatorEmailTaken,
  type CreatorPlatform,
  deletePlatform,
  insertCreator,
  insertOrganization,
  type Organization,
  organizationById,
  platformsOf,
  upsertPlatform,
} from './repository.js';

/** Organizations (brands) and creators, created by operators; each gets an API key shown once. */
type Db = Kysely<any>;

/** A create's answer: the object itself, with its first API key's secret (shown once) as `api_key`. */
export type WithApiKey<T> = T & { api_key: string };

export async function createOrganization(db: Db, p: { name: string }): Promise<WithApiKey<Organization>> {
  const organization = await insertOrganization(db, { id: newId('org'), name: p.name });
  const key = await createApiKey(db, { kind: 'organization', id: organization.id }, 'created with the organization');
  return { ...organization, api_key: key.api_key };
}

export async function createCreator(db: Db, p: { name: string; email: string; phone?: string | null }): Promise<WithApiKey<Creator>> {
  const id = newId('cr');
  if (await creatorEmailTaken(db, p.email)) throw new AppError('conflict', `a creator with email ${p.email} exists`, { details: { field: 'email' } });
  const creator = await insertCreator(db, { id, name: p.name, email: p.email, phone: p.phone ?? null });
  const key = await createApiKey(db, { kind: 'creator', id }, 'created with the creator');
  return { ...creator, api_key: key.api_key };
}

export async function getOrganization(db: Db, id: string): Promise<Organization> {
  const found = await organizationById(db, id);
  if (!found) throw new AppError('not_found', `no organization ${id}`);
  return found;
}

export async function getCreator(db: Db, id: string): Promise<Creator> {
  const found = await creatorById(db, id);
  if (!found) throw new AppError('not_found', `no creator ${id}`);
  return found;
}

/** A new key for an existing owner (the owner must exist). */
export async function issueKey(db: Db, owner: KeyOwner, label?: string): Promise<IssuedKey> {
  if (owner.kind === 'organization') await getOrganization(db, owner.id);
  if (owner.kind === 'creator') await getCreator(db, owner.id);
  return createApiKey(db, owner, label);
}

/** Sets (or changes) the followers a creator declares on a platform. */
export async function declarePlatform(db: Db, p: { creatorId: string; platform: string; followers: bigint }): Promise<CreatorPlatform> {
  await getCreator(db, p.creatorId);
  return upsertPlatform(db, p);
}

/** Withdraws a declaration: the creator declares nothing on that platform any more (not_found if they did not). */
export async function removePlatform(db: Db, p: { creatorId: string; platform: string }): Promise<void> {
  if (!(await deletePlatform(db, p))) throw new AppError('not_found', `creator ${p.creatorId} declares nothing on ${p.platform}`);
}

/** A creator's declarations, by platform name. */
export async function creatorPlatforms(db: Db, creatorId: string): Promise<CreatorPlatform[]> {
  await getCreator(db, creatorId);
  return platformsOf(db, creatorId);
}

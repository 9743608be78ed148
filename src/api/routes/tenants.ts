import { z } from 'zod';
import { AppError } from '../../errors/index.js';
import { PLATFORM_PATTERN } from '../../insights/index.js';
import {
  type CreatorPlatform,
  createCreator,
  createOrganization,
  creatorPlatforms,
  declarePlatform,
  getCreator,
  getOrganization,
  issueKey,
  listCreators,
  listOrganizations,
  removePlatform,
} from '../../tenants/index.js';
import type { Principal } from '../../tenants/index.js';
import { endpoint } from '../endpoint.js';
import { idParams, page, pageQuery, pageRequest } from '../schemas.js';
import {
  creatorCreatedSchema,
  creatorListSchema,
  creatorPlatformListSchema,
  creatorPlatformSchema,
  keyIssuedSchema,
  meSchema,
  organizationCreatedSchema,
  organizationListSchema,
  organizationSchema,
} from '../views/tenants.js';

const organizationBody = z.strictObject({ name: z.string().trim().min(1).max(200) });
const creatorBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  email: z.email().max(320),
  phone: z.string().max(32).regex(/^\+?[0-9 ().-]{4,31}$/).nullable().optional(),
});
const keyBody = z.strictObject({
  owner: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('operator') }),
    z.strictObject({ kind: z.literal('organization'), id: z.string().min(1).max(100) }),
    z.strictObject({ kind: z.literal('creator'), id: z.string().min(1).max(100) }),
  ]),
  label: z.string().max(200).optional(),
});

const platformParams = z.strictObject({
  id: z.string().min(1).max(100),
  platform: z.string().max(32).regex(PLATFORM_PATTERN, 'a platform name in lower case, such as instagram'),
});
const platformBody = z.strictObject({
  followers: z.number().int().min(0).max(10_000_000_000).describe('The followers (subscribers) of the account on that platform'),
});

/** A creator's own declarations, or any creator's for an operator; another creator's id answers like an unknown one. */
function ownCreator(principal: Principal, id: string): string {
  if (principal.kind === 'creator' && principal.id !== id) throw new AppError('not_found', `no creator ${id}`);
  return id;
}

function platformView(p: CreatorPlatform) {
  return { creator_id: p.creator_id, platform: p.platform, followers: Number(p.followers), updated_at: p.updated_at };
}

export const tenantEndpoints = [
  endpoint({
    method: 'POST',
    path: '/v1/organizations',
    summary: 'Create a brand organization and its first API key (shown once)',
    tag: 'operators',
    response: organizationCreatedSchema,
    access: ['operator'],
    body: organizationBody,
    status: 201,
    handle: ({ body, services }) => createOrganization(services.db, body),
  }),
  endpoint({
    method: 'GET',
    path: '/v1/organizations',
    summary: 'List organizations, newest first (created_at)',
    tag: 'operators',
    response: organizationListSchema,
    access: ['operator'],
    query: pageQuery,
    handle: async ({ query, services }) => page(await listOrganizations(services.db, pageRequest(query)), (o) => o),
  }),
  endpoint({
    method: 'GET',
    path: '/v1/organizations/{id}',
    summary: 'An organization (its own key, or an operator)',
    tag: 'organizations',
    response: organizationSchema,
    access: ['operator', 'organization'],
    params: idParams,
    handle: async ({ params, principal, services }) => {
      // Another tenant's id answers exactly like an unknown one.
      if (principal.kind === 'organization' && principal.id !== params.id) throw new AppError('not_found', `no organization ${params.id}`);
      return getOrganization(services.db, params.id);
    },
  }),
  endpoint({
    method: 'POST',
    path: '/v1/creators',
    summary: 'Create a creator and their first API key (shown once)',
    tag: 'operators',
    response: creatorCreatedSchema,
    access: ['operator'],
    body: creatorBody,
    status: 201,
    handle: ({ body, services }) => createCreator(services.db, body),
  }),
  endpoint({
    method: 'GET',
    path: '/v1/creators',
    summary: 'List creators, newest first (created_at)',
    tag: 'operators',
    response: creatorListSchema,
    access: ['operator'],
    query: pageQuery,
    handle: async ({ query, services }) => page(await listCreators(services.db, pageRequest(query)), (c) => c),
  }),
  endpoint({
    method: 'PUT',
    path: '/v1/creators/{id}/platforms/{platform}',
    summary: "Declare (or change) the creator's followers on a platform: optional evidence the view-report checks compare with (docs/conversions.md)",
    tag: 'creators',
    response: creatorPlatformSchema,
    access: ['creator', 'operator'],
    params: platformParams,
    body: platformBody,
    handle: async ({ params, body, principal, services }) =>
      platformView(await declarePlatform(services.db, { creatorId: ownCreator(principal, params.id), platform: params.platform, followers: BigInt(body.followers) })),
  }),
  endpoint({
    method: 'GET',
    path: '/v1/creators/{id}/platforms',
    summary: "The creator's declared followers, by platform",
    tag: 'creators',
    response: creatorPlatformListSchema,
    access: ['creator', 'operator'],
    params: idParams,
    handle: async ({ params, principal, services }) => ({ data: (await creatorPlatforms(services.db, ownCreator(principal, params.id))).map(platformView) }),
  }),
  endpoint({
    method: 'DELETE',
    path: '/v1/creators/{id}/platforms/{platform}',
    summary: 'Withdraw a declaration: the followers rule no longer judges reports on that platform; answers the declarations left',
    tag: 'creators',
    response: creatorPlatformListSchema,
    access: ['creator', 'operator'],
    params: platformParams,
    handle: async ({ params, principal, services }) => {
      const creatorId = ownCreator(principal, params.id);
      await removePlatform(services.db, { creatorId, platform: params.platform });
      return { data: (await creatorPlatforms(services.db, creatorId)).map(platformView) };
    },
  }),
  endpoint({
    method: 'GET',
    path: '/v1/me',
    summary: 'Who this key belongs to',
    tag: 'keys',
    response: meSchema,
    access: ['operator', 'organization', 'creator'],
    handle: async ({ principal, services }) => {
      if (principal.kind === 'organization') return { kind: 'organization', organization: await getOrganization(services.db, principal.id) };
      if (principal.kind === 'creator') return { kind: 'creator', creator: await getCreator(services.db, principal.id) };
      return { kind: 'operator' };
    },
  }),
  endpoint({
    method: 'POST',
    path: '/v1/keys',
    summary: 'Issue another API key for an owner (shown once)',
    tag: 'operators',
    response: keyIssuedSchema,
    access: ['operator'],
    body: keyBody,
    status: 201,
    handle: ({ body, services }) => issueKey(services.db, body.owner, body.label),
  }),
];

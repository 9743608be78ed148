import { z } from 'zod';
import { AppError } from '../../errors/index.js';
import { createCreator, createOrganization, getCreator, getOrganization, issueKey, listCreators, listOrganizations } from '../../tenants/index.js';
import { endpoint } from '../endpoint.js';
import { idParams, page, pageQuery, pageRequest } from '../schemas.js';
import { creatorCreatedSchema, creatorListSchema, keyIssuedSchema, meSchema, organizationCreatedSchema, organizationListSchema, organizationSchema } from '../views/tenants.js';

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

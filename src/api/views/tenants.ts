import { z } from 'zod';
import { listOf, prefixedId, timestamp } from './common.js';

const T = '2026-12-04T14:25:17.000Z';

export const ORGANIZATION_EXAMPLE = { id: 'org_01jdx3k2v8m4q6r7s9t0w1y2z3', name: 'Acme Outdoor', created_at: T };
export const CREATOR_EXAMPLE = { id: 'cr_01jdx3m5a7b9c1d3e5f7g9h1j3', name: 'Ada Trails', email: 'ada@creators.example', phone: null, created_at: T };

export const organizationSchema = z
  .object({ id: prefixedId('org'), name: z.string(), created_at: timestamp })
  .meta({ id: 'Organization', examples: [ORGANIZATION_EXAMPLE] });

export const creatorSchema = z
  .object({ id: prefixedId('cr'), name: z.string(), email: z.string(), phone: z.string().nullable(), created_at: timestamp })
  .meta({ id: 'Creator', examples: [CREATOR_EXAMPLE] });

const apiKey = z.string().startsWith('ek_').describe('The new API key, shown this once (only its hash is kept)');
const EXAMPLE_KEY = 'ek_01jdx3p8q0r2s4t6v8w0x2y4z6_3f9c2a7e5b1d8f4c6a0e2b9d7f5c3a1e';

/**
 * The answers of POST /v1/organizations and POST /v1/creators: the new object itself, with its first
 * API key embedded as `api_key` (docs/api-conventions.md, "Answers").
 */
export const organizationCreatedSchema = organizationSchema
  .extend({ api_key: apiKey })
  .meta({ id: 'OrganizationCreated', examples: [{ ...ORGANIZATION_EXAMPLE, api_key: EXAMPLE_KEY }] });

export const creatorCreatedSchema = creatorSchema
  .extend({ api_key: apiKey })
  .meta({ id: 'CreatorCreated', examples: [{ ...CREATOR_EXAMPLE, api_key: EXAMPLE_KEY }] });

export const keyIssuedSchema = z
  .object({
    id: prefixedId('key'),
    owner: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('operator') }),
      z.object({ kind: z.literal('organization'), id: prefixedId('org') }),
      z.object({ kind: z.literal('creator'), id: prefixedId('cr') }),
    ]),
    label: z.string().nullable(),
    created_at: timestamp,
    api_key: apiKey,
  })
  .meta({
    id: 'ApiKeyIssued',
    examples: [{ id: 'key_01jdx3p8q0r2s4t6v8w0x2y4z6', owner: { kind: 'organization', id: ORGANIZATION_EXAMPLE.id }, label: 'checkout server', created_at: T, api_key: EXAMPLE_KEY }],
  });

export const meSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('organization'), organization: organizationSchema }),
    z.object({ kind: z.literal('creator'), creator: creatorSchema }),
    z.object({ kind: z.literal('operator') }),
  ])
  .meta({ id: 'Me', examples: [{ kind: 'organization', organization: ORGANIZATION_EXAMPLE }] });

export const organizationListSchema = listOf(organizationSchema, ORGANIZATION_EXAMPLE);
export const creatorListSchema = listOf(creatorSchema, CREATOR_EXAMPLE);

const PLATFORM_EXAMPLE = { creator_id: CREATOR_EXAMPLE.id, platform: 'instagram', followers: 24000, updated_at: '2026-12-04T14:25:17.000Z' };

export const creatorPlatformSchema = z
  .object({ creator_id: prefixedId('cr'), platform: z.string(), followers: z.number().int().min(0), updated_at: timestamp })
  .meta({ id: 'CreatorPlatform', examples: [PLATFORM_EXAMPLE] });

export const creatorPlatformListSchema = z.object({ data: z.array(creatorPlatformSchema) }).meta({ id: 'CreatorPlatformList', examples: [{ data: [PLATFORM_EXAMPLE] }] });

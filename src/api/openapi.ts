import { z } from 'zod';
import type { Access, Endpoint } from './endpoint.js';
import { errorSchema } from './schemas.js';
import { exampleOf } from './views/common.js';

export interface DocumentOptions {
  /** Where the API is reached; default a relative `/`: the server that serves the document. */
  servers?: { url: string; description?: string }[];
}

const ROLE_NAMES: Record<Access, string> = {
  operator: 'an operator key',
  organization: "a brand's (organization's) key",
  creator: "a creator's key",
  public: 'anyone, without a key',
};

const header = (description: string, schema: Record<string, unknown>, required = false) => ({ description, required, schema });

/** The headers every answer may carry (docs/api-conventions.md). */
const ANSWER_HEADERS = {
  'X-Request-Id': header('The request id (yours, if you sent a plain one): quote it to an operator', { type: 'string' }, true),
  'RateLimit-Limit': header("Requests a minute in the API key's budget (on every answer past the key check; absent on 401/403, public operations and when the limit is off)", {
    type: 'integer',
  }),
  'RateLimit-Remaining': header('Requests left in the budget, with RateLimit-Limit', { type: 'integer' }),
};
const REPLAYED_HEADER = {
  'Idempotent-Replayed': header('`true` when this is the stored answer of an earlier identical request (Idempotency-Key or business key)', {
    type: 'string',
    enum: ['true'],
  }),
};
const RETRY_AFTER = { 'Retry-After': header('Seconds to wait before retrying', { type: 'integer' }) };

const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'The same key with the same request answers the original response (Idempotent-Replayed: true); with another request, 409 idempotency_conflict. ' +
    'Kept 48 hours per key owner (docs/api-conventions.md, "Idempotency").',
  schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
};

/** The errors an operation can answer, by what it takes and who may call it. */
function errorStatuses(e: Endpoint<any, any, any>): Record<string, string> {
  const writes = e.method !== 'GET';
  const out: Record<string, string> = {};
  out['400'] = 'invalid_request (the field at fault in `field`), or a money code: invalid_amount, inexact_amount, unknown_currency, currency_mismatch…';
  if (!e.access.includes('public')) {
    out['401'] = 'unauthorized: no key, or not a valid one';
    out['403'] = 'forbidden: a key of a kind that may not call this operation';
  }
  if (e.params) out['404'] = 'not_found (another tenant\'s object answers exactly like an unknown one)';
  if (writes) out['409'] = 'conflict, invalid_state, insufficient_funds, idempotency_conflict, or idempotency_key_in_use (with Retry-After)';
  if (e.body) {
    out['413'] = 'payload_too_large: the body is over 64 KiB';
    out['415'] = 'unsupported_media_type: send application/json';
  }
  out['429'] = 'rate_limited (with Retry-After)';
  out['503'] = 'database_unavailable, contention or migrations_pending: safe to retry';
  return out;
}

/** OpenAPI 3.1 from the same Zod schemas that validate requests and describe the answers. */
export function openApiDocument(endpoints: readonly Endpoint<any, any, any>[], version: string, options: DocumentOptions = {}) {
  const paths: Record<string, Record<string, unknown>> = {};
  const components: Record<string, unknown> = {};
  const jsonContent = (schema: z.ZodType, io: 'input' | 'output') => contentOf(schema, io, components);
  const errorContent = jsonContent(errorSchema, 'output');
  for (const e of endpoints) {
    const writes = e.method === 'POST' || e.method === 'PUT' || e.method === 'PATCH' || e.method === 'DELETE';
    const roles = e.access.map((a) => ROLE_NAMES[a]).join(', ');
    const errors = Object.fromEntries(
      Object.entries(errorStatuses(e)).map(([status, description]) => [
        status,
        { description, headers: { ...ANSWER_HEADERS, ...(status === '429' || status === '409' || status === '503' ? RETRY_AFTER : {}) }, ...errorContent },
      ]),
    );
    const operation: Record<string, unknown> = {
      summary: e.summary,
      description: `${e.summary}.\n\nWho may call it: ${roles}.`,
      tags: [e.tag],
      operationId: `${e.method.toLowerCase()}${e.path.replace(/[{}]/g, '').replace(/[/-](\w)/g, (_m, c: string) => c.toUpperCase())}`,
      security: e.access.includes('public') ? [] : [{ apiKey: [] }],
      'x-earnest-roles': [...e.access],
      parameters: [...parameters(e.params, 'path'), ...parameters(e.query, 'query'), ...(writes ? [IDEMPOTENCY_KEY] : [])],
      responses: {
        [String(e.status ?? 200)]: {
          description: 'success',
          headers: { ...ANSWER_HEADERS, ...(writes ? REPLAYED_HEADER : {}), ...(e.status === 302 ? { Location: header('Where to go', { type: 'string' }, true) } : {}) },
          ...(e.response ? jsonContent(e.response, 'output') : {}),
        },
        ...errors,
        default: { description: 'error: any other status of the closed list in docs/api-conventions.md', headers: ANSWER_HEADERS, ...errorContent },
      },
      // A body that may be left out (an empty body is read as {}) is not required.
      ...(e.body ? { requestBody: { required: !e.body.safeParse({}).success, ...jsonContent(e.body, 'input') } } : {}),
    };
    paths[e.path] = { ...(paths[e.path] ?? {}), [e.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Earnest API',
      version,
      description:
        'Pay-per-result influencer marketing with escrowed budgets. Amounts are decimal strings in the major unit. ' +
        'The rules every operation keeps (errors, idempotency, lists, times, rate limits): docs/api-conventions.md.',
    },
    servers: options.servers ?? [{ url: '/', description: 'The server that serves this document' }],
    security: [{ apiKey: [] }],
    components: {
      schemas: components,
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An Earnest API key: ek_… (operator, brand or creator)' } },
    },
    paths,
  };
}

/**
 * A body's media type. Schemas with an id (`.meta({ id })`: Campaign, Result, Money…) become named
 * components, referenced from every operation that answers them (what a typed client's types are
 * named after); the schema's first example is the media type's example.
 */
function contentOf(schema: z.ZodType, io: 'input' | 'output', components: Record<string, unknown>) {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema: _dialect, $defs, ...rest } = json;
  for (const [id, def] of Object.entries(($defs ?? {}) as Record<string, unknown>)) components[id] = toComponentRefs(def);
  const id = (z.globalRegistry.get(schema) as { id?: string } | undefined)?.id;
  let body: unknown = toComponentRefs(rest);
  if (id) {
    // zod answers a root with an id as a reference to its $defs entry (already a component); else keep it.
    if (!(typeof rest.$ref === 'string' && rest.$ref === `#/$defs/${id}`)) components[id] = body;
    body = { $ref: `#/components/schemas/${id}` };
  }
  const example = exampleOf(schema);
  return { content: { 'application/json': { schema: body, ...(example !== undefined ? { example } : {}) } } };
}

function toComponentRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toComponentRefs);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? v.replace('#/$defs/', '#/components/schemas/') : toComponentRefs(v)]),
  );
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: s,
  }));
}

import { z } from 'zod';
import type { Endpoint } from './endpoint.js';
import { errorSchema } from './schemas.js';
import { exampleOf } from './views/common.js';

/** OpenAPI 3.1 from the same Zod schemas that validate requests. */
export function openApiDocument(endpoints: readonly Endpoint<any, any, any>[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  const components: Record<string, unknown> = {};
  const jsonContent = (schema: z.ZodType, io: 'input' | 'output') => contentOf(schema, io, components);
  for (const e of endpoints) {
    const operation: Record<string, unknown> = {
      summary: e.summary,
      tags: [e.tag],
      operationId: `${e.method.toLowerCase()}${e.path.replace(/[{}]/g, '').replace(/[/-](\w)/g, (_m, c: string) => c.toUpperCase())}`,
      security: e.access.includes('public') ? [] : [{ apiKey: [] }],
      parameters: [...parameters(e.params, 'path'), ...parameters(e.query, 'query')],
      responses: {
        [String(e.status ?? 200)]: { description: 'success', ...(e.response ? jsonContent(e.response, 'output') : {}) },
        default: { description: 'error', ...jsonContent(errorSchema, 'output') },
      },
      ...(e.body ? { requestBody: { required: true, ...jsonContent(e.body, 'input') } } : {}),
    };
    paths[e.path] = { ...(paths[e.path] ?? {}), [e.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Earnest API',
      version,
      description: 'Pay-per-result influencer marketing with escrowed budgets. Amounts are decimal strings in the major unit.',
    },
    components: { schemas: components, securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An Earnest API key: ek_…' } } },
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

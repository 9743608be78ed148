import { z } from 'zod';
import type { Endpoint } from './endpoint.js';
import { errorSchema } from './schemas.js';

/** OpenAPI 3.1 from the same Zod schemas that validate requests. */
export function openApiDocument(endpoints: readonly Endpoint<any, any, any>[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
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
    components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An Earnest API key: ek_…' } } },
    paths,
  };
}

function jsonContent(schema: z.ZodType, io: 'input' | 'output') {
  return { content: { 'application/json': { schema: z.toJSONSchema(schema, { io, unrepresentable: 'any' }) } } };
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

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allEndpoints } from './index.js';

/**
 * Every value a client can send has a limit stated in the schema (and so in the OpenAPI document):
 * strings a length (or a closed set), arrays a number of items, numbers a range. What has no limit
 * is what a fuzzer — or a careless client — eventually sends to the database.
 */
function unbounded(schema: any, path: string, out: string[]): void {
  if (!schema || typeof schema !== 'object') return;
  const closed = schema.enum !== undefined || schema.const !== undefined;
  if (schema.type === 'string' && !closed && schema.maxLength === undefined) out.push(`${path}: a string without maxLength`);
  if (schema.type === 'array' && schema.maxItems === undefined) out.push(`${path}: an array without maxItems`);
  if ((schema.type === 'number' || schema.type === 'integer') && schema.maximum === undefined && schema.exclusiveMaximum === undefined) {
    out.push(`${path}: a number without maximum`);
  }
  for (const [k, v] of Object.entries(schema.properties ?? {})) unbounded(v, `${path}.${k}`, out);
  if (schema.items) unbounded(schema.items, `${path}[]`, out);
  for (const k of ['anyOf', 'oneOf', 'allOf']) for (const [i, v] of (schema[k] ?? []).entries()) unbounded(v, `${path}|${i}`, out);
}

describe('input limits', () => {
  it('states a limit for every string, array and number any endpoint accepts', () => {
    const problems: string[] = [];
    for (const e of allEndpoints()) {
      for (const where of ['body', 'query', 'params'] as const) {
        const schema = e[where];
        if (schema) unbounded(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }), `${e.method} ${e.path} ${where}`, problems);
      }
    }
    expect(problems).toEqual([]);
  });

  it('finds an unbounded field (the check itself works)', () => {
    const problems: string[] = [];
    unbounded(z.toJSONSchema(z.object({ a: z.string(), b: z.array(z.number().max(1)), c: z.enum(['x']) })), 'x', problems);
    expect(problems).toEqual(['x.a: a string without maxLength', 'x.b: an array without maxItems']);
  });
});

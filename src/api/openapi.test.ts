import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { ResponseContract } from '../../test/support/contract.js';
import { allEndpoints } from './index.js';
import { openApiDocument } from './openapi.js';

type Json = Record<string, any>;
const document = openApiDocument(allEndpoints(), '0.1.0') as Json;
const operations = Object.entries<Json>(document.paths).flatMap(([path, item]) =>
  Object.entries<Json>(item).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
);

describe('the OpenAPI document', () => {
  it('declares the answer of every operation (a schema, or null for an answer without a body)', () => {
    const undeclared = allEndpoints()
      .filter((e) => e.response === undefined)
      .map((e) => `${e.method} ${e.path}`);
    expect(undeclared, `operations without a response schema:\n${undeclared.join('\n')}`).toEqual([]);
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(JSON.parse(JSON.stringify(document)));
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)?.slice(0, 3000)).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('gives every answer with a body an example that keeps its own schema', () => {
    const contract = new ResponseContract(document);
    const headers = new Headers({ 'x-request-id': 'req_1' });
    const problems: string[] = [];
    for (const { path, method, op } of operations) {
      for (const [status, response] of Object.entries<Json>(op.responses)) {
        const media = response.content?.['application/json'];
        if (!media) continue;
        if (media.example === undefined) {
          problems.push(`${method} ${path} ${status}: no example`);
          continue;
        }
        const code = status === 'default' ? 500 : Number(status);
        const broken = contract.check(method, path, code, headers, media.example, true);
        if (broken) problems.push(broken);
      }
    }
    expect(problems).toEqual([]);
  });

  it('says who may call each operation, and asks a key of all but the public ones', () => {
    for (const { method, path, op } of operations) {
      expect(op['x-earnest-roles'].length, `${method} ${path}`).toBeGreaterThan(0);
      expect(op.description).toContain('Who may call it:');
      const open = op['x-earnest-roles'].includes('public');
      expect(op.security, `${method} ${path}`).toEqual(open ? [] : [{ apiKey: [] }]);
      if (!open) expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403']));
    }
    const campaigns = document.paths['/v1/campaigns'];
    expect(campaigns.post['x-earnest-roles']).toEqual(['organization']);
    expect(document.paths['/c/{code}'].get['x-earnest-roles']).toEqual(['public']);
  });

  it('takes Idempotency-Key on every POST, PUT and PATCH, and documents the answer headers', () => {
    for (const { method, path, op } of operations) {
      const names = op.parameters.map((p: Json) => p.name);
      expect(names.includes('Idempotency-Key'), `${method} ${path}`).toBe(method !== 'GET');
      const success = Object.entries<Json>(op.responses).find(([s]) => s.startsWith('2') || s.startsWith('3'))?.[1] as Json;
      expect(Object.keys(success.headers)).toEqual(expect.arrayContaining(['X-Request-Id', 'RateLimit-Limit', 'RateLimit-Remaining']));
      if (method !== 'GET') expect(Object.keys(success.headers)).toContain('Idempotent-Replayed');
      expect(Object.keys(op.responses['429'].headers)).toContain('Retry-After');
    }
  });

  it('marks a body required only when an empty one is refused', () => {
    const body = (method: string, path: string) => document.paths[path][method].requestBody;
    expect(body('post', '/v1/campaigns').required).toBe(true);
    expect(body('post', '/v1/deposits').required).toBe(true);
    expect(body('post', '/v1/campaigns/{id}/pause').required).toBe(false);
    expect(body('post', '/v1/settlement/run').required).toBe(false);
    expect(body('post', '/v1/results/{id}/approve').required).toBe(false);
  });

  it('names the server it is served by, or the one given', () => {
    expect(document.servers).toEqual([{ url: '/', description: expect.any(String) }]);
    const given = openApiDocument(allEndpoints(), '0.1.0', { servers: [{ url: 'https://earnest.example' }] });
    expect(given.servers).toEqual([{ url: 'https://earnest.example' }]);
  });
});

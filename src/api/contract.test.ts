import { describe, expect, it } from 'vitest';
import { ResponseContract } from '../../test/support/contract.js';

const document = {
  openapi: '3.1.0',
  paths: {
    '/v1/things/{id}': {
      get: {
        operationId: 'getThing',
        responses: {
          '200': {
            description: 'ok',
            headers: { 'X-Request-Id': { required: true, schema: { type: 'string' } } },
            content: { 'application/json': { schema: { type: 'object', properties: { id: { type: 'string' }, n: { type: 'integer' } }, required: ['id'], additionalProperties: false } } },
          },
          default: { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        },
      },
    },
    '/v1/things/mine': { get: { operationId: 'getMine', responses: { '200': { description: 'ok' } } } },
  },
  components: { schemas: { Error: { type: 'object', properties: { error: { type: 'object' } }, required: ['error'] } } },
};

const headers = new Headers({ 'x-request-id': 'r1' });

describe('the response contract of the tests', () => {
  const contract = new ResponseContract(document);

  it('passes an answer as documented, success or error', () => {
    expect(contract.check('GET', '/v1/things/t1?x=1', 200, headers, { id: 't1', n: 2 }, true)).toBeNull();
    expect(contract.check('GET', '/v1/things/t1', 404, headers, { error: { code: 'not_found' } }, true)).toBeNull();
  });

  it('names the operation, the status and where the body is wrong', () => {
    const broken = contract.check('GET', '/v1/things/t1', 200, headers, { id: 't1', n: 'two', extra: true }, true);
    expect(broken).toContain('operation getThing');
    expect(broken).toContain('answered 200');
    expect(broken).toContain('at /n: must be integer');
    expect(broken).toContain('must NOT have additional properties (extra)');
    expect(contract.check('GET', '/v1/things/t1', 500, headers, { oops: 1 }, true)).toContain("at (the body): must have required property 'error'");
  });

  it('refuses an undocumented status, a missing required header and a missing body', () => {
    expect(contract.check('GET', '/v1/things/t1', 201, headers, { id: 't1' }, true)).toContain('a status the document does not list');
    expect(contract.check('GET', '/v1/things/t1', 200, new Headers(), { id: 't1' }, true)).toContain('X-Request-Id');
    expect(contract.check('GET', '/v1/things/t1', 200, headers, undefined, false)).toContain('without a body');
  });

  it('prefers a literal path segment over a parameter and ignores undocumented paths', () => {
    expect(contract.operationFor('GET', '/v1/things/mine')?.operationId).toBe('getMine');
    expect(contract.check('GET', '/healthz', 200, headers, 'ok', true)).toBeNull();
  });
});

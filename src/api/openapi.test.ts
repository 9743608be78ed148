import { describe, expect, it } from 'vitest';
import { allEndpoints } from './index.js';

describe('the OpenAPI document', () => {
  it('declares the answer of every operation (a schema, or null for an answer without a body)', () => {
    const undeclared = allEndpoints()
      .filter((e) => e.response === undefined)
      .map((e) => `${e.method} ${e.path}`);
    expect(undeclared, `operations without a response schema:\n${undeclared.join('\n')}`).toEqual([]);
  });
});

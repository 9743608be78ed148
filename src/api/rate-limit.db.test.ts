import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiResponse, startTestApi, type TestApi } from '../../test/support/api.js';

/** docs/api-conventions.md "Rate limits", over real HTTP: a budget per API key, said in headers. */
let api: TestApi;
let keyA: string;
let keyB: string;

function budget(r: ApiResponse): { limit: string | null; remaining: string | null } {
  return { limit: r.headers.get('ratelimit-limit'), remaining: r.headers.get('ratelimit-remaining') };
}

beforeAll(async () => {
  api = await startTestApi({ RATE_LIMIT_API_PER_MIN: '3', RATE_LIMIT_CONVERSIONS_PER_MIN: '5' });
  const org = await api.call('POST', '/v1/organizations', { key: api.operatorKey, body: { name: 'Budgeted' } });
  expect(org.status, JSON.stringify(org.body)).toBe(201);
  keyA = org.body.api_key;
  const second = await api.call('POST', '/v1/keys', { key: api.operatorKey, body: { owner: { kind: 'organization', id: org.body.id }, label: 'second' } });
  expect(second.status, JSON.stringify(second.body)).toBe(201);
  keyB = second.body.api_key;
});

afterAll(async () => {
  await api?.close();
});

describe('rate limit per API key', () => {
  it('counts down in RateLimit-* headers, then answers 429 with Retry-After; a second key of the same brand has its own budget', async () => {
    const seen = [];
    for (let i = 0; i < 3; i++) {
      const r = await api.call('GET', '/v1/me', { key: keyA });
      expect(r.status).toBe(200);
      seen.push(budget(r));
    }
    expect(seen).toEqual([
      { limit: '3', remaining: '2' },
      { limit: '3', remaining: '1' },
      { limit: '3', remaining: '0' },
    ]);
    const limited = await api.call('GET', '/v1/me', { key: keyA });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(budget(limited)).toEqual({ limit: '3', remaining: '0' });

    const other = await api.call('GET', '/v1/me', { key: keyB });
    expect(other.status).toBe(200);
    expect(budget(other)).toEqual({ limit: '3', remaining: '2' });
  });

  it('says the budget on a refusal after the limit check too, and conversions draw from their own bucket', async () => {
    const missing = await api.call('GET', '/v1/campaigns/cmp_nope', { key: keyB });
    expect(missing.status).toBe(404);
    expect(budget(missing)).toEqual({ limit: '3', remaining: '1' });

    const conversion = await api.call('POST', '/v1/conversions', { key: keyB, body: {} });
    expect(conversion.status).toBe(400);
    expect(budget(conversion)).toEqual({ limit: '5', remaining: '4' });

    expect(budget(await api.call('GET', '/v1/me', { key: keyB }))).toEqual({ limit: '3', remaining: '0' });
  });

  it('sends no budget headers before the key is known', async () => {
    const r = await api.call('GET', '/v1/me', { key: 'ek_nonsense' });
    expect(r.status).toBe(401);
    expect(budget(r)).toEqual({ limit: null, remaining: null });
  });
});

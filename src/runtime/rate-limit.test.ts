import { describe, expect, it } from 'vitest';
import { budgetHeaders, RateLimiter, refusal } from './rate-limit.js';

const MINUTE = 60_000;

describe('RateLimiter', () => {
  it('counts down one whole request at a time, then refuses with the seconds until the next', () => {
    const limiter = new RateLimiter({ api: 3, conversions: 0, clicks: 0 });
    const at = 1_000_000;
    expect(limiter.take('api', 'key_a', at)).toEqual({ limit: 3, remaining: 2, retryAfterSeconds: null });
    expect(limiter.take('api', 'key_a', at)).toEqual({ limit: 3, remaining: 1, retryAfterSeconds: null });
    expect(limiter.take('api', 'key_a', at)).toEqual({ limit: 3, remaining: 0, retryAfterSeconds: null });
    // Empty: one token takes a third of a minute to come back.
    expect(limiter.take('api', 'key_a', at)).toEqual({ limit: 3, remaining: 0, retryAfterSeconds: 20 });
    expect(limiter.take('api', 'key_a', at + 15_000)).toEqual({ limit: 3, remaining: 0, retryAfterSeconds: 5 });
    expect(limiter.take('api', 'key_a', at + 20_000)).toEqual({ limit: 3, remaining: 0, retryAfterSeconds: null });
  });

  it('refills to the budget and never beyond', () => {
    const limiter = new RateLimiter({ api: 3, conversions: 0, clicks: 0 });
    for (let i = 0; i < 3; i++) limiter.take('api', 'key_a', 0);
    expect(limiter.take('api', 'key_a', 10 * MINUTE)).toEqual({ limit: 3, remaining: 2, retryAfterSeconds: null });
  });

  it('keeps one budget per caller and per bucket', () => {
    const limiter = new RateLimiter({ api: 1, conversions: 2, clicks: 0 });
    expect(limiter.take('api', 'key_a', 0)?.retryAfterSeconds).toBeNull();
    expect(limiter.take('api', 'key_a', 0)?.retryAfterSeconds).toBe(60);
    expect(limiter.take('api', 'key_b', 0)).toEqual({ limit: 1, remaining: 0, retryAfterSeconds: null });
    expect(limiter.take('conversions', 'key_a', 0)).toEqual({ limit: 2, remaining: 1, retryAfterSeconds: null });
  });

  it('is off at 0 a minute: no budget, no headers', () => {
    const limiter = new RateLimiter({ api: 0, conversions: 0, clicks: 0 });
    for (let i = 0; i < 1000; i++) expect(limiter.take('api', 'key_a', 0)).toBeUndefined();
  });

  it('says it in headers and as a coded 429', () => {
    expect(budgetHeaders({ limit: 1200, remaining: 1199, retryAfterSeconds: null })).toEqual({ 'ratelimit-limit': '1200', 'ratelimit-remaining': '1199' });
    const e = refusal({ limit: 3, remaining: 0, retryAfterSeconds: 20 });
    expect(e.code).toBe('rate_limited');
    expect(e.details).toMatchObject({ retry_after: 20 });
  });
});

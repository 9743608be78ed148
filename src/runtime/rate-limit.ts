import type { IncomingMessage } from 'node:http';
import { AppError } from '../errors/index.js';

/**
 * Token buckets per caller, in memory, per process: `api` per API key, `conversions` per API key too
 * (its own, larger budget: servers post conversions in bursts; a conversion draws only from it),
 * `clicks` per client IP on the public redirect. Each bucket holds a minute's budget and refills
 * continuously. A caller over its budget gets 429 with Retry-After. With N processes the effective
 * limit is N times the configured one; that is the usual trade for not putting a shared store on the
 * hot path.
 */
export type Bucket = 'api' | 'conversions' | 'clicks';

export interface RateLimits {
  /** Requests per minute; 0 disables the limit. */
  api: number;
  conversions: number;
  clicks: number;
}

/** Where a caller stands after one request: what the RateLimit-* headers say. */
export interface Budget {
  /** Requests a minute. */
  limit: number;
  /** Whole requests left now, after this one. */
  remaining: number;
  /** Set when this request was refused: seconds until one more is allowed. */
  retryAfterSeconds: number | null;
}

interface State {
  tokens: number;
  updatedMs: number;
}

const MAX_TRACKED = 100_000;

export class RateLimiter {
  readonly #limits: RateLimits;
  readonly #trustProxy: boolean;
  readonly #buckets = new Map<string, State>();

  constructor(limits: RateLimits, options: { trustProxy?: boolean } = {}) {
    this.#limits = limits;
    this.#trustProxy = options.trustProxy ?? false;
  }

  /**
   * Takes one request from `caller`'s budget in `bucket` (an API key id, or `ip:<address>` for a
   * request without a key). Undefined when the bucket is off (0 a minute); never throws: a refusal is
   * a Budget with `retryAfterSeconds` set, turned into a 429 by `refusal`.
   */
  take(bucket: Bucket, caller: string, nowMs = Date.now()): Budget | undefined {
    const perMinute = this.#limits[bucket];
    if (perMinute <= 0) return undefined;
    const key = `${bucket}:${caller}`;
    const state = this.#buckets.get(key) ?? { tokens: perMinute, updatedMs: nowMs };
    const refill = ((nowMs - state.updatedMs) / 60_000) * perMinute;
    state.tokens = Math.min(perMinute, state.tokens + Math.max(0, refill));
    state.updatedMs = Math.max(state.updatedMs, nowMs);
    let retryAfterSeconds: number | null = null;
    if (state.tokens < 1) retryAfterSeconds = Math.max(1, Math.ceil(((1 - state.tokens) / perMinute) * 60));
    else state.tokens -= 1;
    if (this.#buckets.size >= MAX_TRACKED && !this.#buckets.has(key)) this.#buckets.clear();
    this.#buckets.set(key, state);
    return { limit: perMinute, remaining: Math.floor(state.tokens), retryAfterSeconds };
  }

  /** The public redirect's budget, per client IP; throws the 429 itself (the hot path sets no RateLimit headers). */
  takeClick(request: IncomingMessage, nowMs = Date.now()): void {
    const budget = this.take('clicks', `ip:${clientIp(request, this.#trustProxy)}`, nowMs);
    if (budget?.retryAfterSeconds != null) throw refusal(budget);
  }

  /** Who a request without an API key is, for its budget. */
  anonymousCaller(request: IncomingMessage): string {
    return `ip:${clientIp(request, this.#trustProxy)}`;
  }
}

/** The 429 for a refused request; Retry-After comes from `retry_after`. */
export function refusal(budget: Budget): AppError {
  const seconds = budget.retryAfterSeconds ?? 1;
  return new AppError('rate_limited', `too many requests; retry in ${seconds} s`, { details: { retry_after: seconds } });
}

/** `RateLimit-Limit` and `RateLimit-Remaining` (docs/api-conventions.md "Rate limits"). */
export function budgetHeaders(budget: Budget): Record<string, string> {
  return { 'ratelimit-limit': String(budget.limit), 'ratelimit-remaining': String(budget.remaining) };
}

/** The client's address: the first X-Forwarded-For hop only when a trusted proxy sets it. */
export function clientIp(request: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = request.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return request.socket.remoteAddress ?? 'unknown';
}

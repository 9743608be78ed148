import type { IncomingMessage } from 'node:http';
import { AppError } from '../errors/index.js';
import type { Principal } from './auth.js';

/**
 * Token buckets per caller, in memory, per process: `api` per key, `conversions` per brand key (its own,
 * larger budget: servers post conversions in bursts), `clicks` per client IP on the public redirect.
 * A caller over its budget gets 429 with Retry-After. With N processes the effective limit is N times
 * the configured one; that is the usual trade for not putting a shared store on the hot path.
 */
export type Bucket = 'api' | 'conversions' | 'clicks';

export interface RateLimits {
  /** Requests per minute; 0 disables the limit. */
  api: number;
  conversions: number;
  clicks: number;
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

  take(bucket: Bucket, principal: Principal, request: IncomingMessage, nowMs = Date.now()): void {
    const perMinute = this.#limits[bucket];
    if (perMinute <= 0) return;
    const who = principal.id ?? `${principal.kind}:${clientIp(request, this.#trustProxy)}`;
    const key = `${bucket}:${who}`;
    const state = this.#buckets.get(key) ?? { tokens: perMinute, updatedMs: nowMs };
    const refill = ((nowMs - state.updatedMs) / 60_000) * perMinute;
    state.tokens = Math.min(perMinute, state.tokens + refill);
    state.updatedMs = nowMs;
    if (state.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil(((1 - state.tokens) / perMinute) * 60));
      throw new AppError('rate_limited', `too many requests; retry in ${retryAfter} s`, { details: { retry_after: retryAfter } });
    }
    state.tokens -= 1;
    if (this.#buckets.size >= MAX_TRACKED && !this.#buckets.has(key)) this.#buckets.clear();
    this.#buckets.set(key, state);
  }
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

import { createHash } from 'node:crypto';
import { AppError } from '../errors/index.js';

/**
 * The rules of the `Idempotency-Key` header (docs/api-conventions.md "Idempotency: one rule"): what a
 * valid key is, which requests count as the same, and which answers are kept.
 */
export const IDEMPOTENCY_LIMITS = {
  key_length_max: 255,
  /** A running request holds its key this long, renewed while it runs; a dead process's key frees after it. */
  lease_seconds: 60,
  /** How often a running request renews its lease: well inside the lease. */
  lease_renew_ms: 20_000,
  /** Records are kept this long (the rule promises at least 24 hours), then purged. */
  retention_hours: 48,
  /** Records deleted per purge statement: bounded, so a purge never holds locks for long. */
  purge_batch_size: 1000,
} as const;

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const REPLAYED_HEADER = 'idempotent-replayed';

/** Printable ASCII, space included (node trims a header value's outer spaces). */
const KEY = new RegExp(`^[\\x20-\\x7e]{1,${IDEMPOTENCY_LIMITS.key_length_max}}$`);

/**
 * The key a request carries, or undefined without one. `values` are the header's values as received
 * (node's `headersDistinct`): sent twice, or not 1–255 printable ASCII characters, is invalid_request.
 */
export function idempotencyKeyOf(values: readonly string[] | undefined): string | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const field = { details: { field: IDEMPOTENCY_HEADER } };
  if (values.length > 1) throw new AppError('invalid_request', `send one ${IDEMPOTENCY_HEADER} header, not ${values.length}`, field);
  const key = values[0] as string;
  if (!KEY.test(key)) {
    throw new AppError('invalid_request', `${IDEMPOTENCY_HEADER}: must be 1–${IDEMPOTENCY_LIMITS.key_length_max} printable ASCII characters`, field);
  }
  return key;
}

/** SHA-256 of the method, the path and the canonical body: equal for the same request, however its JSON was spelled. */
export function requestFingerprint(r: { method: string; path: string; body: unknown }): Buffer {
  return createHash('sha256').update(`${r.method}\n${r.path}\n${canonicalJson(r.body)}`).digest();
}

/**
 * JSON with object keys sorted at every level, so key order and spacing never make two requests
 * differ. Also takes the values a parsed body may hold besides JSON's (dates, bigints); undefined
 * members are left out, as JSON.stringify leaves them.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'bigint') return JSON.stringify({ $bigint: value.toString() });
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof value === 'object') {
    const members = Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Whether an answer is kept for the key's later requests. Not kept: a 5xx (the server failed, not the
 * request), a 429 (the request was not run) and a 400 (the request itself is malformed — a field,
 * an amount, a currency — so nothing was done, and the same body gets the same 400 again; the client
 * may fix the body and send it with the same key). Retrying with the same key runs those again.
 * Every other answer the endpoint gave (2xx, and 4xx such as 404 or 409 insufficient_funds, which
 * depend on the state the request found) is the answer. Refusals before the endpoint runs
 * (authentication, rate limit, body validation) never reach the key at all.
 */
export function isStoredStatus(status: number): boolean {
  return status < 500 && status !== 400 && status !== 429;
}

import type { Kysely } from 'kysely';
import { AppError } from '../errors/index.js';
import { claimKey, IDEMPOTENCY_HEADER, IDEMPOTENCY_LIMITS, idempotencyKeyOf, type IdempotencyOwner, isStoredStatus, type KeyedRequest, releaseKey, renewLease, REPLAYED_HEADER, requestFingerprint, storeAnswer } from '../idempotency/index.js';
import { errorResponse } from './http.js';
import { errorFields, type Logger } from '../runtime/index.js';
import type { JsonResponse, RequestContext } from './router.js';
import type { Principal } from '../tenants/index.js';

/**
 * The `Idempotency-Key` header around an endpoint's handler (docs/api-conventions.md "Idempotency: one
 * rule"): the same key with the same request answers the stored answer with `Idempotent-Replayed: true`;
 * with another request, 409 idempotency_conflict; while the first still runs, 409
 * idempotency_key_in_use (Retry-After: 1). It runs after authentication, the rate limit and body
 * validation — a request refused by those never began executing, so nothing is stored for it — and
 * keeps every answer the handler gives, 4xx included, except 5xx, 429 and 400 (`isStoredStatus`).
 */
export interface KeyedCall {
  principal: Principal;
  method: string;
  /** The route's path with its parameters filled in. */
  path: string;
  /** The validated body (undefined for an endpoint that takes none). */
  body: unknown;
  context: RequestContext;
}

/** Methods whose requests change something; a GET's header is ignored. */
const KEYED_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function idempotent(
  services: { db: Kysely<any>; logger: Logger },
  call: KeyedCall,
  run: () => Promise<JsonResponse>,
): Promise<JsonResponse> {
  if (!KEYED_METHODS.has(call.method)) return run();
  const key = idempotencyKeyOf(call.context.request.headersDistinct[IDEMPOTENCY_HEADER.toLowerCase()]);
  const owner = ownerOf(call.principal);
  if (key === undefined || owner === undefined) return run();
  const request: KeyedRequest = { owner, key, method: call.method, path: call.path, fingerprint: requestFingerprint(call) };
  const claim = await claimKey(services.db, request);
  switch (claim.outcome) {
    case 'conflict':
      throw new AppError(
        'idempotency_conflict',
        `${IDEMPOTENCY_HEADER} ${JSON.stringify(key)} was used for a different request (first ${claim.method} ${claim.path}); use a new key for a new request`,
        { details: { field: IDEMPOTENCY_HEADER } },
      );
    case 'in_use':
      throw new AppError('idempotency_key_in_use', `a request with ${IDEMPOTENCY_HEADER} ${JSON.stringify(key)} is still running; retry in a moment`, {
        details: { retry_after: 1 },
      });
    case 'replay':
      return { status: claim.answer.status, body: claim.answer.body, headers: { ...claim.answer.headers, [REPLAYED_HEADER]: 'true' } };
    case 'run':
      return runHolding(services, request, claim.token, run, call.context.requestId);
  }
}

/** Runs the handler while holding the key (renewing its lease), then keeps its answer or lets the key go. */
async function runHolding(
  services: { db: Kysely<any>; logger: Logger },
  request: KeyedRequest,
  token: string,
  run: () => Promise<JsonResponse>,
  requestId: string,
): Promise<JsonResponse> {
  const { db, logger } = services;
  const fields = { request_id: requestId, path: request.path };
  const renewal = setInterval(() => {
    renewLease(db, request.owner, request.key, token).catch((e) => logger.warn('idempotency lease renewal failed', { ...fields, ...errorFields(e) }));
  }, IDEMPOTENCY_LIMITS.lease_renew_ms);
  renewal.unref();
  const settle = async (answer: JsonResponse): Promise<void> => {
    try {
      if (isStoredStatus(answer.status)) {
        await storeAnswer(db, request.owner, request.key, token, { status: answer.status, headers: answer.headers ?? {}, body: answer.body });
      } else {
        await releaseKey(db, request.owner, request.key, token);
      }
    } catch (e) {
      // The request's own answer stands; its key stays leased and is taken over once the lease expires.
      logger.error('idempotency record not updated', { ...fields, ...errorFields(e) });
    }
  };
  try {
    let answer: JsonResponse;
    try {
      answer = await run();
    } catch (e) {
      await settle(errorResponse(e));
      throw e;
    }
    await settle(answer);
    return answer;
  } finally {
    clearInterval(renewal);
  }
}

/** Keys belong to the API key's owner; a request without a key (public) has no idempotency. */
function ownerOf(principal: Principal): IdempotencyOwner | undefined {
  if (principal.kind === 'public') return undefined;
  if (principal.kind === 'operator') return { kind: 'operator', id: '' };
  return { kind: principal.kind, id: principal.id };
}

/** `/v1/campaigns/{id}/fund` with its parameters, as the request named them: one spelling per path. */
export function filledPath(pattern: string, params: Readonly<Record<string, unknown>>): string {
  return pattern.replace(/\{([a-z_]+)\}/g, (_, name: string) => encodeURIComponent(String(params[name] ?? '')));
}

/**
 * The header a business-key replay answers with (a conversion's external_id, a deposit's reference…):
 * the original status and `Idempotent-Replayed: true`, as a replayed `Idempotency-Key` answers.
 */
export function replayHeaders(replayed: boolean): Record<string, string> | undefined {
  return replayed ? { [REPLAYED_HEADER]: 'true' } : undefined;
}

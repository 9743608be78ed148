/**
 * Idempotency keys: the `Idempotency-Key` header's records, kept per API key owner (docs/api-conventions.md
 * "Idempotency: one rule"). The API's endpoint wrapper (src/api/idempotency.ts) claims a key before a
 * handler runs and stores its answer after; the server purges old records.
 */
export {
  type Claim,
  claimKey,
  type IdempotencyOwner,
  type KeyedRequest,
  purgeIdempotencyKeys,
  releaseKey,
  renewLease,
  type StoredAnswer,
  storeAnswer,
} from './repository.js';
export { canonicalJson, IDEMPOTENCY_HEADER, IDEMPOTENCY_LIMITS, idempotencyKeyOf, isStoredStatus, REPLAYED_HEADER, requestFingerprint } from './rules.js';

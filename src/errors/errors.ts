/**
 * One error type for expected, client-facing failures, with a closed list of codes.
 * Each code maps to one HTTP status (used by the API) and one CLI exit code.
 * Programmer errors are not AppErrors: they are assertion failures (see `assert`).
 */
export const ERROR_STATUS = {
  invalid_config: 400,
  invalid_request: 400,
  invalid_amount: 400,
  inexact_amount: 400,
  unknown_currency: 400,
  currency_mismatch: 400,
  invalid_allocation: 400,
  model_not_data_driven: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  idempotency_conflict: 409,
  idempotency_key_in_use: 409,
  invalid_state: 409,
  insufficient_funds: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  data_dir_locked: 409,
  migration_failed: 500,
  internal: 500,
  migrations_pending: 503,
  contention: 503,
  database_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra, safe-to-show fields (e.g. the conflicting field of an idempotent retry). */
  readonly details: Record<string, unknown> | undefined;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = options?.details;
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** A programmer error: a broken precondition, postcondition or invariant. Never caught to continue. */
export class AssertionFailure extends Error {
  constructor(message: string) {
    super(`assertion failed: ${message}`);
    this.name = 'AssertionFailure';
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionFailure(message);
}

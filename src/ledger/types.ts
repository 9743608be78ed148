/** Account flags: TigerBeetle's bit values. */
export const AccountFlags = {
  none: 0,
  debits_must_not_exceed_credits: 1 << 1,
  credits_must_not_exceed_debits: 1 << 2,
} as const;

/** Transfer flags: TigerBeetle's bit values, plus `expired`, which only the ledger writes. */
export const TransferFlags = {
  none: 0,
  linked: 1 << 0,
  pending: 1 << 1,
  post_pending_transfer: 1 << 2,
  void_pending_transfer: 1 << 3,
  balancing_debit: 1 << 4,
  balancing_credit: 1 << 5,
  closing_debit: 1 << 6,
  closing_credit: 1 << 7,
  expired: 1 << 15,
} as const;

/** Flags a client may set (everything but `expired`). */
export const CLIENT_TRANSFER_FLAGS = 0xff;

/** Limits (TIGER_STYLE: put a limit on everything). */
export const LEDGER_LIMITS = {
  batch_size_max: 8190,
  id_length_max: 128,
  user_data_length_max: 256,
  /** A hold may not outlive ten years. */
  timeout_seconds_max: 10 * 366 * 24 * 3600,
  /** Counters are PostgreSQL int8. */
  amount_max: 2n ** 63n - 1n,
} as const;

export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * create_transfers results in order of descending precedence (TigerBeetle's order, with `ledger`
 * read as `currency`): when several apply, the first listed is returned.
 */
export const TRANSFER_RESULTS = [
  'ok',
  'linked_event_failed',
  'linked_event_chain_open',
  'reserved_flag',
  'id_invalid',
  'exists_with_different_flags',
  'exists_with_different_pending_id',
  'exists_with_different_timeout',
  'exists_with_different_debit_account_id',
  'exists_with_different_credit_account_id',
  'exists_with_different_amount',
  'exists_with_different_user_data',
  'exists_with_different_currency',
  'exists_with_different_code',
  'exists',
  'id_already_failed',
  'flags_are_mutually_exclusive',
  'debit_account_id_must_not_be_empty',
  'credit_account_id_must_not_be_empty',
  'accounts_must_be_different',
  'pending_id_must_be_empty',
  'pending_id_must_not_be_empty',
  'pending_id_must_be_different',
  'timeout_reserved_for_pending_transfer',
  'closing_transfer_must_be_pending',
  'amount_must_not_be_negative',
  'amount_must_not_be_zero',
  'user_data_too_long',
  'currency_invalid',
  'code_must_not_be_zero',
  'debit_account_not_found',
  'credit_account_not_found',
  'accounts_must_have_the_same_currency',
  'transfer_must_have_the_same_currency_as_accounts',
  'pending_transfer_not_found',
  'pending_transfer_not_pending',
  'pending_transfer_has_different_debit_account_id',
  'pending_transfer_has_different_credit_account_id',
  'pending_transfer_has_different_currency',
  'pending_transfer_has_different_code',
  'exceeds_pending_transfer_amount',
  'pending_transfer_has_different_amount',
  'pending_transfer_already_posted',
  'pending_transfer_already_voided',
  'pending_transfer_expired',
  'debit_account_already_closed',
  'credit_account_already_closed',
  'overflows_debits_pending',
  'overflows_credits_pending',
  'overflows_debits_posted',
  'overflows_credits_posted',
  'overflows_debits',
  'overflows_credits',
  'overflows_timeout',
  'exceeds_credits',
  'exceeds_debits',
] as const;

export type TransferResult = (typeof TRANSFER_RESULTS)[number];

/** Failures that depend on the ledger's state: the id is burnt, a retry answers id_already_failed. */
export const TRANSIENT_RESULTS: ReadonlySet<TransferResult> = new Set<TransferResult>([
  'debit_account_not_found',
  'credit_account_not_found',
  'pending_transfer_not_found',
  'debit_account_already_closed',
  'credit_account_already_closed',
  'overflows_debits_pending',
  'overflows_credits_pending',
  'overflows_debits_posted',
  'overflows_credits_posted',
  'overflows_debits',
  'overflows_credits',
  'exceeds_credits',
  'exceeds_debits',
]);

export const ACCOUNT_RESULTS = [
  'ok',
  'id_invalid',
  'flags_are_mutually_exclusive',
  'reserved_flag',
  'currency_invalid',
  'code_must_not_be_zero',
  'user_data_too_long',
  'exists_with_different_flags',
  'exists_with_different_user_data',
  'exists_with_different_currency',
  'exists_with_different_code',
  'exists',
] as const;

export type AccountResult = (typeof ACCOUNT_RESULTS)[number];

export interface AccountRequest {
  id: string;
  currency: string;
  code: number;
  flags?: number;
  user_data?: string | null;
}

export interface Account {
  id: string;
  currency: string;
  code: number;
  flags: number;
  user_data: string | null;
  debits_pending: bigint;
  debits_posted: bigint;
  credits_pending: bigint;
  credits_posted: bigint;
  closed: boolean;
  created_at: Date;
}

/**
 * A transfer to create. The id is chosen by the caller and is the idempotency key.
 * For post/void, debit/credit accounts, currency and code may be omitted (they come from the hold),
 * and an omitted amount means "all of it".
 */
export interface TransferRequest {
  id: string;
  debit_account_id?: string;
  credit_account_id?: string;
  amount?: bigint;
  pending_id?: string;
  currency?: string;
  code?: number;
  flags?: number;
  /** Seconds before a pending transfer expires; 0 or omitted: never. */
  timeout?: number;
  user_data?: string | null;
}

export interface Transfer {
  id: string;
  seq?: bigint;
  debit_account_id: string;
  credit_account_id: string;
  amount: bigint;
  pending_id: string | null;
  currency: string;
  code: number;
  flags: number;
  timeout: number;
  user_data: string | null;
  timestamp: Date;
  expires_at: Date | null;
}

export type PendingStatus = 'pending' | 'posted' | 'voided' | 'expired';

export interface TransferOutcome {
  id: string;
  result: TransferResult;
  /** The transfer as stored, for `ok` and `exists`. */
  transfer?: Transfer;
}

export interface AccountOutcome {
  id: string;
  result: AccountResult;
}

export function hasFlag(flags: number, flag: number): boolean {
  return (flags & flag) !== 0;
}

import { isCurrency } from '../money/index.js';
import { assert } from '../errors/index.js';
import {
  type Account,
  CLIENT_TRANSFER_FLAGS,
  hasFlag,
  ID_PATTERN,
  LEDGER_LIMITS,
  type PendingStatus,
  type Transfer,
  type TransferOutcome,
  type TransferRequest,
  type TransferResult,
  TRANSIENT_RESULTS,
  TransferFlags as F,
  AccountFlags,
} from './types.js';

/**
 * The ledger's state machine, pure: given the rows a batch can touch (loaded and locked by the
 * repository), it decides every transfer's result in TigerBeetle's order of precedence and returns
 * the journal rows to append. It never reads the database, so the same inputs give the same outputs.
 */
export interface Hold {
  transfer: Transfer;
  status: PendingStatus;
}

export interface BatchState {
  now: Date;
  accounts: Map<string, Account>;
  /** Transfers already in the journal whose ids the batch uses, and the holds it references. */
  transfers: Map<string, Transfer>;
  holds: Map<string, Hold>;
  failedIds: Set<string>;
}

export interface Failure {
  id: string;
  result: TransferResult;
  request: TransferRequest;
}

export interface BatchOutput {
  outcomes: TransferOutcome[];
  inserts: Transfer[];
  failures: Failure[];
}

type Undo = () => void;
type Decision = { result: 'ok'; transfer: Transfer } | { result: TransferResult; transfer?: Transfer };

const RESOLVING = F.post_pending_transfer | F.void_pending_transfer;

export function processBatch(state: BatchState, requests: readonly TransferRequest[]): BatchOutput {
  assert(requests.length <= LEDGER_LIMITS.batch_size_max, 'batch too large');
  const outcomes: TransferOutcome[] = new Array(requests.length);
  const inserts: Transfer[] = [];
  const failures: Failure[] = [];
  let chainStart = 0;
  while (chainStart < requests.length) {
    let chainEnd = chainStart;
    while (chainEnd < requests.length - 1 && hasFlag(requests[chainEnd]?.flags ?? 0, F.linked)) chainEnd++;
    const chain = requests.slice(chainStart, chainEnd + 1);
    const chainOpen = hasFlag(chain[chain.length - 1]?.flags ?? 0, F.linked);
    const decided = chainOpen
      ? openChain(chain)
      : processChain(state, chain, inserts, failures);
    decided.forEach((outcome, i) => {
      outcomes[chainStart + i] = outcome;
    });
    chainStart = chainEnd + 1;
  }
  return { outcomes, inserts, failures };
}

function openChain(chain: readonly TransferRequest[]): TransferOutcome[] {
  return chain.map((r, i) => ({
    id: r.id,
    result: i === chain.length - 1 ? 'linked_event_chain_open' : 'linked_event_failed',
  }));
}

/** A chain commits whole, or not at all; an identical retry of a whole chain answers `exists` throughout. */
function processChain(
  state: BatchState,
  chain: readonly TransferRequest[],
  inserts: Transfer[],
  failures: Failure[],
): TransferOutcome[] {
  const undo: Undo[] = [];
  const insertMark = inserts.length;
  const decisions: Decision[] = [];
  let failedAt = -1;
  for (const [i, request] of chain.entries()) {
    const decision = decide(state, request);
    decisions.push(decision);
    if (decision.result === 'ok') {
      inserts.push(decision.transfer as Transfer);
      undo.push(apply(state, decision.transfer as Transfer));
    } else if (decision.result !== 'exists') {
      if (TRANSIENT_RESULTS.has(decision.result) && !state.failedIds.has(request.id)) {
        failures.push({ id: request.id, result: decision.result, request });
        state.failedIds.add(request.id);
      }
      failedAt = i;
      break;
    }
  }
  const allOk = failedAt < 0 && decisions.every((d) => d.result === 'ok');
  const allExist = failedAt < 0 && decisions.every((d) => d.result === 'exists');
  if (allOk || allExist) {
    return decisions.map((d, i) => ({ id: chain[i]!.id, result: d.result, ...(d.transfer ? { transfer: d.transfer } : {}) }));
  }
  for (const u of undo.reverse()) u();
  inserts.length = insertMark;
  // The first event that did not succeed keeps its own result; the rest of the chain failed with it.
  const culprit = failedAt >= 0 ? failedAt : decisions.findIndex((d) => d.result === 'exists');
  return chain.map((r, i) => {
    const d = decisions[i];
    if (i === culprit && d) return { id: r.id, result: d.result, ...(d.transfer && d.result === 'exists' ? { transfer: d.transfer } : {}) };
    return { id: r.id, result: 'linked_event_failed' };
  });
}

function decide(state: BatchState, r: TransferRequest): Decision {
  const flags = r.flags ?? 0;
  if ((flags & ~CLIENT_TRANSFER_FLAGS) !== 0) return { result: 'reserved_flag' };
  if (typeof r.id !== 'string' || !ID_PATTERN.test(r.id)) return { result: 'id_invalid' };
  const existing = state.transfers.get(r.id);
  if (existing) {
    const different = compareWithExisting(r, existing);
    return different ? { result: different } : { result: 'exists', transfer: existing };
  }
  if (state.failedIds.has(r.id)) return { result: 'id_already_failed' };
  const shape = checkShape(r, flags);
  if (shape) return { result: shape };
  return hasFlag(flags, RESOLVING) ? decideResolution(state, r, flags) : decideRegular(state, r, flags);
}

/** The first field, in TigerBeetle's order, in which a retry differs from the stored transfer. */
function compareWithExisting(r: TransferRequest, t: Transfer): TransferResult | undefined {
  const flags = r.flags ?? 0;
  const resolving = hasFlag(flags, RESOLVING);
  const balancing = hasFlag(flags, F.balancing_debit | F.balancing_credit);
  if (flags !== (t.flags & CLIENT_TRANSFER_FLAGS)) return 'exists_with_different_flags';
  if ((r.pending_id ?? null) !== t.pending_id) return 'exists_with_different_pending_id';
  if ((r.timeout ?? 0) !== t.timeout) return 'exists_with_different_timeout';
  if (!(resolving && r.debit_account_id === undefined) && r.debit_account_id !== t.debit_account_id) {
    return 'exists_with_different_debit_account_id';
  }
  if (!(resolving && r.credit_account_id === undefined) && r.credit_account_id !== t.credit_account_id) {
    return 'exists_with_different_credit_account_id';
  }
  if (!(resolving && r.amount === undefined)) {
    const same = balancing ? r.amount !== undefined && t.amount <= r.amount : r.amount === t.amount;
    if (!same) return 'exists_with_different_amount';
  }
  if ((r.user_data ?? null) !== t.user_data) return 'exists_with_different_user_data';
  if (!(resolving && r.currency === undefined) && r.currency !== t.currency) return 'exists_with_different_currency';
  if (!(resolving && !r.code) && r.code !== t.code) return 'exists_with_different_code';
  return undefined;
}

/** Checks that need nothing but the request itself. */
function checkShape(r: TransferRequest, flags: number): TransferResult | undefined {
  const pending = hasFlag(flags, F.pending);
  const post = hasFlag(flags, F.post_pending_transfer);
  const voiding = hasFlag(flags, F.void_pending_transfer);
  const balancing = hasFlag(flags, F.balancing_debit | F.balancing_credit);
  const closing = hasFlag(flags, F.closing_debit | F.closing_credit);
  const resolving = post || voiding;
  if ((pending && resolving) || (post && voiding) || (resolving && (balancing || closing))) {
    return 'flags_are_mutually_exclusive';
  }
  if (!resolving && !r.debit_account_id) return 'debit_account_id_must_not_be_empty';
  if (!resolving && !r.credit_account_id) return 'credit_account_id_must_not_be_empty';
  if (r.debit_account_id && r.debit_account_id === r.credit_account_id) return 'accounts_must_be_different';
  if (!resolving && r.pending_id !== undefined) return 'pending_id_must_be_empty';
  if (resolving && !r.pending_id) return 'pending_id_must_not_be_empty';
  if (resolving && r.pending_id === r.id) return 'pending_id_must_be_different';
  if ((r.timeout ?? 0) !== 0 && !pending) return 'timeout_reserved_for_pending_transfer';
  if (closing && !pending) return 'closing_transfer_must_be_pending';
  if (r.amount !== undefined && r.amount < 0n) return 'amount_must_not_be_negative';
  if (!resolving && !closing && (r.amount === undefined || r.amount === 0n)) return 'amount_must_not_be_zero';
  if (!resolving && closing && r.amount === undefined) return 'amount_must_not_be_zero';
  if (r.user_data && r.user_data.length > LEDGER_LIMITS.user_data_length_max) return 'user_data_too_long';
  if ((!resolving || r.currency !== undefined) && !(typeof r.currency === 'string' && isCurrency(r.currency))) {
    return 'currency_invalid';
  }
  if ((!resolving || r.code) && !isCode(r.code)) return 'code_must_not_be_zero';
  return undefined;
}

function isCode(code: number | undefined): boolean {
  return code !== undefined && Number.isInteger(code) && code >= 1 && code <= 65535;
}

function decideRegular(state: BatchState, r: TransferRequest, flags: number): Decision {
  const debit = state.accounts.get(r.debit_account_id as string);
  const credit = state.accounts.get(r.credit_account_id as string);
  if (!debit) return { result: 'debit_account_not_found' };
  if (!credit) return { result: 'credit_account_not_found' };
  if (debit.currency !== credit.currency) return { result: 'accounts_must_have_the_same_currency' };
  if (debit.currency !== r.currency) return { result: 'transfer_must_have_the_same_currency_as_accounts' };
  if (debit.closed) return { result: 'debit_account_already_closed' };
  if (credit.closed) return { result: 'credit_account_already_closed' };
  const emptyClosing = hasFlag(flags, F.closing_debit | F.closing_credit) && r.amount === 0n;
  const amount = emptyClosing ? 0n : balancedAmount(r.amount as bigint, flags, debit, credit);
  if (amount <= 0n && !emptyClosing) {
    return { result: hasFlag(flags, F.balancing_debit) && availableCredits(debit) <= 0n ? 'exceeds_credits' : 'exceeds_debits' };
  }
  const pending = hasFlag(flags, F.pending);
  const overflow = checkOverflows(debit, credit, amount, pending, r.timeout ?? 0);
  if (overflow) return { result: overflow };
  if (
    hasFlag(debit.flags, AccountFlags.debits_must_not_exceed_credits) &&
    debit.debits_pending + debit.debits_posted + amount > debit.credits_posted
  ) {
    return { result: 'exceeds_credits' };
  }
  if (
    hasFlag(credit.flags, AccountFlags.credits_must_not_exceed_debits) &&
    credit.credits_pending + credit.credits_posted + amount > credit.debits_posted
  ) {
    return { result: 'exceeds_debits' };
  }
  const timeout = r.timeout ?? 0;
  return {
    result: 'ok',
    transfer: {
      id: r.id,
      debit_account_id: debit.id,
      credit_account_id: credit.id,
      amount,
      pending_id: null,
      currency: debit.currency,
      code: r.code as number,
      flags,
      timeout,
      user_data: r.user_data ?? null,
      timestamp: state.now,
      expires_at: pending && timeout > 0 ? new Date(state.now.getTime() + timeout * 1000) : null,
    },
  };
}

function availableCredits(a: Account): bigint {
  return a.credits_posted - a.debits_posted - a.debits_pending;
}

function availableDebits(a: Account): bigint {
  return a.debits_posted - a.credits_posted - a.credits_pending;
}

/** Balancing transfers move whatever is available, up to the amount asked for (TigerBeetle's rule). */
function balancedAmount(requested: bigint, flags: number, debit: Account, credit: Account): bigint {
  let amount = requested;
  if (hasFlag(flags, F.balancing_debit)) amount = min(amount, availableCredits(debit));
  if (hasFlag(flags, F.balancing_credit)) amount = min(amount, availableDebits(credit));
  return amount;
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function checkOverflows(
  debit: Account,
  credit: Account,
  amount: bigint,
  pending: boolean,
  timeout: number,
): TransferResult | undefined {
  const max = LEDGER_LIMITS.amount_max;
  if (pending && debit.debits_pending + amount > max) return 'overflows_debits_pending';
  if (pending && credit.credits_pending + amount > max) return 'overflows_credits_pending';
  if (!pending && debit.debits_posted + amount > max) return 'overflows_debits_posted';
  if (!pending && credit.credits_posted + amount > max) return 'overflows_credits_posted';
  if (debit.debits_pending + debit.debits_posted + amount > max) return 'overflows_debits';
  if (credit.credits_pending + credit.credits_posted + amount > max) return 'overflows_credits';
  if (!Number.isSafeInteger(timeout) || timeout < 0 || timeout > LEDGER_LIMITS.timeout_seconds_max) {
    return 'overflows_timeout';
  }
  return undefined;
}

function decideResolution(state: BatchState, r: TransferRequest, flags: number): Decision {
  const hold = state.holds.get(r.pending_id as string);
  if (!hold) {
    return { result: state.transfers.has(r.pending_id as string) ? 'pending_transfer_not_pending' : 'pending_transfer_not_found' };
  }
  const p = hold.transfer;
  if (!hasFlag(p.flags, F.pending)) return { result: 'pending_transfer_not_pending' };
  if (r.debit_account_id !== undefined && r.debit_account_id !== p.debit_account_id) {
    return { result: 'pending_transfer_has_different_debit_account_id' };
  }
  if (r.credit_account_id !== undefined && r.credit_account_id !== p.credit_account_id) {
    return { result: 'pending_transfer_has_different_credit_account_id' };
  }
  if (r.currency !== undefined && r.currency !== p.currency) return { result: 'pending_transfer_has_different_currency' };
  if (r.code && r.code !== p.code) return { result: 'pending_transfer_has_different_code' };
  const post = hasFlag(flags, F.post_pending_transfer);
  if (post && r.amount !== undefined && r.amount > p.amount) return { result: 'exceeds_pending_transfer_amount' };
  if (!post && r.amount !== undefined && r.amount !== p.amount) return { result: 'pending_transfer_has_different_amount' };
  if (hold.status === 'posted') return { result: 'pending_transfer_already_posted' };
  if (hold.status === 'voided') return { result: 'pending_transfer_already_voided' };
  if (hold.status === 'expired') return { result: 'pending_transfer_expired' };
  assert(p.expires_at === null || p.expires_at > state.now, `hold ${p.id} is due but was not expired before the batch`);
  const debit = state.accounts.get(p.debit_account_id);
  const credit = state.accounts.get(p.credit_account_id);
  assert(debit && credit, `accounts of hold ${p.id} were not loaded`);
  const amount = post ? (r.amount ?? p.amount) : p.amount;
  if (post && debit.closed && !closes(p, debit.id)) return { result: 'debit_account_already_closed' };
  if (post && credit.closed && !closes(p, credit.id)) return { result: 'credit_account_already_closed' };
  if (post && debit.debits_posted + amount > LEDGER_LIMITS.amount_max) return { result: 'overflows_debits_posted' };
  if (post && credit.credits_posted + amount > LEDGER_LIMITS.amount_max) return { result: 'overflows_credits_posted' };
  return {
    result: 'ok',
    transfer: {
      id: r.id,
      debit_account_id: p.debit_account_id,
      credit_account_id: p.credit_account_id,
      amount,
      pending_id: p.id,
      currency: p.currency,
      code: r.code || p.code,
      flags,
      timeout: 0,
      user_data: r.user_data ?? null,
      timestamp: state.now,
      expires_at: null,
    },
  };
}

function closes(p: Transfer, accountId: string): boolean {
  return (
    (hasFlag(p.flags, F.closing_debit) && p.debit_account_id === accountId) ||
    (hasFlag(p.flags, F.closing_credit) && p.credit_account_id === accountId)
  );
}

/** Applies a decided transfer to the in-memory state (mirroring the journal trigger); returns its undo. */
export function apply(state: BatchState, t: Transfer): Undo {
  const debit = state.accounts.get(t.debit_account_id);
  const credit = state.accounts.get(t.credit_account_id);
  assert(debit && credit, `accounts of ${t.id} not loaded`);
  const before = [{ ...debit }, { ...credit }] as const;
  const hold = t.pending_id ? state.holds.get(t.pending_id) : undefined;
  const holdStatus = hold?.status;
  if (hasFlag(t.flags, F.pending)) {
    debit.debits_pending += t.amount;
    credit.credits_pending += t.amount;
    state.holds.set(t.id, { transfer: t, status: 'pending' });
    if (hasFlag(t.flags, F.closing_debit)) debit.closed = true;
    if (hasFlag(t.flags, F.closing_credit)) credit.closed = true;
  } else if (hold) {
    debit.debits_pending -= hold.transfer.amount;
    credit.credits_pending -= hold.transfer.amount;
    if (hasFlag(t.flags, F.post_pending_transfer)) {
      debit.debits_posted += t.amount;
      credit.credits_posted += t.amount;
      hold.status = 'posted';
    } else {
      hold.status = hasFlag(t.flags, F.expired) ? 'expired' : 'voided';
      if (hasFlag(hold.transfer.flags, F.closing_debit)) debit.closed = false;
      if (hasFlag(hold.transfer.flags, F.closing_credit)) credit.closed = false;
    }
  } else {
    debit.debits_posted += t.amount;
    credit.credits_posted += t.amount;
  }
  state.transfers.set(t.id, t);
  return () => {
    Object.assign(debit, before[0]);
    Object.assign(credit, before[1]);
    if (hold && holdStatus) hold.status = holdStatus;
    if (hasFlag(t.flags, F.pending)) state.holds.delete(t.id);
    state.transfers.delete(t.id);
  };
}

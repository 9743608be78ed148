import type { Kysely, Transaction } from 'kysely';
import { inTransaction, keyset, type Page, type PageRequest, type PageTime } from '../db/index.js';
import { AppError, assert } from '../errors/index.js';
import { newId } from '../ids/index.js';
import { AccountId, createTransfersIn, deposit as ledgerDeposit, lookupAccounts, openBrandWallet, withdrawalRequest } from '../ledger/index.js';
import { Money } from '../money/index.js';
import type { PaymentProvider, ProviderOutcome } from './providers.js';
import { insertMovement, lockedMovement, movementByKey, movementsPage, pendingMovements, setMovementOutcome, setPendingMovementOutcome } from './repository.js';

export { type PaymentProvider, type ProviderOutcome, testPaymentProvider } from './providers.js';

/**
 * Money in and out of a brand's wallet through a payment provider. A movement is recorded first
 * (pending) under its business key, then finished; every step is idempotent on the movement id, so a
 * crash between steps is finished by retrying the same reference, or by `finishPendingMovements`.
 *
 * A deposit asks the provider to charge, then the ledger moves the money in. A withdrawal reserves
 * first: a pending ledger transfer wallet → world under the movement id, made in the transaction that
 * finds the movement still pending — the wallet's limit refuses it when the money is not there (the
 * movement fails `insufficient_funds` and the provider is never asked). Only a reserved withdrawal is
 * handed to the provider; its answer posts the reservation (succeeded) or voids it (failed
 * `provider_refused`, the money back in the wallet), in one transaction with the movement's status.
 * Two withdrawals of the whole balance therefore never both reach the provider.
 */
export interface MoneyMovement {
  id: string;
  org_id: string;
  kind: 'deposit' | 'withdrawal';
  reference: string;
  amount: bigint;
  currency: string;
  provider: string | null;
  provider_reference: string | null;
  status: 'pending' | 'succeeded' | 'failed';
  /** Why a failed movement was refused: a stable code (FAILURE_CODES) and a message for people. */
  failure_code: FailureCode | null;
  failure: string | null;
  created_at: Date;
}

/**
 * A refused movement is final: it is listed `failed` with its reason, and its reference answers the
 * same refusal again (a new attempt takes a new reference).
 */
export const FAILURE_CODES = ['insufficient_funds', 'provider_refused', 'ledger_refused'] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

type Db = Kysely<any>;
type Trx = Transaction<any>;

export async function moveMoney(
  db: Db,
  provider: PaymentProvider,
  p: { orgId: string; kind: 'deposit' | 'withdrawal'; amount: Money; reference: string },
): Promise<{ movement: MoneyMovement; replayed: boolean }> {
  if (p.amount.amount <= 0n) throw new AppError('invalid_amount', 'the amount must be positive');
  await openBrandWallet(db, p.orgId, p.amount.currency);
  const { movement, created } = await recordOnce(db, p);
  // A pending movement found again was left by a crash or is being moved right now: finish it (each step is idempotent).
  return { movement: await finishMovement(db, provider, movement), replayed: !created };
}

function finishMovement(db: Db, provider: PaymentProvider, m: MoneyMovement): Promise<MoneyMovement> {
  if (m.status !== 'pending') return Promise.resolve(m);
  return m.kind === 'deposit' ? finishDeposit(db, provider, m) : finishWithdrawal(db, provider, m);
}

async function finishDeposit(db: Db, provider: PaymentProvider, m: MoneyMovement): Promise<MoneyMovement> {
  const amount = Money.of(m.amount, m.currency);
  const outcome = await provider.charge({ orgId: m.org_id, amount, reference: m.id });
  const via = { provider: provider.name, providerRef: outcome.provider_reference };
  if (outcome.status === 'failed') return finish(db, m.id, 'failed', via, { code: 'provider_refused', message: outcome.failure ?? 'refused by the provider' });
  const moved = await ledgerDeposit(db, { id: m.id, orgId: m.org_id, amount });
  if (!moved.ok) return finish(db, m.id, 'failed', via, { code: 'ledger_refused', message: `ledger refused: ${moved.result}` });
  return finish(db, m.id, 'succeeded', via, null);
}

/** Reserve, ask the provider (the movement id is its idempotency key), then post or void. */
async function finishWithdrawal(db: Db, provider: PaymentProvider, m: MoneyMovement): Promise<MoneyMovement> {
  const reserved = await reserveWithdrawal(db, m.id);
  if (reserved.status !== 'pending') return reserved;
  const outcome = await provider.refund({ orgId: m.org_id, amount: Money.of(m.amount, m.currency), reference: m.id });
  return resolveWithdrawal(db, m.id, { provider: provider.name, providerRef: outcome.provider_reference }, outcome);
}

/**
 * The reservation, with the movement row locked: a movement no longer pending is answered as it is;
 * a wallet that cannot cover it fails the movement in the same transaction (so the ledger's refusal
 * and the movement's never disagree, and no provider is asked).
 */
async function reserveWithdrawal(db: Db, id: string): Promise<MoneyMovement> {
  return inTransaction(db, async (trx) => {
    const m = await lockMovement(trx, id);
    if (m.status !== 'pending') return m;
    const amount = Money.of(m.amount, m.currency);
    const [outcome] = await createTransfersIn(trx, [withdrawalRequest('reserve', { id, orgId: m.org_id, amount })]);
    const result = outcome?.result;
    if (result === 'ok' || result === 'exists') return m;
    // Stored before reservations existed: the ledger already moved it, after the provider paid.
    if (result === 'exists_with_different_flags') return setOutcome(trx, id, 'succeeded', null, null);
    const failure: Failure =
      result === 'exceeds_credits' ? await insufficient(trx, m.org_id, amount) : { code: 'ledger_refused', message: `ledger refused: ${result}` };
    return setOutcome(trx, id, 'failed', null, failure);
  });
}

/** The provider's answer posts or voids the reservation, with the movement's final status, at once. */
async function resolveWithdrawal(db: Db, id: string, via: Via, outcome: ProviderOutcome): Promise<MoneyMovement> {
  return inTransaction(db, async (trx) => {
    const m = await lockMovement(trx, id);
    // A concurrent copy of this request, or the recovery, got there first.
    if (m.status !== 'pending') return m;
    const paid = outcome.status === 'succeeded';
    const step = withdrawalRequest(paid ? 'post' : 'void', { id, orgId: m.org_id, amount: Money.of(m.amount, m.currency) });
    const [resolved] = await createTransfersIn(trx, [step]);
    assert(resolved?.result === 'ok' || resolved?.result === 'exists', `resolving the reservation of withdrawal ${id}: ${resolved?.result}`);
    if (paid) return setOutcome(trx, id, 'succeeded', via, null);
    return setOutcome(trx, id, 'failed', via, { code: 'provider_refused', message: outcome.failure ?? 'refused by the provider' });
  });
}

export const MOVEMENT_RECOVERY = { older_than_seconds_default: 60, limit_default: 100, limit_max: 1000 } as const;

export interface MovementRecoveryReport {
  /** Movements taken up (older than the threshold and still pending). */
  found: number;
  /** Those that ended succeeded or failed (the rest stay pending for the next run, e.g. the provider was unreachable). */
  finished: number;
  errors: Array<{ id: string; error: unknown }>;
}

/**
 * Finishes deposits and withdrawals left pending — by a crash, or a provider that did not answer —
 * exactly as a retry of their reference would: a withdrawal not yet reserved is reserved (or
 * refused), a reserved one asks the provider again under its id and is posted or voided. Oldest first,
 * bounded; one movement's error does not stop the others. A request finishing the same movement at the
 * same moment ends it the same way (the movement row is locked at each step).
 */
export async function finishPendingMovements(
  db: Db,
  provider: PaymentProvider,
  options: { olderThanSeconds?: number; limit?: number } = {},
): Promise<MovementRecoveryReport> {
  const limit = options.limit ?? MOVEMENT_RECOVERY.limit_default;
  assert(Number.isInteger(limit) && limit >= 1 && limit <= MOVEMENT_RECOVERY.limit_max, `recovery limit ${limit} out of range`);
  const olderThan = options.olderThanSeconds ?? MOVEMENT_RECOVERY.older_than_seconds_default;
  const r = { rows: await pendingMovements(db, olderThan, limit) };
  const report: MovementRecoveryReport = { found: r.rows.length, finished: 0, errors: [] };
  for (const row of r.rows) {
    try {
      if ((await finishMovement(db, provider, normalise(row))).status !== 'pending') report.finished++;
    } catch (error) {
      report.errors.push({ id: row.id, error });
    }
  }
  return report;
}

/**
 * Idempotent on (org, kind, reference), the movement's business key: the same request finds its
 * movement (`created` false); a different amount or currency is idempotency_conflict naming it.
 */
async function recordOnce(
  db: Db,
  p: { orgId: string; kind: string; amount: Money; reference: string },
): Promise<{ movement: MoneyMovement; created: boolean }> {
  const id = newId(p.kind === 'deposit' ? 'dep' : 'wd');
  const created = await insertMovement(db, id, p);
  const m = normalise((await movementByKey(db, p)) as MoneyMovement);
  if (m.amount !== p.amount.amount || m.currency !== p.amount.currency) {
    const field = m.amount !== p.amount.amount ? 'amount' : 'currency';
    const was = Money.of(m.amount, m.currency).toString();
    throw new AppError('idempotency_conflict', `reference ${p.reference} was used for a ${p.kind} of ${was}`, { details: { field } });
  }
  return { movement: m, created };
}

export interface Failure {
  code: FailureCode;
  message: string;
}

export interface Via {
  provider: string;
  providerRef: string;
}

/** Why the wallet could not cover `amount`: what it holds now, available (not reserved). */
async function insufficient(trx: Trx, orgId: string, amount: Money): Promise<Failure> {
  const [wallet] = await lookupAccounts(trx, [AccountId.wallet(orgId, amount.currency)]);
  const available = wallet ? wallet.credits_posted - wallet.debits_posted - wallet.debits_pending : 0n;
  return { code: 'insufficient_funds', message: `the wallet holds ${Money.of(available, amount.currency).toString()}` };
}

async function lockMovement(trx: Trx, id: string): Promise<MoneyMovement> {
  const m = await lockedMovement(trx, id);
  assert(m, `money movement ${id} vanished`);
  return normalise(m);
}

/** The final status of a movement whose row the caller holds locked. */
async function setOutcome(trx: Trx, id: string, status: 'succeeded' | 'failed', via: Via | null, failure: Failure | null): Promise<MoneyMovement> {
  assert((status === 'failed') === (failure !== null), `a ${status} movement ${failure ? 'has' : 'needs'} a failure code`);
  const m = await setPendingMovementOutcome(trx, id, status, via, failure);
  assert(m, `money movement ${id} was not pending`);
  return normalise(m);
}

async function finish(db: Db, id: string, status: 'succeeded' | 'failed', done: Via, failure: Failure | null): Promise<MoneyMovement> {
  return normalise((await setMovementOutcome(db, id, status, done, failure)) as MoneyMovement);
}

function normalise(m: MoneyMovement): MoneyMovement {
  return { ...m, currency: m.currency.trim() };
}

/**
 * A brand's deposits and withdrawals — refused ones `failed` with their reason — newest first by
 * created_at, then id (index money_movements_org_created; escrow fundings are not listed).
 */
export async function listMovements(db: Db, orgId: string, page: PageRequest): Promise<Page<MoneyMovement>> {
  const k = keyset(page, { time: 'm.created_at', keys: ['m.id'] });
  const p = k.page(await movementsPage<MoneyMovement & PageTime>(db, orgId, k), (m) => [m.id]);
  return { ...p, rows: p.rows.map(normalise) };
}

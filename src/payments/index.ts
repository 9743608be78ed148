import { type Kysely, sql } from 'kysely';
import { keyset, type Page, type PageRequest, type PageTime } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { newId } from '../ids/index.js';
import { AccountId, deposit as ledgerDeposit, lookupAccounts, lookupTransfers, openBrandWallet, withdraw as ledgerWithdraw } from '../ledger/index.js';
import { Money } from '../money/index.js';
import type { PaymentProvider } from './providers.js';

export { type PaymentProvider, type ProviderOutcome, testPaymentProvider } from './providers.js';

/**
 * Money in and out of a brand's wallet through a payment provider. A movement is recorded first
 * (pending), then the provider is asked, then the ledger moves the money under the movement's id —
 * so a crash between the steps is found and finished by retrying the same reference, never doubled.
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

export async function moveMoney(
  db: Db,
  provider: PaymentProvider,
  p: { orgId: string; kind: 'deposit' | 'withdrawal'; amount: Money; reference: string },
): Promise<{ movement: MoneyMovement; replayed: boolean }> {
  if (p.amount.amount <= 0n) throw new AppError('invalid_amount', 'the amount must be positive');
  await openBrandWallet(db, p.orgId, p.amount.currency);
  const { movement, created } = await recordOnce(db, p);
  const replayed = !created;
  // A pending movement found again was left by a crash or is being moved right now: finish it (each step is idempotent).
  if (movement.status !== 'pending') return { movement, replayed };
  // A concurrent copy of this withdrawal may have taken the money already: that is no shortage.
  if (p.kind === 'withdrawal' && (await lookupTransfers(db, [movement.id])).length === 0) {
    const short = await shortfall(db, p.orgId, p.amount);
    if (short) return { movement: await refuse(db, movement.id, short), replayed };
  }
  const ask = p.kind === 'deposit' ? provider.charge : provider.refund;
  const outcome = await ask({ orgId: p.orgId, amount: p.amount, reference: movement.id });
  const via = { provider: provider.name, providerRef: outcome.provider_reference };
  const done = (status: 'succeeded' | 'failed', failure: Failure | null) => finish(db, movement.id, status, via, failure).then((m) => ({ movement: m, replayed }));
  if (outcome.status === 'failed') return done('failed', { code: 'provider_refused', message: outcome.failure ?? 'refused by the provider' });
  const move = p.kind === 'deposit' ? ledgerDeposit : ledgerWithdraw;
  const moved = await move(db, { id: movement.id, orgId: p.orgId, amount: p.amount });
  if (!moved.ok) return done('failed', { code: 'ledger_refused', message: `ledger refused: ${moved.result}` });
  return done('succeeded', null);
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
  const inserted = await sql`insert into money_movements (id, org_id, kind, reference, amount, currency, status)
    values (${id}, ${p.orgId}, ${p.kind}, ${p.reference}, ${p.amount.amount}, ${p.amount.currency}, 'pending')
    on conflict (org_id, kind, reference) do nothing`.execute(db);
  const r = await sql<MoneyMovement>`select * from money_movements where org_id = ${p.orgId} and kind = ${p.kind} and reference = ${p.reference}`.execute(db);
  const m = normalise(r.rows[0] as MoneyMovement);
  if (m.amount !== p.amount.amount || m.currency !== p.amount.currency) {
    const field = m.amount !== p.amount.amount ? 'amount' : 'currency';
    const was = Money.of(m.amount, m.currency).toString();
    throw new AppError('idempotency_conflict', `reference ${p.reference} was used for a ${p.kind} of ${was}`, { details: { field } });
  }
  return { movement: m, created: (inserted.numAffectedRows ?? 0n) > 0n };
}

interface Failure {
  code: FailureCode;
  message: string;
}

/** Why the wallet cannot pay `amount` out now, or null when it can. */
async function shortfall(db: Db, orgId: string, amount: Money): Promise<Failure | null> {
  const [wallet] = await lookupAccounts(db, [AccountId.wallet(orgId, amount.currency)]);
  const available = wallet ? wallet.credits_posted - wallet.debits_posted - wallet.debits_pending : 0n;
  if (available >= amount.amount) return null;
  return { code: 'insufficient_funds', message: `the wallet holds ${Money.of(available, amount.currency).toString()}` };
}

/** Refused before the provider was asked: `failed`, no provider. A concurrent same request that got further wins. */
async function refuse(db: Db, id: string, failure: Failure): Promise<MoneyMovement> {
  await sql`update money_movements set status = 'failed', failure_code = ${failure.code}, failure = ${failure.message}
    where id = ${id} and status = 'pending'`.execute(db);
  const r = await sql<MoneyMovement>`select * from money_movements where id = ${id}`.execute(db);
  return normalise(r.rows[0] as MoneyMovement);
}

async function finish(
  db: Db,
  id: string,
  status: 'succeeded' | 'failed',
  done: { provider: string; providerRef: string },
  failure: Failure | null,
): Promise<MoneyMovement> {
  const r = await sql<MoneyMovement>`update money_movements set status = ${status}, provider = ${done.provider},
      provider_reference = ${done.providerRef}, failure_code = ${failure?.code ?? null}, failure = ${failure?.message ?? null}
    where id = ${id} returning *`.execute(db);
  return normalise(r.rows[0] as MoneyMovement);
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
  const r = await sql<MoneyMovement & PageTime>`select m.*, ${k.select} from money_movements m
    where m.org_id = ${orgId} and m.kind in ('deposit', 'withdrawal') and ${k.where} order by ${k.orderBy} limit ${k.limit}`.execute(db);
  const p = k.page(r.rows, (m) => [m.id]);
  return { ...p, rows: p.rows.map(normalise) };
}

export interface WalletBalance {
  currency: string;
  balance: bigint;
  held: bigint;
}

export async function walletBalances(db: Db, orgId: string): Promise<WalletBalance[]> {
  const r = await sql<{ currency: string; balance: bigint; held: bigint }>`
    select trim(currency) as currency, credits_posted - debits_posted as balance, debits_pending as held
      from ledger_accounts where id like ${`wallet:${orgId}:%`} order by currency`.execute(db);
  return r.rows;
}

import { type Kysely, sql } from 'kysely';
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
  failure: string | null;
  created_at: Date;
}

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
  if (p.kind === 'withdrawal' && (await lookupTransfers(db, [movement.id])).length === 0) await ensureAvailable(db, p.orgId, p.amount);
  const ask = p.kind === 'deposit' ? provider.charge : provider.refund;
  const outcome = await ask({ orgId: p.orgId, amount: p.amount, reference: movement.id });
  const done = (status: 'succeeded' | 'failed', failure: string | null) =>
    finish(db, movement.id, status, provider.name, outcome.provider_reference, failure).then((m) => ({ movement: m, replayed }));
  if (outcome.status === 'failed') return done('failed', outcome.failure ?? 'refused by the provider');
  const move = p.kind === 'deposit' ? ledgerDeposit : ledgerWithdraw;
  const moved = await move(db, { id: movement.id, orgId: p.orgId, amount: p.amount });
  if (!moved.ok) return done('failed', `ledger refused: ${moved.result}`);
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

async function ensureAvailable(db: Db, orgId: string, amount: Money): Promise<void> {
  const [wallet] = await lookupAccounts(db, [AccountId.wallet(orgId, amount.currency)]);
  const available = wallet ? wallet.credits_posted - wallet.debits_posted - wallet.debits_pending : 0n;
  if (available < amount.amount) throw new AppError('insufficient_funds', `the wallet holds ${Money.of(available, amount.currency).toString()}`);
}

async function finish(db: Db, id: string, status: 'succeeded' | 'failed', provider: string, providerRef: string, failure: string | null) {
  const r = await sql<MoneyMovement>`update money_movements set status = ${status}, provider = ${provider},
      provider_reference = ${providerRef}, failure = ${failure} where id = ${id} returning *`.execute(db);
  return normalise(r.rows[0] as MoneyMovement);
}

function normalise(m: MoneyMovement): MoneyMovement {
  return { ...m, currency: m.currency.trim() };
}

export async function listMovements(db: Db, orgId: string, page: { after?: string | undefined; limit: number }): Promise<MoneyMovement[]> {
  const after = page.after ? sql`and id > ${page.after}` : sql``;
  const r = await sql<MoneyMovement>`select * from money_movements where org_id = ${orgId} and kind in ('deposit', 'withdrawal') ${after}
    order by id limit ${page.limit}`.execute(db);
  return r.rows.map(normalise);
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

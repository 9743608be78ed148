import { type Kysely, sql, type Transaction } from 'kysely';
import type { Keyset } from '../db/index.js';
import type { Failure, MoneyMovement, Via } from './payments.js';

/** Every SQL statement of src/payments/ (docs/architecture.md, "Modules own their tables"); the logic is in payments.ts. */
/** The tables this module owns (only it writes them) and those of other modules it may read. */
export const TABLES = { owns: ['money_movements'], reads: ['ledger_accounts'] } as const;

type Db = Kysely<any>;
type Trx = Transaction<any>;

/** Deposits and withdrawals still pending, created at least `olderThan` seconds ago, oldest first. */
export async function pendingMovements(db: Db, olderThan: number, limit: number): Promise<MoneyMovement[]> {
  const r = await sql<MoneyMovement>`select * from money_movements
    where status = 'pending' and kind in ('deposit', 'withdrawal') and created_at <= now() - make_interval(secs => ${olderThan})
    order by created_at, id limit ${limit}`.execute(db);
  return r.rows;
}

/** Records a pending movement unless its business key (org, kind, reference) is taken; whether it did. */
export async function insertMovement(
  db: Db,
  id: string,
  p: { orgId: string; kind: string; amount: { amount: bigint; currency: string }; reference: string },
): Promise<boolean> {
  const inserted = await sql`insert into money_movements (id, org_id, kind, reference, amount, currency, status)
    values (${id}, ${p.orgId}, ${p.kind}, ${p.reference}, ${p.amount.amount}, ${p.amount.currency}, 'pending')
    on conflict (org_id, kind, reference) do nothing`.execute(db);
  return (inserted.numAffectedRows ?? 0n) > 0n;
}

export async function movementByKey(db: Db, p: { orgId: string; kind: string; reference: string }): Promise<MoneyMovement | undefined> {
  const r = await sql<MoneyMovement>`select * from money_movements where org_id = ${p.orgId} and kind = ${p.kind} and reference = ${p.reference}`.execute(db);
  return r.rows[0];
}

export async function lockedMovement(trx: Trx, id: string): Promise<MoneyMovement | undefined> {
  const r = await sql<MoneyMovement>`select * from money_movements where id = ${id} for update`.execute(trx);
  return r.rows[0];
}

/** The final status of a movement still pending (undefined when it was not). */
export async function setPendingMovementOutcome(
  trx: Trx,
  id: string,
  status: 'succeeded' | 'failed',
  via: Via | null,
  failure: Failure | null,
): Promise<MoneyMovement | undefined> {
  const r = await sql<MoneyMovement>`update money_movements set status = ${status}, provider = ${via?.provider ?? null},
      provider_reference = ${via?.providerRef ?? null}, failure_code = ${failure?.code ?? null}, failure = ${failure?.message ?? null}
    where id = ${id} and status = 'pending' returning *`.execute(trx);
  return r.rows[0];
}

export async function setMovementOutcome(db: Db, id: string, status: 'succeeded' | 'failed', done: Via, failure: Failure | null): Promise<MoneyMovement | undefined> {
  const r = await sql<MoneyMovement>`update money_movements set status = ${status}, provider = ${done.provider},
      provider_reference = ${done.providerRef}, failure_code = ${failure?.code ?? null}, failure = ${failure?.message ?? null}
    where id = ${id} returning *`.execute(db);
  return r.rows[0];
}

/** One page of a brand's deposits and withdrawals, on the keyset `k` (columns `m.…`). */
export async function movementsPage<T>(db: Db, orgId: string, k: Keyset): Promise<T[]> {
  const r = await sql<T>`select m.*, ${k.select} from money_movements m
    where m.org_id = ${orgId} and m.kind in ('deposit', 'withdrawal') and ${k.where} order by ${k.orderBy} limit ${k.limit}`.execute(db);
  return r.rows;
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

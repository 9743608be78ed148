import { type Kysely, sql, type Transaction } from 'kysely';
import { inTransaction, RetryableConflict, sqlState } from '../db/index.js';
import { assert } from '../errors/index.js';
import { isCurrency } from '../money/index.js';
import type { CurrencyTotals } from './check.js';
import { type BatchState, type Hold, processBatch } from './process.js';
import {
  type Account,
  type AccountOutcome,
  type AccountRequest,
  AccountFlags,
  ID_PATTERN,
  LEDGER_LIMITS,
  type PendingStatus,
  type Transfer,
  TransferFlags,
  type TransferOutcome,
  type TransferRequest,
} from './types.js';

/** The tables this module owns (only it writes them) and those of other modules it may read. */
export const TABLES = { owns: ['ledger_accounts', 'ledger_pending', 'ledger_transfers', 'ledger_transfer_failures'], reads: [] } as const;

/** Only this module writes SQL for the ledger's tables. */
type Db = Kysely<any>;
type Trx = Transaction<any>;

const TRANSFER_COLUMNS = sql.raw(
  `t.id, t.seq, t.debit_account_id, t.credit_account_id, t.amount, t.pending_id, t.currency, t.code, t.flags,
   t.timeout, t.user_data, t."timestamp", t.expires_at`,
);

/** Insert rows per statement: one unnest() statement per chunk keeps the parameter count fixed. */
const INSERT_CHUNK = 5000;

export async function createAccounts(db: Db, requests: readonly AccountRequest[]): Promise<AccountOutcome[]> {
  return inTransaction(db, async (trx) => {
    const ids = requests.map((r) => r.id);
    await lockIds(trx, ids);
    const existing = await loadAccounts(trx, ids, false);
    const now = await transactionNow(trx);
    const outcomes: AccountOutcome[] = [];
    for (const r of requests) {
      const result = decideAccount(r, existing.get(r.id));
      outcomes.push({ id: r.id, result });
      if (result !== 'ok') continue;
      await sql`insert into ledger_accounts (id, currency, code, flags, user_data, created_at)
        values (${r.id}, ${r.currency}, ${r.code}, ${r.flags ?? 0}, ${r.user_data ?? null}, ${now})`.execute(trx);
      existing.set(r.id, { ...r, flags: r.flags ?? 0, user_data: r.user_data ?? null } as Account);
    }
    return outcomes;
  });
}

function decideAccount(r: AccountRequest, existing: Account | undefined): AccountOutcome['result'] {
  const flags = r.flags ?? 0;
  const limitFlags = AccountFlags.debits_must_not_exceed_credits | AccountFlags.credits_must_not_exceed_debits;
  if (typeof r.id !== 'string' || !ID_PATTERN.test(r.id)) return 'id_invalid';
  if ((flags & limitFlags) === limitFlags) return 'flags_are_mutually_exclusive';
  if ((flags & ~limitFlags) !== 0) return 'reserved_flag';
  if (!isCurrency(r.currency)) return 'currency_invalid';
  if (!Number.isInteger(r.code) || r.code < 1 || r.code > 65535) return 'code_must_not_be_zero';
  if (r.user_data && r.user_data.length > LEDGER_LIMITS.user_data_length_max) return 'user_data_too_long';
  if (!existing) return 'ok';
  if (existing.flags !== flags) return 'exists_with_different_flags';
  if (existing.user_data !== (r.user_data ?? null)) return 'exists_with_different_user_data';
  if (existing.currency !== r.currency) return 'exists_with_different_currency';
  if (existing.code !== r.code) return 'exists_with_different_code';
  return 'exists';
}

/**
 * Creates transfers in one database transaction: loads and locks what the batch touches (ids by
 * advisory lock, holds and accounts by row lock, always in that order and sorted, so concurrent
 * batches never deadlock), expires due holds on those accounts, decides every result in memory,
 * appends the journal rows, and checks that the database agrees with the decision.
 */
export async function createTransfers(db: Db, requests: readonly TransferRequest[]): Promise<TransferOutcome[]> {
  assert(requests.length <= LEDGER_LIMITS.batch_size_max, `at most ${LEDGER_LIMITS.batch_size_max} transfers a batch`);
  if (requests.length === 0) return [];
  return inTransaction(db, (trx) => createTransfersIn(trx, requests));
}

/**
 * The same, inside a transaction the caller already holds (so a flow can read, decide and move money
 * atomically). The caller's transaction helper must retry on RetryableConflict.
 */
export async function createTransfersIn(trx: Trx, requests: readonly TransferRequest[]): Promise<TransferOutcome[]> {
  assert(requests.length <= LEDGER_LIMITS.batch_size_max, `at most ${LEDGER_LIMITS.batch_size_max} transfers a batch`);
  if (requests.length === 0) return [];
  const state = await loadBatchState(trx, requests);
  const { outcomes, inserts, failures } = processBatch(state, requests);
  await insertTransfers(trx, inserts);
  if (failures.length > 0) {
    await sql`insert into ledger_transfer_failures (id, result, request, failed_at)
      select * from unnest(${failures.map((f) => f.id)}::text[], ${failures.map((f) => f.result)}::text[],
                           ${failures.map((f) => JSON.stringify(f.request, bigintJson))}::jsonb[],
                           ${failures.map(() => state.now.toISOString())}::timestamptz[])
      on conflict (id) do nothing`.execute(trx);
  }
  if (inserts.length > 0) await assertAccountsMatch(trx, state.accounts);
  return outcomes;
}

async function loadBatchState(trx: Trx, requests: readonly TransferRequest[]): Promise<BatchState> {
  const now = await transactionNow(trx);
  const ids = requests.map((r) => r.id).filter((id) => typeof id === 'string');
  await lockIds(trx, ids);
  const pendingIds = unique(requests.flatMap((r) => (r.pending_id ? [r.pending_id] : [])));
  const transfers = await loadTransfers(trx, unique([...ids, ...pendingIds]));
  const holds = await lockHolds(trx, pendingIds);
  const accountIds = unique([
    ...requests.flatMap((r) => [r.debit_account_id, r.credit_account_id]).filter((x): x is string => !!x),
    ...[...holds.values()].flatMap((h) => [h.transfer.debit_account_id, h.transfer.credit_account_id]),
  ]);
  // Due holds on these accounts are expired first; their other accounts join the sorted lock set, so
  // the expiry never takes a lock out of order.
  const due = await findDueHolds(trx, accountIds, now);
  const lockSet = unique([...accountIds, ...due.flatMap((h) => [h.debit_account_id, h.credit_account_id])]);
  let accounts = await loadAccounts(trx, lockSet, true);
  if (due.length > 0 && (await expireHolds(trx, due, now)) > 0) {
    accounts = await loadAccounts(trx, lockSet, false);
    for (const [id, hold] of await lockHolds(trx, pendingIds)) holds.set(id, hold);
  }
  const failedIds = await loadFailedIds(trx, ids);
  return { now, accounts, transfers, holds, failedIds };
}

async function transactionNow(trx: Trx): Promise<Date> {
  const r = await sql<{ now: Date }>`select earnest_now() as now`.execute(trx);
  const now = r.rows[0]?.now;
  assert(now instanceof Date, 'earnest_now() must return a timestamp');
  return now;
}

/** Serialises concurrent submissions of the same ids (advisory locks, sorted to avoid deadlocks). */
async function lockIds(trx: Trx, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`select pg_advisory_xact_lock(k) from (
      select distinct hashtextextended(x, 7001) as k from unnest(${unique(ids)}::text[]) as x order by 1) as keys`.execute(trx);
}

async function loadTransfers(trx: Trx, ids: readonly string[]): Promise<Map<string, Transfer>> {
  if (ids.length === 0) return new Map();
  const r = await sql<Transfer>`select ${TRANSFER_COLUMNS} from ledger_transfers t where t.id = any(${ids}::text[])`.execute(trx);
  return new Map(r.rows.map((t) => [t.id, withoutSeq(normaliseTransfer(t))]));
}

/** Outcomes carry transfers as decided; the journal position (seq) is for paging history only. */
function withoutSeq(t: Transfer): Transfer {
  const { seq: _seq, ...rest } = t;
  return rest;
}

async function lockHolds(trx: Trx, pendingIds: readonly string[]): Promise<Map<string, Hold>> {
  if (pendingIds.length === 0) return new Map();
  const r = await sql<Transfer & { status: PendingStatus }>`
    select ${TRANSFER_COLUMNS}, h.status from ledger_pending h join ledger_transfers t on t.id = h.id
     where h.id = any(${pendingIds}::text[]) order by h.id for update of h`.execute(trx);
  return new Map(r.rows.map((row) => [row.id, { transfer: normaliseTransfer(row), status: row.status }]));
}

async function loadAccounts(trx: Trx, ids: readonly string[], forUpdate: boolean): Promise<Map<string, Account>> {
  if (ids.length === 0) return new Map();
  const lock = forUpdate ? sql`for update` : sql``;
  const r = await sql<Account>`select * from ledger_accounts where id = any(${ids}::text[]) order by id ${lock}`.execute(trx);
  return new Map(r.rows.map((a) => [a.id, normaliseAccount(a)]));
}

async function loadFailedIds(trx: Trx, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const r = await sql<{ id: string }>`select id from ledger_transfer_failures where id = any(${ids}::text[])`.execute(trx);
  return new Set(r.rows.map((x) => x.id));
}

/** Holds whose timeout has passed on the database clock and that touch these accounts (not locked yet). */
async function findDueHolds(trx: Trx, accountIds: readonly string[], now: Date): Promise<Transfer[]> {
  if (accountIds.length === 0) return [];
  const due = await sql<Transfer>`
    select ${TRANSFER_COLUMNS} from ledger_pending h join ledger_transfers t on t.id = h.id
     where h.status = 'pending' and h.expires_at <= ${now.toISOString()}::timestamptz
       and (h.debit_account_id = any(${accountIds}::text[]) or h.credit_account_id = any(${accountIds}::text[]))
     order by h.id`.execute(trx);
  return due.rows.map(normaliseTransfer);
}

/**
 * Expires due holds whose accounts this transaction has locked, so a batch never sees money reserved
 * by an expired hold. A hold locked by another transaction is being resolved by it, and is skipped.
 */
async function expireHolds(trx: Trx, due: readonly Transfer[], now: Date): Promise<number> {
  const locked = await sql<{ id: string }>`
    select id from ledger_pending where id = any(${due.map((h) => h.id)}::text[]) and status = 'pending'
     order by id for update skip locked`.execute(trx);
  const ids = new Set(locked.rows.map((r) => r.id));
  await insertTransfers(trx, due.filter((h) => ids.has(h.id)).map((h) => expiryOf(h, now)));
  return ids.size;
}

/** The journal row that records a hold's expiry: a void, marked expired, with a reserved id. */
export function expiryOf(p: Transfer, now: Date): Transfer {
  return {
    id: `~expired:${p.id}`,
    debit_account_id: p.debit_account_id,
    credit_account_id: p.credit_account_id,
    amount: p.amount,
    pending_id: p.id,
    currency: p.currency,
    code: p.code,
    flags: TransferFlags.void_pending_transfer | TransferFlags.expired,
    timeout: 0,
    user_data: null,
    timestamp: now,
    expires_at: null,
  };
}

/** Expires up to `limit` due holds anywhere in the ledger (the background sweeper). Returns how many. */
export async function expireDueHolds(db: Db, limit = 1000): Promise<number> {
  return inTransaction(db, async (trx) => {
    const now = await transactionNow(trx);
    const due = await sql<Transfer>`
      select ${TRANSFER_COLUMNS} from ledger_pending h join ledger_transfers t on t.id = h.id
       where h.status = 'pending' and h.expires_at <= ${now.toISOString()}::timestamptz
       order by h.expires_at, h.id limit ${limit} for update of h skip locked`.execute(trx);
    if (due.rows.length === 0) return 0;
    const accountIds = unique(due.rows.flatMap((p) => [p.debit_account_id, p.credit_account_id]));
    await loadAccounts(trx, accountIds, true);
    await insertTransfers(trx, due.rows.map((p) => expiryOf(normaliseTransfer(p), now)));
    return due.rows.length;
  });
}

async function insertTransfers(trx: Trx, rows: readonly Transfer[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const chunk = rows.slice(i, i + INSERT_CHUNK);
    try {
      await sql`insert into ledger_transfers (id, debit_account_id, credit_account_id, amount, pending_id, currency,
          code, flags, timeout, user_data, "timestamp", expires_at)
        select * from unnest(
          ${chunk.map((t) => t.id)}::text[], ${chunk.map((t) => t.debit_account_id)}::text[],
          ${chunk.map((t) => t.credit_account_id)}::text[], ${chunk.map((t) => t.amount.toString())}::int8[],
          ${chunk.map((t) => t.pending_id)}::text[], ${chunk.map((t) => t.currency)}::char(3)[],
          ${chunk.map((t) => t.code)}::int[], ${chunk.map((t) => t.flags)}::int[], ${chunk.map((t) => t.timeout)}::int[],
          ${chunk.map((t) => t.user_data)}::text[], ${chunk.map((t) => t.timestamp.toISOString())}::timestamptz[],
          ${chunk.map((t) => t.expires_at?.toISOString() ?? null)}::timestamptz[])`.execute(trx);
    } catch (e) {
      // Another transaction committed the same id (or resolved the same hold) first: start over and
      // the retry will answer `exists` (or `pending_transfer_already_*`).
      if (sqlState(e) === '23505') throw new RetryableConflict(`lost a race on a transfer id: ${(e as Error).message}`);
      throw e;
    }
  }
}

/** Postcondition: what the journal trigger did to the counters is what the state machine decided. */
async function assertAccountsMatch(trx: Trx, expected: Map<string, Account>): Promise<void> {
  const actual = await loadAccounts(trx, [...expected.keys()], false);
  for (const [id, want] of expected) {
    const got = actual.get(id);
    assert(got, `account ${id} vanished`);
    assert(
      got.debits_pending === want.debits_pending &&
        got.debits_posted === want.debits_posted &&
        got.credits_pending === want.credits_pending &&
        got.credits_posted === want.credits_posted &&
        got.closed === want.closed,
      `account ${id} counters differ from the decided state`,
    );
  }
}

export async function lookupAccounts(db: Db, ids: readonly string[]): Promise<Account[]> {
  const accounts = await loadAccountsRaw(db, ids);
  return ids.flatMap((id) => {
    const a = accounts.get(id);
    return a ? [a] : [];
  });
}

/**
 * Locks accounts for the rest of the caller's transaction (in id order, as the ledger itself locks
 * them) and answers them as they stand: a caller that must decide what fits before submitting
 * transfers — a failed transfer burns its id — reads balances nothing else can change until it
 * commits. Holds whose timeout passed are not expired here, so what is available can only be more.
 */
export async function lockAccounts(trx: Trx, ids: readonly string[]): Promise<Account[]> {
  const accounts = await loadAccounts(trx, unique(ids), true);
  return ids.flatMap((id) => {
    const a = accounts.get(id);
    return a ? [a] : [];
  });
}

async function loadAccountsRaw(db: Db, ids: readonly string[]): Promise<Map<string, Account>> {
  if (ids.length === 0) return new Map();
  const r = await sql<Account>`select * from ledger_accounts where id = any(${ids}::text[])`.execute(db);
  return new Map(r.rows.map((a) => [a.id, normaliseAccount(a)]));
}

export async function lookupTransfers(db: Db, ids: readonly string[]): Promise<Transfer[]> {
  if (ids.length === 0) return [];
  const r = await sql<Transfer>`select ${TRANSFER_COLUMNS} from ledger_transfers t where t.id = any(${ids}::text[])`.execute(db);
  const byId = new Map(r.rows.map((t) => [t.id, normaliseTransfer(t)]));
  return ids.flatMap((id) => {
    const t = byId.get(id);
    return t ? [t] : [];
  });
}

export interface HoldState {
  id: string;
  status: PendingStatus;
  amount: bigint;
  expires_at: Date | null;
  resolved_by: string | null;
}

export async function lookupHolds(db: Db, ids: readonly string[]): Promise<HoldState[]> {
  if (ids.length === 0) return [];
  const r = await sql<HoldState>`select id, status, amount, expires_at, resolved_by from ledger_pending
     where id = any(${ids}::text[])`.execute(db);
  return r.rows;
}

/** An account's journal, oldest first, in pages (`after` is the last seq seen). */
export async function accountTransfers(db: Db, accountId: string, after = 0n, limit = 100): Promise<Transfer[]> {
  const r = await sql<Transfer>`select ${TRANSFER_COLUMNS} from ledger_transfers t
     where (t.debit_account_id = ${accountId} or t.credit_account_id = ${accountId}) and t.seq > ${after}
     order by t.seq limit ${Math.min(limit, 1000)}`.execute(db);
  return r.rows.map(normaliseTransfer);
}

function normaliseAccount(a: Account): Account {
  return { ...a, currency: a.currency.trim() };
}

function normaliseTransfer(t: Transfer): Transfer {
  return {
    id: t.id,
    ...(t.seq !== undefined ? { seq: t.seq } : {}),
    debit_account_id: t.debit_account_id,
    credit_account_id: t.credit_account_id,
    amount: t.amount,
    pending_id: t.pending_id,
    currency: t.currency.trim(),
    code: t.code,
    flags: t.flags,
    timeout: t.timeout,
    user_data: t.user_data,
    timestamp: t.timestamp,
    expires_at: t.expires_at,
  };
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

function bigintJson(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

// ---------------------------------------------------------------------------------------------
// Balances read under a lock by the money movements (service.ts)

/** The escrow's reserved and available amounts, its row locked (settlement). */
export async function lockedEscrowForSettlement(trx: Trx, escrow: string): Promise<{ pending: bigint; available: bigint } | undefined> {
  const escrowRow = await sql<{ pending: bigint; available: bigint }>`
      select debits_pending as pending, credits_posted - debits_posted - debits_pending as available
        from ledger_accounts where id = ${escrow} for update`.execute(trx);
  return escrowRow.rows[0];
}

/** What the account has available, its row locked: one row, or none when it does not exist (clawbacks). */
export async function lockedAvailable(trx: Trx, accountId: string): Promise<Array<{ available: bigint }>> {
  const payable = accountId;
  const r = await sql<{ available: bigint }>`
      select credits_posted - debits_posted - debits_pending as available from ledger_accounts where id = ${payable} for update`.execute(trx);
  return r.rows;
}

// ---------------------------------------------------------------------------------------------
// The checker's reading of the journal (check.ts): read-only, in the checker's repeatable-read transaction

export async function ledgerCounts(db: Db): Promise<Array<{ accounts: bigint; transfers: bigint; holds_pending: bigint }>> {
  const r = await sql<{ accounts: bigint; transfers: bigint; holds_pending: bigint }>`
        select (select count(*) from ledger_accounts) as accounts,
               (select count(*) from ledger_transfers) as transfers,
               (select count(*) from ledger_pending where status = 'pending') as holds_pending`.execute(db);
  return r.rows;
}

export async function counterMismatchRows(db: Db): Promise<Array<{ id: string; stored: string; journal: string }>> {
  const r = await sql<{ id: string; stored: string; journal: string }>`
    with open_holds as (
      select t.* from ledger_transfers t
       where t.flags & 2 <> 0 and not exists (select 1 from ledger_transfers r where r.pending_id = t.id)
    ), posted as (
      select * from ledger_transfers t where t.flags & 2 = 0 and t.flags & 8 = 0
    ), sides as (
      select debit_account_id as id, amount as dp, 0::bigint as dpo, 0::bigint as cp, 0::bigint as cpo from open_holds
      union all select credit_account_id, 0, 0, amount, 0 from open_holds
      union all select debit_account_id, 0, amount, 0, 0 from posted
      union all select credit_account_id, 0, 0, 0, amount from posted
    ), sums as (
      select id, sum(dp) as dp, sum(dpo) as dpo, sum(cp) as cp, sum(cpo) as cpo from sides group by id
    ), closing as (
      select debit_account_id as id from open_holds where flags & 64 <> 0
      union select credit_account_id from open_holds where flags & 128 <> 0
      union select p.debit_account_id from ledger_transfers r join ledger_transfers p on p.id = r.pending_id
       where r.flags & 4 <> 0 and p.flags & 64 <> 0
      union select p.credit_account_id from ledger_transfers r join ledger_transfers p on p.id = r.pending_id
       where r.flags & 4 <> 0 and p.flags & 128 <> 0
    )
    select a.id,
           concat_ws(' ', a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted, a.closed) as stored,
           concat_ws(' ', coalesce(s.dp, 0), coalesce(s.dpo, 0), coalesce(s.cp, 0), coalesce(s.cpo, 0),
                     c.id is not null) as journal
      from ledger_accounts a
      left join sums s on s.id = a.id
      left join closing c on c.id = a.id
     where a.debits_pending <> coalesce(s.dp, 0) or a.debits_posted <> coalesce(s.dpo, 0)
        or a.credits_pending <> coalesce(s.cp, 0) or a.credits_posted <> coalesce(s.cpo, 0)
        or a.closed <> (c.id is not null)
     order by a.id`.execute(db);
  return r.rows;
}

export async function holdStateMismatchRows(db: Db): Promise<Array<{ id: string; stored: string | null; journal: string }>> {
  const r = await sql<{ id: string; stored: string | null; journal: string }>`
    select t.id, h.status as stored,
           case when r.id is null then 'pending' when r.flags & 4 <> 0 then 'posted'
                when r.flags & 32768 <> 0 then 'expired' else 'voided' end as journal
      from ledger_transfers t
      left join ledger_pending h on h.id = t.id
      left join ledger_transfers r on r.pending_id = t.id
     where t.flags & 2 <> 0
       and h.status is distinct from
           (case when r.id is null then 'pending' when r.flags & 4 <> 0 then 'posted'
                 when r.flags & 32768 <> 0 then 'expired' else 'voided' end)
     order by t.id`.execute(db);
  return r.rows;
}

export async function currencyTotalRows(db: Db): Promise<Array<{ currency: string } & Record<keyof CurrencyTotals, bigint>>> {
  const r = await sql<{ currency: string } & Record<keyof CurrencyTotals, bigint>>`
    select currency, sum(debits_pending) as debits_pending, sum(debits_posted) as debits_posted,
           sum(credits_pending) as credits_pending, sum(credits_posted) as credits_posted
      from ledger_accounts group by currency order by currency`.execute(db);
  return r.rows;
}

export async function accountsOverLimitRows(db: Db): Promise<Array<{ id: string }>> {
  const r = await sql<{ id: string }>`
    select id from ledger_accounts
     where (flags & 2 <> 0 and debits_pending + debits_posted > credits_posted)
        or (flags & 4 <> 0 and credits_pending + credits_posted > debits_posted)
     order by id`.execute(db);
  return r.rows;
}

export async function holdsResolvedTwiceRows(db: Db): Promise<Array<{ pending_id: string; n: bigint }>> {
  const r = await sql<{ pending_id: string; n: bigint }>`
    select pending_id, count(*) as n from ledger_transfers where pending_id is not null
     group by pending_id having count(*) > 1 order by pending_id`.execute(db);
  return r.rows;
}

export async function currencyMismatchRows(db: Db): Promise<Array<{ id: string }>> {
  const r = await sql<{ id: string }>`
    select t.id from ledger_transfers t
      join ledger_accounts d on d.id = t.debit_account_id
      join ledger_accounts c on c.id = t.credit_account_id
     where d.currency <> t.currency or c.currency <> t.currency order by t.id`.execute(db);
  return r.rows;
}

// ---------------------------------------------------------------------------------------------
// The simulation's reading of the ledger (simulation/simulate.ts, test tooling)

/** The simulation's accounts (ids `<prefix>.…`) with their counters. */
export async function simulatedAccounts(
  db: Db,
  prefix: string,
): Promise<Array<{ id: string; currency: string; flags: number; dp: bigint; dpo: bigint; cp: bigint; cpo: bigint; closed: boolean }>> {
  const rows = await sql<{ id: string; currency: string; flags: number; dp: bigint; dpo: bigint; cp: bigint; cpo: bigint; closed: boolean }>`
    select id, currency, flags, debits_pending as dp, debits_posted as dpo, credits_pending as cp, credits_posted as cpo, closed
      from ledger_accounts where id like ${`${prefix}.%`}`.execute(db);
  return rows.rows;
}

/** The stored status of these holds (ledger_pending). */
export async function holdStatuses(db: Db, ids: readonly string[]): Promise<Array<{ id: string; status: string }>> {
  const rows = await sql<{ id: string; status: string }>`select id, status from ledger_pending where id = any(${ids}::text[])`.execute(db);
  return rows.rows;
}

import { type Kysely, sql } from 'kysely';

export interface CurrencyTotals {
  debits_pending: string;
  debits_posted: string;
  credits_pending: string;
  credits_posted: string;
}

export interface LedgerCheckReport {
  accounts: number;
  transfers: number;
  holds_pending: number;
  /** Accounts whose stored counters or closed state differ from the journal, plus every other problem. */
  mismatches: number;
  counter_mismatches: number;
  hold_state_mismatches: number;
  unbalanced_currencies: number;
  accounts_over_limit: number;
  holds_resolved_twice: number;
  currency_mismatches: number;
  currencies: Record<string, CurrencyTotals>;
  /** The first problems found, described for people. */
  problems: string[];
}

const PROBLEMS_SHOWN = 20;

/**
 * Recomputes every account's four counters and closed state from the journal and compares them with
 * the stored ones; checks that debits equal credits (posted and pending) per currency, that no
 * flagged account is over its limit, that every hold's state follows the journal and that no hold was
 * resolved twice. Read-only; run it inside a repeatable-read transaction for a consistent picture.
 */
export async function checkLedger(db: Kysely<any>): Promise<LedgerCheckReport> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const counters = await counterMismatches(trx);
      const holds = await holdStateMismatches(trx);
      const currencies = await currencyTotals(trx);
      const overLimit = await accountsOverLimit(trx);
      const twice = await holdsResolvedTwice(trx);
      const currencyMismatch = await currencyMismatches(trx);
      const counts = await sql<{ accounts: bigint; transfers: bigint; holds_pending: bigint }>`
        select (select count(*) from ledger_accounts) as accounts,
               (select count(*) from ledger_transfers) as transfers,
               (select count(*) from ledger_pending where status = 'pending') as holds_pending`.execute(trx);
      const unbalanced = Object.entries(currencies).filter(
        ([, t]) => t.debits_pending !== t.credits_pending || t.debits_posted !== t.credits_posted,
      );
      const problems = [
        ...counters,
        ...holds,
        ...unbalanced.map(([c, t]) => `${c} unbalanced: ${JSON.stringify(t)}`),
        ...overLimit,
        ...twice,
        ...currencyMismatch,
      ];
      const row = counts.rows[0];
      return {
        accounts: Number(row?.accounts ?? 0),
        transfers: Number(row?.transfers ?? 0),
        holds_pending: Number(row?.holds_pending ?? 0),
        mismatches: problems.length,
        counter_mismatches: counters.length,
        hold_state_mismatches: holds.length,
        unbalanced_currencies: unbalanced.length,
        accounts_over_limit: overLimit.length,
        holds_resolved_twice: twice.length,
        currency_mismatches: currencyMismatch.length,
        currencies,
        problems: problems.slice(0, PROBLEMS_SHOWN),
      };
    });
}

async function counterMismatches(db: Kysely<any>): Promise<string[]> {
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
  return r.rows.map(
    (x) => `account ${x.id}: stored (dp dpo cp cpo closed) ${x.stored} but the journal gives ${x.journal}`,
  );
}

async function holdStateMismatches(db: Kysely<any>): Promise<string[]> {
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
  return r.rows.map((x) => `hold ${x.id}: stored ${x.stored ?? 'missing'} but the journal gives ${x.journal}`);
}

async function currencyTotals(db: Kysely<any>): Promise<Record<string, CurrencyTotals>> {
  const r = await sql<{ currency: string } & Record<keyof CurrencyTotals, bigint>>`
    select currency, sum(debits_pending) as debits_pending, sum(debits_posted) as debits_posted,
           sum(credits_pending) as credits_pending, sum(credits_posted) as credits_posted
      from ledger_accounts group by currency order by currency`.execute(db);
  return Object.fromEntries(
    r.rows.map((x) => [
      x.currency.trim(),
      {
        debits_pending: String(x.debits_pending),
        debits_posted: String(x.debits_posted),
        credits_pending: String(x.credits_pending),
        credits_posted: String(x.credits_posted),
      },
    ]),
  );
}

async function accountsOverLimit(db: Kysely<any>): Promise<string[]> {
  const r = await sql<{ id: string }>`
    select id from ledger_accounts
     where (flags & 2 <> 0 and debits_pending + debits_posted > credits_posted)
        or (flags & 4 <> 0 and credits_pending + credits_posted > debits_posted)
     order by id`.execute(db);
  return r.rows.map((x) => `account ${x.id} is over its limit`);
}

async function holdsResolvedTwice(db: Kysely<any>): Promise<string[]> {
  const r = await sql<{ pending_id: string; n: bigint }>`
    select pending_id, count(*) as n from ledger_transfers where pending_id is not null
     group by pending_id having count(*) > 1 order by pending_id`.execute(db);
  return r.rows.map((x) => `hold ${x.pending_id} was resolved ${x.n} times`);
}

async function currencyMismatches(db: Kysely<any>): Promise<string[]> {
  const r = await sql<{ id: string }>`
    select t.id from ledger_transfers t
      join ledger_accounts d on d.id = t.debit_account_id
      join ledger_accounts c on c.id = t.credit_account_id
     where d.currency <> t.currency or c.currency <> t.currency order by t.id`.execute(db);
  return r.rows.map((x) => `transfer ${x.id} moves a currency its accounts do not hold`);
}

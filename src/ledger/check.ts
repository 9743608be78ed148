import type { Kysely } from 'kysely';
import {
  accountsOverLimitRows,
  counterMismatchRows,
  currencyMismatchRows,
  currencyTotalRows,
  holdStateMismatchRows,
  holdsResolvedTwiceRows,
  ledgerCounts,
} from './repository.js';

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
      const [row] = await ledgerCounts(trx);
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
  const rows = await counterMismatchRows(db);
  return rows.map(
    (x) => `account ${x.id}: stored (dp dpo cp cpo closed) ${x.stored} but the journal gives ${x.journal}`,
  );
}

async function holdStateMismatches(db: Kysely<any>): Promise<string[]> {
  const rows = await holdStateMismatchRows(db);
  return rows.map((x) => `hold ${x.id}: stored ${x.stored ?? 'missing'} but the journal gives ${x.journal}`);
}

async function currencyTotals(db: Kysely<any>): Promise<Record<string, CurrencyTotals>> {
  const rows = await currencyTotalRows(db);
  return Object.fromEntries(
    rows.map((x) => [
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
  const rows = await accountsOverLimitRows(db);
  return rows.map((x) => `account ${x.id} is over its limit`);
}

async function holdsResolvedTwice(db: Kysely<any>): Promise<string[]> {
  const rows = await holdsResolvedTwiceRows(db);
  return rows.map((x) => `hold ${x.pending_id} was resolved ${x.n} times`);
}

async function currencyMismatches(db: Kysely<any>): Promise<string[]> {
  const rows = await currencyMismatchRows(db);
  return rows.map((x) => `transfer ${x.id} moves a currency its accounts do not hold`);
}

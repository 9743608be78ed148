import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { advanceClock } from '../db/index.js';
import {
  AccountFlags,
  checkLedger,
  createAccounts,
  createTransfers,
  expireDueHolds,
  lookupAccounts,
  lookupHolds,
  type TransferRequest,
  TransferFlags as F,
} from './index.js';

let t: TestDatabase;
let n = 0;
/** Fresh account ids per test so tests never see each other's balances. */
let p = '';

beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(async () => {
  await t?.close();
});
beforeEach(async () => {
  p = `t${++n}`;
  const limited = AccountFlags.debits_must_not_exceed_credits;
  const outcomes = await createAccounts(t.db, [
    { id: `${p}.world`, currency: 'USD', code: 1 },
    { id: `${p}.a`, currency: 'USD', code: 2, flags: limited },
    { id: `${p}.b`, currency: 'USD', code: 2, flags: limited },
    { id: `${p}.c`, currency: 'USD', code: 2, flags: AccountFlags.credits_must_not_exceed_debits },
    { id: `${p}.eur`, currency: 'EUR', code: 2 },
  ]);
  expect(outcomes.every((o) => o.result === 'ok')).toBe(true);
  // a.credits_posted = 1000
  await expectResults([tr('seed', 'world', 'a', 1000n)], ['ok']);
});

function tr(id: string, debit: string, credit: string, amount: bigint, extra: Partial<TransferRequest> = {}): TransferRequest {
  return { id: `${p}.${id}`, debit_account_id: `${p}.${debit}`, credit_account_id: `${p}.${credit}`, amount, currency: 'USD', code: 10, ...extra };
}

function resolve(id: string, pendingId: string, flags: number, extra: Partial<TransferRequest> = {}): TransferRequest {
  return { id: `${p}.${id}`, pending_id: `${p}.${pendingId}`, flags, ...extra };
}

async function expectResults(requests: TransferRequest[], results: string[]) {
  const outcomes = await createTransfers(t.db, requests);
  expect(outcomes.map((o) => o.result)).toEqual(results);
  return outcomes;
}

async function balances(name: string) {
  const [a] = await lookupAccounts(t.db, [`${p}.${name}`]);
  if (!a) throw new Error(`no account ${name}`);
  return { dp: a.debits_pending, dpo: a.debits_posted, cp: a.credits_pending, cpo: a.credits_posted, closed: a.closed };
}

describe('accounts', () => {
  it.each([
    [{ currency: 'USD', code: 2, flags: AccountFlags.debits_must_not_exceed_credits }, 'exists'],
    [{ currency: 'USD', code: 2, flags: 0 }, 'exists_with_different_flags'],
    [{ currency: 'USD', code: 2, flags: AccountFlags.debits_must_not_exceed_credits, user_data: 'x' }, 'exists_with_different_user_data'],
    [{ currency: 'EUR', code: 2, flags: AccountFlags.debits_must_not_exceed_credits }, 'exists_with_different_currency'],
    [{ currency: 'USD', code: 3, flags: AccountFlags.debits_must_not_exceed_credits }, 'exists_with_different_code'],
  ])('recreating an account with %o answers %s', async (fields, result) => {
    const [outcome] = await createAccounts(t.db, [{ id: `${p}.a`, ...fields }]);
    expect(outcome?.result).toBe(result);
  });

  it.each([
    [{ id: '', currency: 'USD', code: 1 }, 'id_invalid'],
    [{ id: 'has space', currency: 'USD', code: 1 }, 'id_invalid'],
    [{ id: 'x1', currency: 'USD', code: 1, flags: 6 }, 'flags_are_mutually_exclusive'],
    [{ id: 'x2', currency: 'USD', code: 1, flags: 8 }, 'reserved_flag'],
    [{ id: 'x3', currency: 'usd', code: 1 }, 'currency_invalid'],
    [{ id: 'x4', currency: 'XYZ', code: 1 }, 'currency_invalid'],
    [{ id: 'x5', currency: 'USD', code: 0 }, 'code_must_not_be_zero'],
  ])('refuses %o with %s', async (request, result) => {
    const [outcome] = await createAccounts(t.db, [request]);
    expect(outcome?.result).toBe(result);
  });
});

describe('validation, in order of precedence', () => {
  it.each<[string, () => TransferRequest, string]>([
    ['unknown flag bits', () => tr('v', 'a', 'b', 1n, { flags: 1 << 9 }), 'reserved_flag'],
    ['the internal expired flag', () => tr('v', 'a', 'b', 1n, { flags: F.expired }), 'reserved_flag'],
    ['an empty id', () => ({ ...tr('v', 'a', 'b', 1n), id: '' }), 'id_invalid'],
    ['an id with a reserved character', () => ({ ...tr('v', 'a', 'b', 1n), id: '~expired:x' }), 'id_invalid'],
    ['pending and post together', () => tr('v', 'a', 'b', 1n, { flags: F.pending | F.post_pending_transfer }), 'flags_are_mutually_exclusive'],
    ['post with balancing', () => resolve('v', 'x', F.post_pending_transfer | F.balancing_debit), 'flags_are_mutually_exclusive'],
    ['no debit account', () => ({ ...tr('v', 'a', 'b', 1n), debit_account_id: undefined }), 'debit_account_id_must_not_be_empty'],
    ['no credit account', () => ({ ...tr('v', 'a', 'b', 1n), credit_account_id: undefined }), 'credit_account_id_must_not_be_empty'],
    ['the same account twice', () => tr('v', 'a', 'a', 1n), 'accounts_must_be_different'],
    ['a pending id on a plain transfer', () => tr('v', 'a', 'b', 1n, { pending_id: 'x' }), 'pending_id_must_be_empty'],
    ['a post without pending id', () => ({ id: `${p}.v`, flags: F.post_pending_transfer }), 'pending_id_must_not_be_empty'],
    ['a post of itself', () => resolve('v', 'v', F.post_pending_transfer), 'pending_id_must_be_different'],
    ['a timeout on a posted transfer', () => tr('v', 'a', 'b', 1n, { timeout: 5 }), 'timeout_reserved_for_pending_transfer'],
    ['closing without pending', () => tr('v', 'a', 'b', 1n, { flags: F.closing_debit }), 'closing_transfer_must_be_pending'],
    ['a negative amount', () => tr('v', 'a', 'b', -1n), 'amount_must_not_be_negative'],
    ['a zero amount', () => tr('v', 'a', 'b', 0n), 'amount_must_not_be_zero'],
    ['a lower-case currency', () => tr('v', 'a', 'b', 1n, { currency: 'usd' }), 'currency_invalid'],
    ['code zero', () => tr('v', 'a', 'b', 1n, { code: 0 }), 'code_must_not_be_zero'],
    ['an unknown debit account', () => tr('v', 'nope', 'b', 1n), 'debit_account_not_found'],
    ['an unknown credit account', () => tr('v', 'a', 'nope', 1n), 'credit_account_not_found'],
    ['accounts in two currencies', () => tr('v', 'a', 'eur', 1n), 'accounts_must_have_the_same_currency'],
    ['a currency other than the accounts', () => tr('v', 'a', 'b', 1n, { currency: 'EUR' }), 'transfer_must_have_the_same_currency_as_accounts'],
    ['an unknown hold', () => resolve('v', 'nope', F.post_pending_transfer), 'pending_transfer_not_found'],
    ['a plain transfer as hold', () => resolve('v', 'seed', F.void_pending_transfer), 'pending_transfer_not_pending'],
    ['more than the debit account has', () => tr('v', 'a', 'b', 1001n), 'exceeds_credits'],
    ['more than the credit account may take', () => tr('v', 'world', 'c', 1n), 'exceeds_debits'],
  ])('%s → %s', async (_name, request, result) => {
    await expectResults([request()], [result]);
  });

  it('limits count pending amounts', async () => {
    await expectResults([tr('h', 'a', 'b', 600n, { flags: F.pending })], ['ok']);
    await expectResults([tr('x', 'a', 'b', 401n)], ['exceeds_credits']);
    await expectResults([tr('y', 'a', 'b', 400n)], ['ok']);
    expect(await balances('a')).toMatchObject({ dp: 600n, dpo: 400n, cpo: 1000n });
  });

  it('refuses an amount that would overflow int8', async () => {
    // world has already been debited 1000 by the seed
    await expectResults([tr('big', 'world', 'b', 2n ** 63n - 1n - 1000n)], ['ok']);
    await expectResults([tr('more', 'world', 'b', 1n)], ['overflows_debits_posted']);
    await expectResults([tr('hold', 'world', 'b', 1n, { flags: F.pending })], ['overflows_debits']);
  });
});

describe('idempotency', () => {
  const original = () => tr('once', 'a', 'b', 100n, { user_data: 'r1' });
  it('an identical retry answers exists with the original transfer and moves nothing', async () => {
    const [first] = await expectResults([original()], ['ok']);
    const [again] = await expectResults([original()], ['exists']);
    expect(again?.transfer).toEqual(first?.transfer);
    expect(await balances('a')).toMatchObject({ dpo: 100n });
  });

  it.each<[string, Partial<TransferRequest>, string]>([
    ['flags', { flags: F.pending }, 'exists_with_different_flags'],
    ['pending_id', { pending_id: 'x', flags: 0 }, 'exists_with_different_pending_id'],
    ['timeout', { timeout: 3 }, 'exists_with_different_timeout'],
    ['debit account', { debit_account_id: 'other' }, 'exists_with_different_debit_account_id'],
    ['credit account', { credit_account_id: 'other' }, 'exists_with_different_credit_account_id'],
    ['amount', { amount: 101n }, 'exists_with_different_amount'],
    ['user_data', { user_data: 'r2' }, 'exists_with_different_user_data'],
    ['currency', { currency: 'EUR' }, 'exists_with_different_currency'],
    ['code', { code: 11 }, 'exists_with_different_code'],
    ['amount before code', { amount: 5n, code: 11 }, 'exists_with_different_amount'],
  ])('a retry with a different %s answers %s', async (_field, change, result) => {
    await expectResults([original()], ['ok']);
    await expectResults([{ ...original(), ...change }], [result]);
    expect(await balances('a')).toMatchObject({ dpo: 100n });
  });

  it('an id that failed on state stays failed, even once the state allows it', async () => {
    await expectResults([tr('f', 'a', 'b', 2000n)], ['exceeds_credits']);
    await expectResults([tr('more', 'world', 'a', 5000n)], ['ok']);
    await expectResults([tr('f', 'a', 'b', 2000n)], ['id_already_failed']);
    expect(await balances('b')).toMatchObject({ cpo: 0n });
  });

  it('an id that failed validation may be used again', async () => {
    await expectResults([tr('g', 'a', 'b', 0n)], ['amount_must_not_be_zero']);
    await expectResults([tr('g', 'a', 'b', 5n)], ['ok']);
  });

  it('a duplicate inside one batch answers exists', async () => {
    await expectResults([tr('d', 'a', 'b', 5n), tr('d', 'a', 'b', 5n), tr('d', 'a', 'b', 6n)], ['ok', 'exists', 'exists_with_different_amount']);
  });
});

describe('holds', () => {
  beforeEach(async () => {
    await expectResults([tr('h', 'a', 'b', 300n, { flags: F.pending, timeout: 60 })], ['ok']);
  });

  it('reserves, then posts in full', async () => {
    expect(await balances('a')).toMatchObject({ dp: 300n, dpo: 0n });
    expect(await balances('b')).toMatchObject({ cp: 300n, cpo: 0n });
    await expectResults([resolve('p', 'h', F.post_pending_transfer)], ['ok']);
    expect(await balances('a')).toMatchObject({ dp: 0n, dpo: 300n });
    expect(await balances('b')).toMatchObject({ cp: 0n, cpo: 300n });
  });

  it('posts partially and releases the rest', async () => {
    await expectResults([resolve('p', 'h', F.post_pending_transfer, { amount: 120n })], ['ok']);
    expect(await balances('a')).toMatchObject({ dp: 0n, dpo: 120n });
  });

  it('never posts more than held', async () => {
    await expectResults([resolve('p', 'h', F.post_pending_transfer, { amount: 301n })], ['exceeds_pending_transfer_amount']);
  });

  it('voids, releasing everything', async () => {
    await expectResults([resolve('v', 'h', F.void_pending_transfer)], ['ok']);
    expect(await balances('a')).toMatchObject({ dp: 0n, dpo: 0n });
  });

  it.each<[string, number, string]>([
    ['posted', F.post_pending_transfer, 'pending_transfer_already_posted'],
    ['voided', F.void_pending_transfer, 'pending_transfer_already_voided'],
  ])('once %s, a second resolution answers %s', async (_s, first, result) => {
    await expectResults([resolve('r1', 'h', first)], ['ok']);
    await expectResults([resolve('r2', 'h', F.post_pending_transfer)], [result]);
    await expectResults([resolve('r3', 'h', F.void_pending_transfer)], [result]);
  });

  it('checks a resolution against its hold', async () => {
    await expectResults(
      [
        resolve('x1', 'h', F.post_pending_transfer, { debit_account_id: `${p}.b` }),
        resolve('x2', 'h', F.post_pending_transfer, { credit_account_id: `${p}.a` }),
        resolve('x3', 'h', F.post_pending_transfer, { currency: 'EUR' }),
        resolve('x4', 'h', F.post_pending_transfer, { code: 99 }),
        resolve('x5', 'h', F.void_pending_transfer, { amount: 5n }),
      ],
      [
        'pending_transfer_has_different_debit_account_id',
        'pending_transfer_has_different_credit_account_id',
        'pending_transfer_has_different_currency',
        'pending_transfer_has_different_code',
        'pending_transfer_has_different_amount',
      ],
    );
  });

  it('expires on the database clock and then refuses resolution', async () => {
    await advanceClock(t.db, 59);
    await expectResults([tr('probe', 'a', 'b', 701n)], ['exceeds_credits']);
    await advanceClock(t.db, 2);
    // The money comes back as soon as the hold is due, even before any sweeper runs.
    await expectResults([tr('probe2', 'a', 'b', 701n)], ['ok']);
    await expectResults([resolve('late', 'h', F.post_pending_transfer)], ['pending_transfer_expired']);
    const [state] = await lookupHolds(t.db, [`${p}.h`]);
    expect(state?.status).toBe('expired');
  });

  it('the sweeper expires due holds', async () => {
    await advanceClock(t.db, 61);
    expect(await expireDueHolds(t.db)).toBeGreaterThanOrEqual(1);
    expect(await balances('a')).toMatchObject({ dp: 0n });
    const [state] = await lookupHolds(t.db, [`${p}.h`]);
    expect(state?.status).toBe('expired');
  });
});

describe('linked chains', () => {
  it('commit together', async () => {
    await expectResults(
      [tr('l1', 'a', 'b', 10n, { flags: F.linked }), tr('l2', 'b', 'world', 10n)],
      ['ok', 'ok'],
    );
    expect(await balances('b')).toMatchObject({ cpo: 10n, dpo: 10n });
  });

  it('fail together: the culprit keeps its code, the others answer linked_event_failed', async () => {
    await expectResults(
      [
        tr('l1', 'a', 'b', 10n, { flags: F.linked }),
        tr('l2', 'a', 'b', 5000n, { flags: F.linked }),
        tr('l3', 'a', 'b', 1n),
        tr('l4', 'a', 'b', 7n),
      ],
      ['linked_event_failed', 'exceeds_credits', 'linked_event_failed', 'ok'],
    );
    expect(await balances('a')).toMatchObject({ dpo: 7n });
  });

  it('a later event sees the effect of an earlier one in its chain', async () => {
    await expectResults(
      [tr('h2', 'a', 'b', 50n, { flags: F.pending | F.linked }), resolve('p2', 'h2', F.post_pending_transfer)],
      ['ok', 'ok'],
    );
  });

  it('a chain left open at the end of the batch fails', async () => {
    await expectResults([tr('o1', 'a', 'b', 1n, { flags: F.linked }), tr('o2', 'a', 'b', 1n, { flags: F.linked })], [
      'linked_event_failed',
      'linked_event_chain_open',
    ]);
  });

  it('an identical retry of a whole chain answers exists throughout', async () => {
    const chain = [tr('c1', 'a', 'b', 10n, { flags: F.linked }), tr('c2', 'a', 'b', 20n)];
    await expectResults(chain, ['ok', 'ok']);
    await expectResults(chain, ['exists', 'exists']);
    expect(await balances('a')).toMatchObject({ dpo: 30n });
  });
});

describe('balancing and closing', () => {
  it('a balancing debit moves whatever is available, up to the amount', async () => {
    await expectResults([tr('h', 'a', 'b', 100n, { flags: F.pending })], ['ok']);
    const [o] = await expectResults([tr('sweep', 'a', 'world', 5000n, { flags: F.balancing_debit })], ['ok']);
    expect(o?.transfer?.amount).toBe(900n);
    await expectResults([tr('sweep', 'a', 'world', 5000n, { flags: F.balancing_debit })], ['exists']);
    await expectResults([tr('sweep2', 'a', 'world', 10n, { flags: F.balancing_debit })], ['exceeds_credits']);
  });

  it('a balancing debit caps at the amount asked for', async () => {
    const [o] = await expectResults([tr('sweep', 'a', 'world', 10n, { flags: F.balancing_debit })], ['ok']);
    expect(o?.transfer?.amount).toBe(10n);
  });

  it('a closed account refuses debits and credits; voiding the closing transfer reopens it', async () => {
    await expectResults([tr('close', 'a', 'world', 0n, { flags: F.pending | F.closing_debit })], ['ok']);
    expect(await balances('a')).toMatchObject({ closed: true });
    await expectResults([tr('x', 'a', 'b', 1n), tr('y', 'b', 'a', 1n)], ['debit_account_already_closed', 'credit_account_already_closed']);
    await expectResults([resolve('reopen', 'close', F.void_pending_transfer)], ['ok']);
    await expectResults([tr('z', 'a', 'b', 1n)], ['ok']);
  });
});

describe('the database itself refuses', () => {
  it.each([
    ['updating the journal', (p: string) => sql`update ledger_transfers set amount = amount + 1 where id = ${`${p}.seed`}`],
    ['deleting from the journal', (p: string) => sql`delete from ledger_transfers where id = ${`${p}.seed`}`],
    ['editing counters directly', (p: string) => sql`update ledger_accounts set credits_posted = credits_posted + 1 where id = ${`${p}.a`}`],
    ['an account born with a balance', (p: string) => sql`insert into ledger_accounts (id, currency, code, credits_posted, created_at)
      values (${`${p}.rich`}, 'USD', 1, 5, now())`],
    ['deleting an account', (p: string) => sql`delete from ledger_accounts where id = ${`${p}.eur`}`],
    ['forging a hold state', (p: string) => sql`insert into ledger_pending (id, debit_account_id, credit_account_id, amount, status)
      values (${`${p}.seed`}, ${`${p}.world`}, ${`${p}.a`}, 1000, 'voided')`],
    ['a journal row that overdraws a limited account', (p: string) => sql`insert into ledger_transfers
      (id, debit_account_id, credit_account_id, amount, currency, code, flags, "timestamp")
      values (${`${p}.raw`}, ${`${p}.a`}, ${`${p}.b`}, 1001, 'USD', 1, 0, now())`],
    ['a journal row in a currency its accounts do not hold', (p: string) => sql`insert into ledger_transfers
      (id, debit_account_id, credit_account_id, amount, currency, code, flags, "timestamp")
      values (${`${p}.raw`}, ${`${p}.world`}, ${`${p}.b`}, 1, 'EUR', 1, 0, now())`],
    ['a journal row resolving a transfer that is not a hold', (p: string) => sql`insert into ledger_transfers
      (id, debit_account_id, credit_account_id, amount, pending_id, currency, code, flags, "timestamp")
      values (${`${p}.raw`}, ${`${p}.world`}, ${`${p}.a`}, 1000, ${`${p}.seed`}, 'USD', 1, 8, now())`],
    ['a journal row with no amount', (p: string) => sql`insert into ledger_transfers
      (id, debit_account_id, credit_account_id, amount, currency, code, flags, "timestamp")
      values (${`${p}.raw`}, ${`${p}.world`}, ${`${p}.b`}, 0, 'USD', 1, 0, now())`],
  ])('%s', async (_name, statement) => {
    await expect(statement(p).execute(t.db)).rejects.toThrow();
    expect(await balances('a')).toMatchObject({ cpo: 1000n, dpo: 0n });
  });

  it('resolving one hold twice in one statement', async () => {
    await expectResults([tr('h', 'a', 'b', 10n, { flags: F.pending })], ['ok']);
    const insert = (id: string) => sql`(${`${p}.${id}`}, ${`${p}.a`}, ${`${p}.b`}, 10, ${`${p}.h`}, 'USD', 1, 8, now())`;
    await expect(
      sql`insert into ledger_transfers (id, debit_account_id, credit_account_id, amount, pending_id, currency, code, flags, "timestamp")
          values ${insert('v1')}, ${insert('v2')}`.execute(t.db),
    ).rejects.toThrow();
  });
});

describe('ledger check', () => {
  it('is clean after all of the above', async () => {
    const report = await checkLedger(t.db);
    expect(report.mismatches).toBe(0);
    expect(report.transfers).toBeGreaterThan(50);
    const usd = report.currencies.USD;
    expect(usd?.debits_posted).toBe(usd?.credits_posted);
  });

  it('finds counters edited behind the triggers', async () => {
    // Only a superuser can switch triggers off; this is what the check exists to catch.
    await t.db.transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      await sql`update ledger_accounts set credits_posted = credits_posted + 1 where id = ${`${p}.b`}`.execute(trx);
    });
    const report = await checkLedger(t.db);
    expect(report.counter_mismatches).toBe(1);
    expect(report.unbalanced_currencies).toBe(1);
    expect(report.problems.join('\n')).toContain(`${p}.b`);
    await t.db.transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      await sql`update ledger_accounts set credits_posted = credits_posted - 1 where id = ${`${p}.b`}`.execute(trx);
    });
    expect((await checkLedger(t.db)).mismatches).toBe(0);
  });
});

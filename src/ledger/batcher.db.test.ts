import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { AccountFlags, createAccounts, createTransfers, LedgerBatcher, lookupAccounts, type TransferRequest, TransferFlags as F } from './index.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase();
  await createAccounts(t.db, [
    { id: 'world', currency: 'EUR', code: 1 },
    { id: 'src', currency: 'EUR', code: 2, flags: AccountFlags.debits_must_not_exceed_credits },
    { id: 'dst', currency: 'EUR', code: 2 },
  ]);
  await createTransfers(t.db, [{ id: 'fund', debit_account_id: 'world', credit_account_id: 'src', amount: 1000n, currency: 'EUR', code: 1 }]);
});
afterAll(async () => {
  await t?.close();
});

const move = (id: string, amount: bigint, flags = 0): TransferRequest => ({
  id,
  debit_account_id: 'src',
  credit_account_id: 'dst',
  amount,
  currency: 'EUR',
  code: 1,
  flags,
});

describe('LedgerBatcher', () => {
  it('groups concurrent submissions into fewer batches, each caller getting its own outcomes', async () => {
    const batcher = new LedgerBatcher(t.db, { maxInFlight: 1 });
    const outcomes = await Promise.all(Array.from({ length: 60 }, (_, i) => batcher.submit([move(`g${i}`, 1n)])));
    expect(outcomes.map((o) => o.map((x) => [x.id, x.result]))).toEqual(Array.from({ length: 60 }, (_, i) => [[`g${i}`, 'ok']]));
    expect(batcher.batches).toBeLessThan(60);
    expect(batcher.batches).toBeGreaterThanOrEqual(2);
    const [src] = await lookupAccounts(t.db, ['src']);
    expect(src?.debits_posted).toBe(60n);
  });

  it('keeps submissions independent: a failing one does not fail its neighbours', async () => {
    const batcher = new LedgerBatcher(t.db);
    const [a, b, c] = await Promise.all([
      batcher.submit([move('i1', 1n)]),
      batcher.submit([move('i2', 1n, F.linked), move('i3', 100_000n)]),
      batcher.submit([move('i4', 1n)]),
    ]);
    expect(a?.map((o) => o.result)).toEqual(['ok']);
    expect(b?.map((o) => o.result)).toEqual(['linked_event_failed', 'exceeds_credits']);
    expect(c?.map((o) => o.result)).toEqual(['ok']);
  });

  it('sends a submission left open alone, so it cannot chain into another caller', async () => {
    const batcher = new LedgerBatcher(t.db);
    const [open, next] = await Promise.all([batcher.submit([move('o1', 1n, F.linked)]), batcher.submit([move('o2', 1n)])]);
    expect(open?.map((o) => o.result)).toEqual(['linked_event_chain_open']);
    expect(next?.map((o) => o.result)).toEqual(['ok']);
  });

  it('one effect for one id submitted twice at once', async () => {
    const batcher = new LedgerBatcher(t.db);
    const results = await Promise.all([batcher.submit([move('same', 3n)]), batcher.submit([move('same', 3n)])]);
    expect(results.flat().map((o) => o.result).sort()).toEqual(['exists', 'ok']);
  });
});

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger, lookupHolds, lookupTransfers } from '../ledger/index.js';
import { finishPendingMovements, type PaymentProvider, type ProviderOutcome, testPaymentProvider } from './index.js';
import { createBrand, expectError, type Party } from '../../test/support/conversions.js';
import { type ApiResponse, startTestApi, type TestApi } from '../../test/support/api.js';

/**
 * Withdrawals reserve the money in the ledger before the payment provider is asked, so concurrent
 * withdrawals of the whole balance never both reach the provider, a refusal by the provider gives the
 * money back, and a crash between the steps is finished by a retry or by the recovery. On both engines.
 */
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});

afterAll(async () => {
  await api?.close();
});

/** A provider with idempotency keys (the same reference answers its first outcome and pays once) that can be told to misbehave. */
class RecordingProvider implements PaymentProvider {
  readonly name = 'recording';
  /** References actually paid out, once each. */
  readonly paid: string[] = [];
  calls = 0;
  refusing = false;
  /** Throws before paying (the provider could not be reached). */
  unreachable = false;
  /** Pays, then throws (the answer is lost on the way back). */
  loseAnswer = false;
  /** When set, every refund waits for it (with `onCall` told first). */
  gate: Promise<void> | undefined;
  onCall: (() => void) | undefined;
  readonly #answers = new Map<string, ProviderOutcome>();

  charge(p: Parameters<PaymentProvider['charge']>[0]) {
    return testPaymentProvider.charge(p);
  }

  async refund({ reference }: { reference: string }): Promise<ProviderOutcome> {
    this.calls++;
    this.onCall?.();
    if (this.gate) await this.gate;
    const known = this.#answers.get(reference);
    if (known) return known;
    if (this.unreachable) throw new Error('payment provider unreachable');
    const outcome: ProviderOutcome = this.refusing
      ? { status: 'failed', provider_reference: `rec_${reference}`, failure: 'the bank account is closed' }
      : { status: 'succeeded', provider_reference: `rec_${reference}` };
    this.#answers.set(reference, outcome);
    if (outcome.status === 'succeeded') this.paid.push(reference);
    if (this.loseAnswer) throw new Error('connection reset after the payment');
    return outcome;
  }
}

async function withProvider<T>(provider: PaymentProvider, work: () => Promise<T>): Promise<T> {
  const original = api.services.payments;
  Object.assign(api.services, { payments: provider });
  try {
    return await work();
  } finally {
    Object.assign(api.services, { payments: original });
  }
}

async function brandWith(name: string, amount: string): Promise<Party> {
  const brand = await createBrand(api, name);
  const r = await api.call('POST', '/v1/deposits', { key: brand.key, body: { amount, currency: 'USD', reference: 'float' } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return brand;
}

const withdraw = (brand: Party, amount: string, reference: string): Promise<ApiResponse> =>
  api.call('POST', '/v1/withdrawals', { key: brand.key, body: { amount, currency: 'USD', reference } });

async function wallet(brand: Party): Promise<{ balance: string; held: string }> {
  const r = await api.call('GET', '/v1/wallet', { key: brand.key });
  expect(r.status).toBe(200);
  return { balance: r.body.data[0].balance.amount, held: r.body.data[0].held.amount };
}

async function movements(brand: Party): Promise<Array<{ id: string; reference: string; kind: string; status: string; failure_code: string | null }>> {
  const r = await api.call('GET', '/v1/wallet/movements?limit=100', { key: brand.key });
  expect(r.status).toBe(200);
  return r.body.data.filter((m: { kind: string }) => m.kind === 'withdrawal');
}

async function expectLedgerClean(): Promise<void> {
  const check = await checkLedger(api.database.db);
  expect(check.problems).toEqual([]);
  expect(check.mismatches).toBe(0);
}

describe('concurrent withdrawals of the whole balance', () => {
  it('exactly one is paid; the others are refused insufficient_funds before the provider, listed failed', async () => {
    const N = 8;
    const brand = await brandWith('Racing shop', '100.00');
    const provider = new RecordingProvider();
    // The provider holds its first caller until every other request has been answered: if a second
    // request reached it, it opens at once (and the count below fails). No timing involved.
    let open: () => void = () => {};
    provider.gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    provider.onCall = () => {
      if (provider.calls > 1) open();
    };
    const answers = await withProvider(provider, async () => {
      let answered = 0;
      const requests = Array.from({ length: N }, (_, i) =>
        withdraw(brand, '100.00', `all-${i}`).then((r) => {
          if (++answered === N - 1) open();
          return r;
        }),
      );
      return Promise.all(requests);
    });

    expect(provider.calls).toBe(1);
    expect(provider.paid).toHaveLength(1);
    const won = answers.filter((r) => r.status === 201);
    expect(won).toHaveLength(1);
    expect(won[0]?.body).toMatchObject({ status: 'succeeded', provider: 'recording', amount: '100.00' });
    expect(provider.paid).toEqual([won[0]?.body.id]);
    for (const r of answers.filter((a) => a.status !== 201)) expectError(r, 409, 'insufficient_funds');

    const listed = await movements(brand);
    expect(listed).toHaveLength(N);
    expect(listed.filter((m) => m.status === 'succeeded').map((m) => m.id)).toEqual([won[0]?.body.id]);
    expect(listed.filter((m) => m.status === 'failed' && m.failure_code === 'insufficient_funds')).toHaveLength(N - 1);
    expect(await wallet(brand)).toEqual({ balance: '0.00', held: '0.00' });
    // The winner's journal: the reservation under the movement id, then its post.
    const journal = await lookupTransfers(api.database.db, [won[0]?.body.id, `${won[0]?.body.id}.post`]);
    expect(journal.map((t) => [t.code, t.amount])).toEqual([
      [102, 10000n],
      [102, 10000n],
    ]);
    await expectLedgerClean();
  });

  it('withdrawals that fit together all go through, the one that does not is refused', async () => {
    const brand = await brandWith('Sharing shop', '100.00');
    const provider = new RecordingProvider();
    const answers = await withProvider(provider, () =>
      Promise.all([withdraw(brand, '40.00', 'a'), withdraw(brand, '40.00', 'b'), withdraw(brand, '40.00', 'c')]),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([201, 201, 409]);
    expect(provider.paid).toHaveLength(2);
    expect(await wallet(brand)).toEqual({ balance: '20.00', held: '0.00' });
    await expectLedgerClean();
  });
});

describe('the provider refuses', () => {
  it('voids the reservation: the balance is back, the movement failed provider_refused, its reference refused again', async () => {
    const brand = await brandWith('Closed account shop', '100.00');
    const provider = new RecordingProvider();
    provider.refusing = true;
    const refused = await withProvider(provider, () => withdraw(brand, '60.00', 'w1'));
    expectError(refused, 409, 'conflict');
    expect(refused.body.error.message).toMatch(/the bank account is closed/);
    expect(await wallet(brand)).toEqual({ balance: '100.00', held: '0.00' });
    const [m] = await movements(brand);
    expect(m).toMatchObject({ reference: 'w1', status: 'failed', failure_code: 'provider_refused', failure: 'the bank account is closed', provider: 'recording' });
    const [hold] = await lookupHolds(api.database.db, [m!.id]);
    expect(hold?.status).toBe('voided');

    // Final: the same reference answers the same refusal without asking the provider again.
    provider.refusing = false;
    const calls = provider.calls;
    expectError(await withProvider(provider, () => withdraw(brand, '60.00', 'w1')), 409, 'conflict');
    expect(provider.calls).toBe(calls);
    // The money is there for a new withdrawal.
    const fresh = await withProvider(provider, () => withdraw(brand, '100.00', 'w2'));
    expect(fresh.status, JSON.stringify(fresh.body)).toBe(201);
    expect(await wallet(brand)).toEqual({ balance: '0.00', held: '0.00' });
    await expectLedgerClean();
  });
});

describe('a crash between the steps', () => {
  it('provider unreachable: the money stays reserved (held, not withdrawable twice) until the recovery pays it once', async () => {
    const brand = await brandWith('Unreachable shop', '100.00');
    const provider = new RecordingProvider();
    provider.unreachable = true;
    const failed = await withProvider(provider, () => withdraw(brand, '100.00', 'w1'));
    expect(failed.status).toBe(500);
    expect(await wallet(brand)).toEqual({ balance: '100.00', held: '100.00' });
    const [m] = await movements(brand);
    expect(m).toMatchObject({ reference: 'w1', status: 'pending' });
    expectError(await withProvider(provider, () => withdraw(brand, '1.00', 'w2')), 409, 'insufficient_funds');

    provider.unreachable = false;
    const before = await finishPendingMovements(api.database.db, provider, { olderThanSeconds: 3600 });
    expect((await movements(brand)).find((x) => x.id === m!.id)?.status).toBe('pending');
    expect(before.found).toBe(0);
    const report = await finishPendingMovements(api.database.db, provider, { olderThanSeconds: 0 });
    expect(report).toMatchObject({ found: 1, finished: 1, errors: [] });
    expect(provider.paid).toEqual([m!.id]);
    expect((await movements(brand)).find((x) => x.id === m!.id)).toMatchObject({ status: 'succeeded', provider_reference: `rec_${m!.id}` });
    expect(await wallet(brand)).toEqual({ balance: '0.00', held: '0.00' });
    // Nothing left for another run; a retry of the reference answers the succeeded withdrawal.
    expect((await finishPendingMovements(api.database.db, provider, { olderThanSeconds: 0 })).found).toBe(0);
    const again = await withProvider(provider, () => withdraw(brand, '100.00', 'w1'));
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(provider.paid).toHaveLength(1);
    await expectLedgerClean();
  });

  it('answer lost after the payment: a retry of the reference asks again, is told it was paid, and pays nothing twice', async () => {
    const brand = await brandWith('Lost answer shop', '100.00');
    const provider = new RecordingProvider();
    provider.loseAnswer = true;
    expect((await withProvider(provider, () => withdraw(brand, '70.00', 'w1'))).status).toBe(500);
    expect(await wallet(brand)).toEqual({ balance: '100.00', held: '70.00' });
    provider.loseAnswer = false;
    const retried = await withProvider(provider, () => withdraw(brand, '70.00', 'w1'));
    expect(retried.status, JSON.stringify(retried.body)).toBe(201);
    expect(retried.body).toMatchObject({ status: 'succeeded', reference: 'w1' });
    expect(provider.paid).toEqual([retried.body.id]);
    expect(await wallet(brand)).toEqual({ balance: '30.00', held: '0.00' });
    await expectLedgerClean();
  });

  it('a movement left before its reservation is reserved (or refused) by the recovery as a retry would', async () => {
    const brand = await brandWith('Early crash shop', '50.00');
    const provider = new RecordingProvider();
    // As a crash right after the movement was recorded leaves it: pending, nothing in the ledger.
    await sql`insert into money_movements (id, org_id, kind, reference, amount, currency, status)
      values ('wd_crashed_fits', ${brand.id}, 'withdrawal', 'c1', 2000, 'USD', 'pending'),
             ('wd_crashed_big', ${brand.id}, 'withdrawal', 'c2', 9000, 'USD', 'pending')`.execute(api.database.db);
    const report = await finishPendingMovements(api.database.db, provider, { olderThanSeconds: 0 });
    expect(report).toMatchObject({ found: 2, finished: 2, errors: [] });
    const byRef = new Map((await movements(brand)).map((m) => [m.reference, m]));
    expect(byRef.get('c1')).toMatchObject({ status: 'succeeded' });
    expect(byRef.get('c2')).toMatchObject({ status: 'failed', failure_code: 'insufficient_funds' });
    expect(provider.paid).toEqual(['wd_crashed_fits']);
    expect(await wallet(brand)).toEqual({ balance: '30.00', held: '0.00' });
    await expectLedgerClean();
  });
});

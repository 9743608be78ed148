/**
 * The ledger under concurrent load: many clients resolving the same holds, overdrawing one hot
 * account, replaying one transfer id, and racing the expiry sweeper.
 *
 * Run it against the real server (TEST_DATABASE_URL=postgres://…): there the workers really run in
 * parallel, one pool connection each. On PGlite (the default) every transaction is serialised by the
 * dialect's mutex, so the races cannot happen, but every assertion must hold all the same.
 *
 * The plans are random: the seed is in the suite's name; LEDGER_CONCURRENCY_SEED=<n> replays one.
 */
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceClock } from '../db/index.js';
import {
  type Account,
  AccountFlags,
  AccountId,
  accountTransfers,
  checkLedger,
  createAccounts,
  createTransfers,
  deposit,
  expireDueHolds,
  fundEscrow,
  hold,
  holdLegIds,
  lookupAccounts,
  lookupHolds,
  lookupTransfers,
  openBrandWallet,
  openCreatorAccounts,
  openEscrow,
  postHold,
  type Transfer,
  TransferFlags as F,
  type TransferOutcome,
  type TransferRequest,
  type TransferResult,
  voidHold,
} from './index.js';
import { Money, splitFee } from '../money/index.js';
import { openTestDatabase, type TestDatabase } from '../../test/support/database.js';

const SEED = Number(process.env.LEDGER_CONCURRENCY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const POOL_SIZE = 24;
const USD = 'USD';
const CODE = 1;
const LIMITED = AccountFlags.debits_must_not_exceed_credits;

// ---------------------------------------------------------------------------------------------------
// Helpers

type Rng = () => number;

/** mulberry32: small, fast, seedable. */
function rngFor(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function int(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

function shuffle<T>(rng: Rng, xs: readonly T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

/** Splits a plan into createTransfers calls of 1..maxSize requests. */
function chunks<T>(rng: Rng, xs: readonly T[], maxSize: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; ) {
    const n = int(rng, 1, maxSize);
    out.push(xs.slice(i, i + n));
    i += n;
  }
  return out;
}

function sum(xs: readonly bigint[]): bigint {
  return xs.reduce((s, x) => s + x, 0n);
}

function countBy<T>(xs: readonly T[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[String(x)] = (out[String(x)] ?? 0) + 1;
  return out;
}

async function openAccounts(db: Kysely<any>, specs: { id: string; flags?: number }[]): Promise<void> {
  const outcomes = await createAccounts(
    db,
    specs.map((s) => ({ id: s.id, currency: USD, code: CODE, flags: s.flags ?? 0 })),
  );
  expect(outcomes.map((o) => o.result)).toEqual(specs.map(() => 'ok'));
}

async function accountsById(db: Kysely<any>, ids: string[]): Promise<Map<string, Account>> {
  const accounts = await lookupAccounts(db, ids);
  expect(accounts.map((a) => a.id).sort()).toEqual([...ids].sort());
  return new Map(accounts.map((a) => [a.id, a]));
}

function get(accounts: Map<string, Account>, id: string): Account {
  const a = accounts.get(id);
  if (!a) throw new Error(`account ${id} not found`);
  return a;
}

/** Setup transfers must all succeed. */
async function mustCreate(db: Kysely<any>, requests: TransferRequest[]): Promise<TransferOutcome[]> {
  const outcomes: TransferOutcome[] = [];
  for (let i = 0; i < requests.length; i += 1000) {
    outcomes.push(...(await createTransfers(db, requests.slice(i, i + 1000))));
  }
  const bad = outcomes.filter((o) => o.result !== 'ok');
  expect(bad).toEqual([]);
  return outcomes;
}

/** Every journal row touching an account, oldest first (the repository pages by seq). */
async function journalOf(db: Kysely<any>, accountId: string): Promise<Transfer[]> {
  const rows: Transfer[] = [];
  let after = 0n;
  for (;;) {
    const page = await accountTransfers(db, accountId, after, 1000);
    rows.push(...page);
    const last = page[page.length - 1];
    if (page.length < 1000 || !last?.seq) return rows;
    after = last.seq;
  }
}

async function expectCleanLedger(db: Kysely<any>): Promise<void> {
  const report = await checkLedger(db);
  expect(report.problems).toEqual([]);
  expect(report.mismatches).toBe(0);
  expect(report.holds_resolved_twice).toBe(0);
  expect(report.accounts_over_limit).toBe(0);
}

/** TigerBeetle's order: the first field in which a retry differs from the stored transfer names the result. */
const COMPARED_FIELDS = [
  'flags',
  'pending_id',
  'timeout',
  'debit_account_id',
  'credit_account_id',
  'amount',
  'user_data',
  'currency',
  'code',
] as const;

function retryResult(stored: TransferRequest, retry: TransferRequest): TransferResult {
  const normal = (r: TransferRequest) => ({ ...r, flags: r.flags ?? 0, timeout: r.timeout ?? 0, user_data: r.user_data ?? null });
  const a = normal(stored);
  const b = normal(retry);
  for (const field of COMPARED_FIELDS) {
    if (a[field] !== b[field]) return `exists_with_different_${field}` as TransferResult;
  }
  return 'exists';
}

const RESOLVED_RESULT = {
  posted: 'pending_transfer_already_posted',
  voided: 'pending_transfer_already_voided',
  expired: 'pending_transfer_expired',
} as const satisfies Record<string, TransferResult>;

// ---------------------------------------------------------------------------------------------------

describe(`ledger under concurrency (seed ${SEED})`, () => {
  // a) 16 workers resolve the same 200 holds in shuffled orders while overdrawing one hot account.
  describe('a) racing resolutions and an overdrawn hot account', () => {
    const WORKERS = 16;
    const HOLDS = 200;
    const DEBITS_PER_WORKER = 25;
    const CREDITS_PER_WORKER = 5;
    const FUNDING = 1_000_000n;
    const ESCROWS = 4;
    const HOT = 'a.hot';
    const SINK = 'a.sink';
    const WORLD = 'a.world';
    const esc = (k: number) => `a.esc.${k}`;
    const pay = (k: number) => `a.pay.${k}`;

    let t: TestDatabase;
    beforeAll(async () => {
      t = await openTestDatabase({ poolSize: POOL_SIZE });
    });
    afterAll(async () => {
      await t?.close();
    });

    interface Hold {
      id: string;
      amount: bigint;
      debit: string;
      credit: string;
    }
    type Op =
      | { kind: 'post' | 'void'; hold: number; request: TransferRequest }
      | { kind: 'debit' | 'credit'; request: TransferRequest };
    interface Tally {
      /** hold index → the worker's result for it */
      resolutions: Map<number, { kind: 'post' | 'void'; id: string; amount: bigint | undefined; result: TransferResult }>;
      debits: { id: string; amount: bigint; result: TransferResult }[];
      credits: { id: string; amount: bigint; result: TransferResult }[];
    }

    it('resolves every hold exactly once, never overdraws, and the tallies match the balances', async () => {
      const { db } = t;
      const rng = rngFor(SEED);
      await openAccounts(db, [
        { id: WORLD },
        { id: HOT, flags: LIMITED },
        { id: SINK },
        ...Array.from({ length: ESCROWS }, (_, k) => [{ id: esc(k), flags: LIMITED }, { id: pay(k) }]).flat(),
      ]);
      // Fund the hot account and the escrows.
      await mustCreate(db, [
        { id: 'a.fund.hot', debit_account_id: WORLD, credit_account_id: HOT, amount: FUNDING, currency: USD, code: CODE },
        ...Array.from({ length: ESCROWS }, (_, k) => ({
          id: `a.fund.esc.${k}`,
          debit_account_id: WORLD,
          credit_account_id: esc(k),
          amount: FUNDING,
          currency: USD,
          code: CODE,
        })),
      ]);
      // Half the holds reserve on the hot account, half on the escrows.
      const holds: Hold[] = Array.from({ length: HOLDS }, (_, i) => ({
        id: `a.hold.${i}`,
        amount: BigInt(int(rng, 1, 2000)),
        debit: i % 2 === 0 ? HOT : esc(i % ESCROWS),
        credit: i % 2 === 0 ? SINK : pay(i % ESCROWS),
      }));
      await mustCreate(
        db,
        holds.map((h) => ({
          id: h.id,
          debit_account_id: h.debit,
          credit_account_id: h.credit,
          amount: h.amount,
          currency: USD,
          code: CODE,
          flags: F.pending,
        })),
      );
      const heldOnHot = sum(holds.filter((h) => h.debit === HOT).map((h) => h.amount));

      // Each worker's plan: one resolution of every hold and its plain transfers, shuffled, in small batches.
      const plans = Array.from({ length: WORKERS }, (_, w) => {
        const ops: Op[] = holds.map((h, i) => {
          const choice = rng();
          const id = `a.w${w}.r${i}`;
          if (choice < 0.4) return { kind: 'void', hold: i, request: { id, pending_id: h.id, flags: F.void_pending_transfer } };
          // A full post, with or without an explicit amount, or a partial one.
          const amount = choice < 0.6 ? undefined : choice < 0.8 ? h.amount : BigInt(int(rng, 1, Number(h.amount)));
          const request: TransferRequest = { id, pending_id: h.id, flags: F.post_pending_transfer };
          if (amount !== undefined) request.amount = amount;
          return { kind: 'post', hold: i, request };
        });
        for (let j = 0; j < DEBITS_PER_WORKER; j++) {
          const amount = BigInt(int(rng, 1000, 6000));
          ops.push({ kind: 'debit', request: { id: `a.w${w}.d${j}`, debit_account_id: HOT, credit_account_id: SINK, amount, currency: USD, code: CODE } });
        }
        for (let j = 0; j < CREDITS_PER_WORKER; j++) {
          const amount = BigInt(int(rng, 1000, 3000));
          ops.push({ kind: 'credit', request: { id: `a.w${w}.c${j}`, debit_account_id: WORLD, credit_account_id: HOT, amount, currency: USD, code: CODE } });
        }
        return chunks(rng, shuffle(rng, ops), 3);
      });
      // The workers try to debit more than the hot account can ever hold.
      const attemptedDebits = sum(plans.flat(2).flatMap((op) => (op.kind === 'debit' ? [op.request.amount as bigint] : [])));
      const attemptedCredits = sum(plans.flat(2).flatMap((op) => (op.kind === 'credit' ? [op.request.amount as bigint] : [])));
      expect(attemptedDebits).toBeGreaterThan(FUNDING + attemptedCredits);

      const tallies = await Promise.all(
        plans.map(async (batches) => {
          const tally: Tally = { resolutions: new Map(), debits: [], credits: [] };
          for (const batch of batches) {
            const outcomes = await createTransfers(db, batch.map((op) => op.request));
            expect(outcomes.map((o) => o.id)).toEqual(batch.map((op) => op.request.id));
            batch.forEach((op, k) => {
              const result = (outcomes[k] as TransferOutcome).result;
              if (op.kind === 'post' || op.kind === 'void') {
                tally.resolutions.set(op.hold, { kind: op.kind, id: op.request.id, amount: op.request.amount, result });
              } else {
                tally[op.kind === 'debit' ? 'debits' : 'credits'].push({ id: op.request.id, amount: op.request.amount as bigint, result });
              }
            });
          }
          return tally;
        }),
      );

      // Every hold: exactly one `ok` across the workers, every other worker told which way it went.
      const postedOn = new Map<string, bigint>(); // debit account → sum posted by the winners
      const holdStates = new Map((await lookupHolds(db, holds.map((h) => h.id))).map((s) => [s.id, s]));
      holds.forEach((h, i) => {
        const results = tallies.map((tally) => tally.resolutions.get(i));
        expect(results.every((r) => r !== undefined)).toBe(true);
        const winners = results.filter((r) => r?.result === 'ok');
        expect(winners, `hold ${h.id}: ${JSON.stringify(countBy(results.map((r) => r?.result)))}`).toHaveLength(1);
        const winner = winners[0] as NonNullable<(typeof results)[number]>;
        const status = winner.kind === 'post' ? 'posted' : 'voided';
        const losers = results.filter((r) => r !== winner).map((r) => r?.result);
        expect(countBy(losers)).toEqual({ [RESOLVED_RESULT[status]]: WORKERS - 1 });
        const state = holdStates.get(h.id);
        expect(state?.status).toBe(status);
        expect(state?.resolved_by).toBe(winner.id);
        if (winner.kind === 'post') postedOn.set(h.debit, (postedOn.get(h.debit) ?? 0n) + (winner.amount ?? h.amount));
      });

      // Plain transfers: debits are either ok or refused for lack of funds; top-ups always pass.
      const debits = tallies.flatMap((tally) => tally.debits);
      const credits = tallies.flatMap((tally) => tally.credits);
      expect(new Set(debits.map((d) => d.result))).toEqual(new Set(['ok', 'exceeds_credits']));
      expect(new Set(credits.map((c) => c.result))).toEqual(new Set(['ok']));
      const debitedOk = sum(debits.filter((d) => d.result === 'ok').map((d) => d.amount));
      const creditedOk = sum(credits.map((c) => c.amount));
      const postedFromHot = postedOn.get(HOT) ?? 0n;

      // The balances agree with the tallies to the unit, and the hot account was never overdrawn.
      const accounts = await accountsById(db, [HOT, SINK, WORLD, ...Array.from({ length: ESCROWS }, (_, k) => [esc(k), pay(k)]).flat()]);
      const hot = get(accounts, HOT);
      expect(hot.credits_posted).toBe(FUNDING + creditedOk);
      expect(hot.debits_posted).toBe(debitedOk + postedFromHot);
      expect(hot.debits_pending).toBe(0n);
      expect(hot.credits_pending).toBe(0n);
      expect(hot.debits_posted + hot.debits_pending).toBeLessThanOrEqual(hot.credits_posted);
      const sink = get(accounts, SINK);
      expect(sink.credits_posted).toBe(debitedOk + postedFromHot);
      expect(sink.credits_pending).toBe(0n);
      expect(get(accounts, WORLD).debits_posted).toBe(FUNDING * BigInt(ESCROWS + 1) + creditedOk);
      for (let k = 0; k < ESCROWS; k++) {
        expect(get(accounts, esc(k)).debits_posted).toBe(postedOn.get(esc(k)) ?? 0n);
        expect(get(accounts, esc(k)).debits_pending).toBe(0n);
        expect(get(accounts, pay(k)).credits_posted).toBe(postedOn.get(esc(k)) ?? 0n);
        expect(get(accounts, pay(k)).credits_pending).toBe(0n);
      }

      // The hot account's journal holds exactly the transfers reported ok, and replayed in commit order
      // (seq: every writer holds the account's row lock until it commits) it never goes over its limit.
      const journal = await journalOf(db, HOT);
      const okIds = new Set([
        ...debits.filter((d) => d.result === 'ok').map((d) => d.id),
        ...credits.map((c) => c.id),
        ...tallies.flatMap((tally) =>
          [...tally.resolutions.entries()].flatMap(([i, r]) => (r.result === 'ok' && i % 2 === 0 ? [r.id] : [])),
        ),
      ]);
      const workerRows = journal.filter((row) => row.id.startsWith('a.w'));
      expect(new Set(workerRows.map((row) => row.id))).toEqual(okIds);
      expect(workerRows).toHaveLength(okIds.size);
      const replay = { dp: 0n, dpo: 0n, cpo: 0n };
      const held = new Map(holds.map((h) => [h.id, h.amount]));
      let lastSeq = 0n;
      for (const row of journal) {
        expect(row.seq ?? 0n).toBeGreaterThan(lastSeq);
        lastSeq = row.seq ?? 0n;
        if (row.credit_account_id === HOT) replay.cpo += row.amount;
        else if (row.flags & F.pending) replay.dp += row.amount;
        else if (row.pending_id) {
          replay.dp -= held.get(row.pending_id) ?? 0n;
          if (row.flags & F.post_pending_transfer) replay.dpo += row.amount;
        } else replay.dpo += row.amount;
        expect(replay.dp + replay.dpo, `after ${row.id}`).toBeLessThanOrEqual(replay.cpo);
      }
      expect(replay).toEqual({ dp: 0n, dpo: hot.debits_posted, cpo: hot.credits_posted });
      expect(heldOnHot).toBeGreaterThan(0n);

      // A refused id stays refused; an accepted one answers `exists`.
      const refused = debits.find((d) => d.result === 'exceeds_credits');
      const accepted = debits.find((d) => d.result === 'ok');
      const again = await createTransfers(db, [
        { id: (refused as { id: string }).id, debit_account_id: HOT, credit_account_id: SINK, amount: (refused as { amount: bigint }).amount, currency: USD, code: CODE },
        { id: (accepted as { id: string }).id, debit_account_id: HOT, credit_account_id: SINK, amount: (accepted as { amount: bigint }).amount, currency: USD, code: CODE },
      ]);
      expect(again.map((o) => o.result)).toEqual(['id_already_failed', 'exists']);

      await expectCleanLedger(db);
    });
  });

  // b) 50 concurrent submissions of one transfer id: one effect, every other one told how it differs.
  describe('b) one transfer id submitted 50 times at once', () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await openTestDatabase({ poolSize: POOL_SIZE });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('has exactly one effect per id, whichever variant wins', async () => {
      const { db } = t;
      const rng = rngFor(SEED ^ 0xb);
      await openAccounts(db, [{ id: 'b.a' }, { id: 'b.b' }, { id: 'b.c' }, { id: 'b.d', flags: LIMITED }, { id: 'b.world' }]);
      await mustCreate(db, [{ id: 'b.fund', debit_account_id: 'b.world', credit_account_id: 'b.d', amount: 1_000_000n, currency: USD, code: CODE }]);
      const ROUNDS = 4;
      const winners: TransferRequest[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const id = `b.dup.${round}`;
        // Round 3 debits the limited account, so the altered debit account is a different kind of account.
        const base: TransferRequest = {
          id,
          debit_account_id: round === 3 ? 'b.d' : 'b.a',
          credit_account_id: 'b.b',
          amount: BigInt(100 + round),
          currency: USD,
          code: CODE,
        };
        const variants: TransferRequest[] = [
          ...Array.from({ length: 25 }, () => ({ ...base })),
          ...Array.from({ length: 13 }, () => ({ ...base, amount: (base.amount as bigint) + 1n })),
          ...Array.from({ length: 12 }, (_, k) =>
            k % 2 === 0 ? { ...base, debit_account_id: 'b.c' } : { ...base, credit_account_id: 'b.c' },
          ),
        ];
        // Round 0 puts an altered request first, so on PGlite (FIFO) an altered one wins at least once.
        const order = round === 0 ? [variants[30] as TransferRequest, ...shuffle(rng, variants.filter((_, i) => i !== 30))] : shuffle(rng, variants);
        const outcomes = await Promise.all(order.map((r) => createTransfers(db, [r]).then((o) => o[0] as TransferOutcome)));
        const okAt = outcomes.flatMap((o, i) => (o.result === 'ok' ? [i] : []));
        expect(okAt, JSON.stringify(countBy(outcomes.map((o) => o.result)))).toHaveLength(1);
        const winner = order[okAt[0] as number] as TransferRequest;
        winners.push(winner);
        order.forEach((r, i) => {
          if (i === okAt[0]) return;
          expect(outcomes[i]?.result, `${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`).toBe(retryResult(winner, r));
          if (outcomes[i]?.result === 'exists') expect(outcomes[i]?.transfer?.amount).toBe(winner.amount);
        });
        const stored = await lookupTransfers(db, [id]);
        expect(stored).toHaveLength(1);
        expect(stored[0]).toMatchObject({ debit_account_id: winner.debit_account_id, credit_account_id: winner.credit_account_id, amount: winner.amount });
      }
      // PGlite runs the calls in submission order: there the altered request sent first must have won.
      if (t.engine === 'pglite') expect(winners[0]?.amount).toBe(101n);

      // Balances moved once per round, on the winners' accounts.
      const ids = ['b.a', 'b.b', 'b.c', 'b.d'];
      const accounts = await accountsById(db, ids);
      for (const accountId of ids) {
        const debited = sum(winners.filter((w) => w.debit_account_id === accountId).map((w) => w.amount as bigint));
        const credited = sum(winners.filter((w) => w.credit_account_id === accountId).map((w) => w.amount as bigint));
        expect(get(accounts, accountId).debits_posted, accountId).toBe(debited);
        expect(get(accounts, accountId).credits_posted, accountId).toBe(credited + (accountId === 'b.d' ? 1_000_000n : 0n));
      }
      // Every journal row of these accounts, each once (a row is in its debit and its credit account's journal).
      const journalRows = new Map<string, Transfer>();
      for (const accountId of ids) for (const row of await journalOf(db, accountId)) journalRows.set(`${row.seq}`, row);
      const dupRows = [...journalRows.values()].filter((row) => row.id.startsWith('b.dup.'));
      expect(dupRows.map((row) => row.id).sort()).toEqual(winners.map((w) => w.id).sort());
      await expectCleanLedger(db);
    });
  });

  // c) The same through the service: hold(), postHold(), voidHold() with one id have one effect.
  describe('c) the service API under 50 concurrent calls', () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await openTestDatabase({ poolSize: POOL_SIZE });
    });
    afterAll(async () => {
      await t?.close();
    });

    const ORG = 'org1';
    const CAMPAIGN = 'camp1';
    const CREATOR = 'cr1';
    const FEE_BPS = 2000;
    const escrow = AccountId.escrow(CAMPAIGN);
    const payable = AccountId.payable(CREATOR, USD);
    const fees = AccountId.fees(USD);

    async function balances(db: Kysely<any>) {
      const accounts = await accountsById(db, [escrow, payable, fees]);
      return { escrow: get(accounts, escrow), payable: get(accounts, payable), fees: get(accounts, fees) };
    }

    it('hold, post and void with one id each move money once', async () => {
      const { db } = t;
      const rng = rngFor(SEED ^ 0xc);
      await openBrandWallet(db, ORG, USD);
      await openEscrow(db, CAMPAIGN, USD);
      await openCreatorAccounts(db, CREATOR, USD);
      expect(await deposit(db, { id: 'c.dep', orgId: ORG, amount: Money.of(10_000_000n, USD) })).toMatchObject({ ok: true });
      expect(await fundEscrow(db, { id: 'c.fund', orgId: ORG, campaignId: CAMPAIGN, amount: Money.of(1_000_000n, USD) })).toMatchObject({ ok: true });

      // 50 × hold(): 25 identical, 25 with another gross. One wins; its twins answer ok (idempotent).
      const grossA = 10_000n;
      const grossB = 10_005n;
      const holdCalls = shuffle(rng, [...Array.from({ length: 25 }, () => grossA), ...Array.from({ length: 25 }, () => grossB)]);
      const holdResults = await Promise.all(
        holdCalls.map((gross) => hold(db, { id: 'c.h1', campaignId: CAMPAIGN, creatorId: CREATOR, gross: Money.of(gross, USD), feeBps: FEE_BPS })),
      );
      const legs = await lookupTransfers(db, [holdLegIds('c.h1').net, holdLegIds('c.h1').fee]);
      expect(legs).toHaveLength(2);
      const wonGross = sum(legs.map((l) => l.amount));
      expect([grossA, grossB]).toContain(wonGross);
      holdCalls.forEach((gross, i) => {
        if (gross === wonGross) expect(holdResults[i]).toMatchObject({ ok: true });
        else expect(holdResults[i]).toEqual({ ok: false, result: 'exists_with_different_amount' });
      });
      const split = splitFee(wonGross, FEE_BPS);
      let b = await balances(db);
      expect(b.escrow.debits_pending).toBe(wonGross);
      expect(b.payable.credits_pending).toBe(split.net);
      expect(b.fees.credits_pending).toBe(split.fee);

      // 50 concurrent: 25 × postHold (partial) with one id, 25 × voidHold with another id. One side wins.
      const partial = wonGross - 1234n;
      const resolveCalls = shuffle(rng, [...Array.from({ length: 25 }, () => 'post' as const), ...Array.from({ length: 25 }, () => 'void' as const)]);
      const resolveResults = await Promise.all(
        resolveCalls.map((kind) =>
          kind === 'post'
            ? postHold(db, { id: 'c.p1', holdId: 'c.h1', amount: Money.of(partial, USD) })
            : voidHold(db, { id: 'c.v1', holdId: 'c.h1' }),
        ),
      );
      const okKinds = new Set(resolveCalls.filter((_, i) => resolveResults[i]?.ok));
      expect(okKinds.size).toBe(1);
      const won = [...okKinds][0] as 'post' | 'void';
      resolveCalls.forEach((kind, i) => {
        if (kind === won) expect(resolveResults[i]).toMatchObject({ ok: true });
        else expect(resolveResults[i]).toEqual({ ok: false, result: won === 'post' ? RESOLVED_RESULT.posted : RESOLVED_RESULT.voided });
      });
      const states = await lookupHolds(db, [holdLegIds('c.h1').net, holdLegIds('c.h1').fee]);
      expect(states.map((s) => s.status)).toEqual(won === 'post' ? ['posted', 'posted'] : ['voided', 'voided']);
      const resolvedBy = won === 'post' ? 'c.p1' : 'c.v1';
      expect(new Set(states.map((s) => s.resolved_by))).toEqual(new Set([`${resolvedBy}.net`, `${resolvedBy}.fee`]));
      const posted = won === 'post' ? partial : 0n;
      b = await balances(db);
      expect(b.escrow.debits_pending).toBe(0n);
      expect(b.escrow.debits_posted).toBe(posted);
      expect(b.payable.credits_pending + b.fees.credits_pending).toBe(0n);
      expect(b.payable.credits_posted + b.fees.credits_posted).toBe(posted);

      // 50 distinct holds racing for an escrow that can fund exactly 40 of them.
      const available = b.escrow.credits_posted - b.escrow.debits_posted - b.escrow.debits_pending;
      const gross = available / 40n;
      expect(gross).toBeGreaterThan(40n);
      const racing = await Promise.all(
        shuffle(rng, Array.from({ length: 50 }, (_, i) => i)).map(async (i) => ({
          i,
          m: await hold(db, { id: `c.race.${i}`, campaignId: CAMPAIGN, creatorId: CREATOR, gross: Money.of(gross, USD), feeBps: FEE_BPS }),
        })),
      );
      expect(countBy(racing.map((r) => (r.m.ok ? 'ok' : r.m.result)))).toEqual({ ok: 40, exceeds_credits: 10 });
      b = await balances(db);
      expect(b.escrow.debits_pending).toBe(40n * gross);
      expect(b.escrow.debits_pending + b.escrow.debits_posted).toBeLessThanOrEqual(b.escrow.credits_posted);

      // 50 postHold() calls with 50 different ids on one hold: still one effect.
      const target = racing.find((r) => r.m.ok)?.i as number;
      const many = await Promise.all(Array.from({ length: 50 }, (_, k) => postHold(db, { id: `c.many.${k}`, holdId: `c.race.${target}` })));
      expect(countBy(many.map((m) => (m.ok ? 'ok' : m.result)))).toEqual({ ok: 1, [RESOLVED_RESULT.posted]: 49 });
      b = await balances(db);
      expect(b.escrow.debits_pending).toBe(39n * gross);
      expect(b.escrow.debits_posted).toBe(posted + gross);

      await expectCleanLedger(db);
    });
  });

  // d) Settlers race the expiry sweeper after the clock moves past some holds' timeouts.
  describe('d) concurrent settlers and the expiry sweeper', () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await openTestDatabase({ poolSize: POOL_SIZE });
    });
    afterAll(async () => {
      await t?.close();
    });

    const WORKERS = 8;
    const HOLDS = 120;
    const SWEEPS_PER_WORKER = 15;
    const FIRST_ADVANCE_S = 10;
    const SECOND_ADVANCE_S = 10;
    type Group = 'short' | 'medium' | 'long';

    it('ends every hold in exactly one state', async () => {
      const { db } = t;
      const rng = rngFor(SEED ^ 0xd);
      const escrows = ['d.esc.0', 'd.esc.1', 'd.esc.2'];
      const payees = ['d.pay.0', 'd.pay.1'];
      await openAccounts(db, [{ id: 'd.world' }, ...escrows.map((id) => ({ id, flags: LIMITED })), ...payees.map((id) => ({ id }))]);
      await mustCreate(
        db,
        escrows.map((id, k) => ({ id: `d.fund.${k}`, debit_account_id: 'd.world', credit_account_id: id, amount: 10_000_000n, currency: USD, code: CODE })),
      );
      // short: due after the first advance; medium: due only after the second (made mid-race); long: never.
      const holds = Array.from({ length: HOLDS }, (_, i) => {
        const group: Group = i % 3 === 0 ? 'short' : i % 3 === 1 ? 'medium' : 'long';
        const timeout = group === 'short' ? int(rng, 1, 5) : group === 'medium' ? int(rng, FIRST_ADVANCE_S + 3, FIRST_ADVANCE_S + 6) : 3600;
        return {
          id: `d.hold.${i}`,
          group,
          amount: BigInt(int(rng, 1, 5000)),
          debit: escrows[int(rng, 0, escrows.length - 1)] as string,
          credit: payees[int(rng, 0, payees.length - 1)] as string,
          timeout,
        };
      });
      await mustCreate(
        db,
        holds.map((h) => ({ id: h.id, debit_account_id: h.debit, credit_account_id: h.credit, amount: h.amount, currency: USD, code: CODE, flags: F.pending, timeout: h.timeout })),
      );
      await advanceClock(db, FIRST_ADVANCE_S);

      type Op = { kind: 'sweep' } | { kind: 'post' | 'void'; hold: number; request: TransferRequest };
      const plans = Array.from({ length: WORKERS }, (_, w) => {
        const ops: Op[] = holds.map((h, i) => {
          const id = `d.w${w}.r${i}`;
          if (rng() < 0.5) return { kind: 'void', hold: i, request: { id, pending_id: h.id, flags: F.void_pending_transfer } };
          const amount = rng() < 0.5 ? h.amount : BigInt(int(rng, 1, Number(h.amount)));
          return { kind: 'post', hold: i, request: { id, pending_id: h.id, flags: F.post_pending_transfer, amount } };
        });
        for (let s = 0; s < SWEEPS_PER_WORKER; s++) ops.push({ kind: 'sweep' });
        return shuffle(rng, ops);
      });

      const swept: number[] = [];
      const tallies = await Promise.all(
        plans.map(async (ops, w) => {
          const results = new Map<number, { kind: 'post' | 'void'; id: string; amount: bigint; result: TransferResult }>();
          for (const [n, op] of ops.entries()) {
            // Halfway through, one worker moves the clock again: the medium holds fall due mid-race.
            if (w === 0 && n === Math.floor(ops.length / 2)) await advanceClock(db, SECOND_ADVANCE_S);
            if (op.kind === 'sweep') {
              swept.push(await expireDueHolds(db, 7));
              continue;
            }
            const [outcome] = await createTransfers(db, [op.request]);
            results.set(op.hold, { kind: op.kind, id: op.request.id, amount: op.request.amount ?? 0n, result: (outcome as TransferOutcome).result });
          }
          return results;
        }),
      );

      const states = new Map((await lookupHolds(db, holds.map((h) => h.id))).map((s) => [s.id, s]));
      const postedOn = new Map<string, bigint>();
      const finalStatus: Record<Group, Record<string, number>> = { short: {}, medium: {}, long: {} };
      holds.forEach((h, i) => {
        const state = states.get(h.id);
        const status = state?.status;
        expect(['posted', 'voided', 'expired']).toContain(status);
        finalStatus[h.group][status as string] = (finalStatus[h.group][status as string] ?? 0) + 1;
        const results = tallies.map((r) => r.get(i));
        const winners = results.filter((r) => r?.result === 'ok');
        const label = `hold ${h.id} (${h.group}) ${status}: ${JSON.stringify(countBy(results.map((r) => r?.result)))}`;
        if (status === 'expired') {
          expect(winners, label).toHaveLength(0);
          expect(countBy(results.map((r) => r?.result)), label).toEqual({ pending_transfer_expired: WORKERS });
          expect(state?.resolved_by).toBe(`~expired:${h.id}`);
        } else {
          expect(winners, label).toHaveLength(1);
          const winner = winners[0] as NonNullable<(typeof winners)[number]>;
          expect(winner.kind === 'post' ? 'posted' : 'voided', label).toBe(status);
          expect(state?.resolved_by).toBe(winner.id);
          expect(countBy(results.filter((r) => r !== winner).map((r) => r?.result)), label).toEqual({
            [RESOLVED_RESULT[status as 'posted' | 'voided']]: WORKERS - 1,
          });
          if (winner.kind === 'post') postedOn.set(h.debit, (postedOn.get(h.debit) ?? 0n) + winner.amount);
        }
      });
      // Due before the race began: nobody could settle them. Never due: nothing expired them.
      expect(finalStatus.short).toEqual({ expired: holds.filter((h) => h.group === 'short').length });
      expect(finalStatus.long.expired).toBeUndefined();
      const expiredCount = [...states.values()].filter((s) => s.status === 'expired').length;
      expect(sum(swept.map(BigInt))).toBeLessThanOrEqual(BigInt(expiredCount));
      expect(await expireDueHolds(db)).toBe(0);

      const accounts = await accountsById(db, [...escrows, ...payees]);
      for (const id of escrows) {
        expect(get(accounts, id).debits_pending, id).toBe(0n);
        expect(get(accounts, id).debits_posted, id).toBe(postedOn.get(id) ?? 0n);
      }
      const paid = sum(payees.map((id) => get(accounts, id).credits_posted));
      expect(paid).toBe(sum([...postedOn.values()]));
      expect(sum(payees.map((id) => get(accounts, id).credits_pending))).toBe(0n);
      await expectCleanLedger(db);
    });
  });
});

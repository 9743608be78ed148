import type { Kysely } from 'kysely';
import { advanceClock } from '../../db/index.js';
import { type Random, seededRandom } from '../../random/index.js';
import { checkLedger } from '../check.js';
import { createAccounts, createTransfers, expireDueHolds, holdStatuses, simulatedAccounts } from '../repository.js';
import { AccountFlags, type TransferRequest, TransferFlags as F, type TransferOutcome } from '../types.js';
import { LedgerModel, type ModelResult } from './model.js';

/**
 * A seeded simulation: random deposits, holds, full and partial posts, voids, expiries on the
 * database clock, payouts, refunds, balancing sweeps, closes, identical and altered retries and
 * linked chains go to the real ledger and to the reference model. After every operation the results,
 * every account and the touched holds are compared and the cheap invariants checked; every
 * `fullCheckEvery` operations (and at the end) the journal is recomputed by checkLedger.
 */
export interface SimulationOptions {
  seed: number;
  operations: number;
  fullCheckEvery?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SimulationReport {
  seed: number;
  operations: number;
  requests: number;
  results: Record<string, number>;
  full_checks: number;
}

export class SimulationFailure extends Error {}

const HOUR = 3600;
const LIMITED = AccountFlags.debits_must_not_exceed_credits;

const rng = seededRandom;
type Rng = Random;

interface World {
  p: string;
  r: Rng;
  model: LedgerModel;
  history: TransferRequest[];
  holds: string[];
  closings: string[];
  campaigns: string[];
  nextCampaign: number;
  seq: number;
}

export async function simulate(db: Kysely<any>, options: SimulationOptions): Promise<SimulationReport> {
  const w = await setUp(db, options.seed);
  const report: SimulationReport = { seed: options.seed, operations: 0, requests: 0, results: {}, full_checks: 0 };
  const fullCheckEvery = options.fullCheckEvery ?? 1000;
  for (let i = 0; i < options.operations; i++) {
    const op = await nextOperation(db, w);
    const fail = (detail: string): never => {
      throw new SimulationFailure(
        `simulation failed: seed=${options.seed} operation #${i} ${op.name} ${describe(op.batch)}: ${detail}`,
      );
    };
    if (op.batch.length > 0) {
      const expected = w.model.submit(op.batch);
      const actual = await createTransfers(db, op.batch);
      compareResults(expected, actual, fail);
      remember(w, op.batch, actual);
      for (const o of actual) report.results[o.result] = (report.results[o.result] ?? 0) + 1;
      report.requests += op.batch.length;
    }
    report.operations++;
    options.onProgress?.(i + 1, options.operations);
    // After a lazy clock advance the database still counts due holds until something touches them:
    // compare only once the next operation has run and the sweeper has caught up.
    if (op.lazy) continue;
    await sweepExpired(db);
    await compareAccounts(db, w, fail);
    await compareHolds(db, w, touchedHolds(op.batch), fail);
    if ((i + 1) % fullCheckEvery === 0) await fullCheck(db, w, report, fail);
  }
  await sweepExpired(db);
  const fail = (detail: string): never => {
    throw new SimulationFailure(`simulation failed: seed=${options.seed} at the end: ${detail}`);
  };
  await compareAccounts(db, w, fail);
  await fullCheck(db, w, report, fail);
  return report;
}

async function fullCheck(db: Kysely<any>, w: World, report: SimulationReport, fail: (d: string) => never) {
  await compareHolds(db, w, [...w.holds, ...w.closings], fail);
  const check = await checkLedger(db);
  if (check.mismatches !== 0) fail(`ledger check: ${check.problems.join('; ')}`);
  report.full_checks++;
}

async function setUp(db: Kysely<any>, seed: number): Promise<World> {
  const p = `sim${seed}x${Date.now().toString(36)}`;
  const w: World = { p, r: rng(seed), model: new LedgerModel(), history: [], holds: [], closings: [], campaigns: [], nextCampaign: 0, seq: 0 };
  const accounts = [
    { id: `${p}.world.USD`, currency: 'USD', flags: AccountFlags.credits_must_not_exceed_debits },
    { id: `${p}.world.EUR`, currency: 'EUR', flags: AccountFlags.credits_must_not_exceed_debits },
    { id: `${p}.wallet.b1`, currency: 'USD', flags: LIMITED },
    { id: `${p}.wallet.b2`, currency: 'USD', flags: LIMITED },
    { id: `${p}.wallet.eur`, currency: 'EUR', flags: LIMITED },
    { id: `${p}.payable.k1`, currency: 'USD', flags: LIMITED },
    { id: `${p}.payable.k2`, currency: 'USD', flags: LIMITED },
    { id: `${p}.payable.k3`, currency: 'USD', flags: LIMITED },
    { id: `${p}.fees`, currency: 'USD', flags: LIMITED },
    { id: `${p}.transit`, currency: 'USD', flags: LIMITED },
  ];
  await openAccounts(db, w, accounts);
  for (let k = 0; k < 3; k++) await newCampaign(db, w);
  return w;
}

async function openAccounts(db: Kysely<any>, w: World, accounts: { id: string; currency: string; flags: number }[]) {
  const outcomes = await createAccounts(db, accounts.map((a) => ({ ...a, code: 1 })));
  if (outcomes.some((o) => o.result !== 'ok')) throw new Error(`simulation set-up failed: ${JSON.stringify(outcomes)}`);
  for (const a of accounts) w.model.addAccount(a.id, a.currency, a.flags);
}

async function newCampaign(db: Kysely<any>, w: World): Promise<void> {
  const id = `${w.p}.escrow.c${w.nextCampaign++}`;
  await openAccounts(db, w, [{ id, currency: 'USD', flags: LIMITED }]);
  w.campaigns.push(id);
}

interface Operation {
  name: string;
  batch: TransferRequest[];
  /** A clock advance whose due holds are left for the next operation to meet. */
  lazy?: boolean;
}

const WEIGHTS: [string, number][] = [
  ['deposit', 10], ['withdraw', 3], ['fund', 10], ['hold', 14], ['hold_pair', 6], ['post', 12], ['void', 6],
  ['advance', 4], ['payout', 5], ['payout_complete', 3], ['payout_fail', 2], ['refund', 3], ['sweep', 3],
  ['close', 1], ['reopen', 1], ['finalise_close', 0.3], ['new_campaign', 0.5], ['retry', 6], ['alter', 5],
  ['bad', 3], ['chain', 5],
];
const TOTAL_WEIGHT = WEIGHTS.reduce((s, [, x]) => s + x, 0);

async function nextOperation(db: Kysely<any>, w: World): Promise<Operation> {
  let roll = w.r.next() * TOTAL_WEIGHT;
  const [name] = WEIGHTS.find(([, weight]) => (roll -= weight) < 0) ?? (WEIGHTS[0] as [string, number]);
  if (name === 'advance') {
    const hours = w.r.int(1, 72);
    await advanceClock(db, hours * HOUR);
    w.model.advance(hours * HOUR);
    // Half the time the sweeper runs at once; otherwise the next operation meets due holds lazily.
    return { name: `advance ${hours}h`, batch: [], lazy: w.r.chance(0.5) };
  }
  if (name === 'new_campaign') {
    await newCampaign(db, w);
    return { name, batch: [] };
  }
  if (name === 'chain') {
    const size = w.r.int(2, 3);
    const batch = Array.from({ length: size }, () => simple(w, w.r.pick(['deposit', 'fund', 'hold', 'post', 'void', 'payout', 'refund']))).flat();
    return { name, batch: batch.map((t, k) => (k < batch.length - 1 ? { ...t, flags: (t.flags ?? 0) | F.linked } : t)) };
  }
  return { name, batch: simple(w, name) };
}

function id(w: World): string {
  return `${w.p}.t${w.seq++}`;
}

function amount(w: World): bigint {
  return BigInt(w.r.chance(0.1) ? w.r.int(1, 5_000_000) : w.r.int(1, 50_000));
}

function usd(w: World, debit: string, credit: string, a: bigint, code: number, extra: Partial<TransferRequest> = {}): TransferRequest {
  return { id: id(w), debit_account_id: debit, credit_account_id: credit, amount: a, currency: 'USD', code, ...extra };
}

function simple(w: World, name: string): TransferRequest[] {
  const { p, r } = w;
  const wallet = r.pick([`${p}.wallet.b1`, `${p}.wallet.b2`]);
  const escrow = r.pick(w.campaigns);
  const payable = r.pick([`${p}.payable.k1`, `${p}.payable.k2`, `${p}.payable.k3`]);
  const timeout = r.chance(0.5) ? 0 : r.int(1, 96) * HOUR;
  switch (name) {
    case 'deposit':
      return [usd(w, `${p}.world.USD`, wallet, amount(w), 101)];
    case 'withdraw':
      return [usd(w, wallet, `${p}.world.USD`, amount(w), 102)];
    case 'fund':
      return [usd(w, wallet, escrow, amount(w), 201)];
    case 'hold':
      return [usd(w, escrow, payable, amount(w), 301, { flags: F.pending, timeout, user_data: r.chance(0.3) ? `result-${w.seq}` : null })];
    case 'hold_pair': {
      const gross = amount(w);
      const fee = gross / 10n;
      return [
        usd(w, escrow, payable, gross - fee, 301, { flags: F.pending | F.linked, timeout }),
        usd(w, escrow, `${p}.fees`, fee > 0n ? fee : 1n, 302, { flags: F.pending, timeout }),
      ];
    }
    case 'post':
      return resolveSome(w, F.post_pending_transfer);
    case 'void':
      return resolveSome(w, F.void_pending_transfer);
    case 'payout':
      return [usd(w, payable, `${p}.transit`, available(w, payable) ?? amount(w), 501)];
    case 'payout_complete':
      return [usd(w, `${p}.transit`, `${p}.world.USD`, available(w, `${p}.transit`) ?? amount(w), 502)];
    case 'payout_fail':
      return [usd(w, `${p}.transit`, payable, available(w, `${p}.transit`) ?? amount(w), 503)];
    case 'refund':
      return [usd(w, escrow, wallet, amount(w), 202)];
    case 'sweep':
      return [usd(w, escrow, wallet, r.chance(0.5) ? 2n ** 62n : amount(w), 202, { flags: F.balancing_debit })];
    case 'close':
      return [usd(w, escrow, `${p}.world.USD`, 0n, 901, { flags: F.pending | F.closing_debit })];
    case 'reopen':
      return w.closings.length ? [{ id: id(w), pending_id: r.pick(w.closings), flags: F.void_pending_transfer }] : [];
    case 'finalise_close':
      return w.closings.length ? [{ id: id(w), pending_id: r.pick(w.closings), flags: F.post_pending_transfer }] : [];
    case 'retry':
      return w.history.length ? [r.pick(w.history)] : [];
    case 'alter':
      return w.history.length ? [alter(w, r.pick(w.history))] : [];
    default:
      return bad(w);
  }
}

/** A hold's resolution: full, partial, or (sometimes) more than held; or on a hold already resolved. */
function resolveSome(w: World, flags: number): TransferRequest[] {
  if (w.holds.length === 0) return [];
  const pendingId = w.r.pick(w.holds);
  const hold = w.model.holds.get(pendingId);
  const held = hold?.transfer.amount ?? 1n;
  const request: TransferRequest = { id: id(w), pending_id: pendingId, flags };
  if (flags === F.post_pending_transfer && w.r.chance(0.5)) {
    request.amount = w.r.chance(0.85) ? (held * BigInt(w.r.int(0, 100))) / 100n : held + 1n;
  }
  if (flags === F.void_pending_transfer && w.r.chance(0.2)) request.amount = w.r.chance(0.5) ? held : held + 1n;
  return [request];
}

/** 70% of the time an amount the account can pay, so payouts mostly succeed. */
function available(w: World, accountId: string): bigint | undefined {
  const a = w.model.accounts.get(accountId);
  if (!a || !w.r.chance(0.7)) return undefined;
  const room = a.cpo - a.dpo - a.dp;
  return room > 0n ? BigInt(w.r.int(1, Number(room > 1_000_000n ? 1_000_000n : room))) : undefined;
}

function alter(w: World, original: TransferRequest): TransferRequest {
  const changed = { ...original };
  switch (w.r.int(0, 5)) {
    case 0:
      changed.amount = (original.amount ?? 0n) + 1n;
      break;
    case 1:
      changed.code = (original.code ?? 0) + 1;
      break;
    case 2:
      changed.user_data = 'altered';
      break;
    case 3:
      changed.debit_account_id = `${w.p}.wallet.b2`;
      break;
    case 4:
      changed.timeout = (original.timeout ?? 0) + HOUR;
      break;
    default:
      changed.flags = (original.flags ?? 0) ^ F.pending;
  }
  return changed;
}

function bad(w: World): TransferRequest[] {
  const { p } = w;
  switch (w.r.int(0, 3)) {
    case 0:
      return [usd(w, `${p}.nobody`, `${p}.wallet.b1`, 5n, 101)];
    case 1:
      return [usd(w, `${p}.wallet.eur`, `${p}.wallet.b1`, 5n, 101)];
    case 2:
      return [{ id: id(w), pending_id: `${p}.no-such-hold`, flags: F.post_pending_transfer }];
    default:
      return w.history.length ? [{ id: id(w), pending_id: (w.history[0] as TransferRequest).id, flags: F.void_pending_transfer }] : [];
  }
}

function remember(w: World, batch: TransferRequest[], outcomes: TransferOutcome[]): void {
  outcomes.forEach((o, k) => {
    const request = batch[k] as TransferRequest;
    if (o.result !== 'ok') return;
    if (w.history.length < 5000) w.history.push(request);
    else w.history[w.r.int(0, w.history.length - 1)] = request;
    const flags = request.flags ?? 0;
    if (flags & F.pending) (flags & F.closing_debit ? w.closings : w.holds).push(request.id);
  });
}

function touchedHolds(batch: TransferRequest[]): string[] {
  return batch.flatMap((t) => (t.pending_id ? [t.pending_id] : (t.flags ?? 0) & F.pending ? [t.id] : []));
}

async function sweepExpired(db: Kysely<any>): Promise<void> {
  while ((await expireDueHolds(db, 1000)) > 0) {
    // keep going until nothing is due
  }
}

function compareResults(expected: ModelResult[], actual: TransferOutcome[], fail: (d: string) => never): void {
  expected.forEach((e, k) => {
    const a = actual[k];
    if (!a || a.result !== e.result) fail(`request ${k}: model says ${e.result}, ledger says ${a?.result}`);
    if (e.result === 'ok' && a?.transfer?.amount !== e.amount) fail(`request ${k}: model moved ${e.amount}, ledger ${a?.transfer?.amount}`);
  });
}

async function compareAccounts(db: Kysely<any>, w: World, fail: (d: string) => never): Promise<void> {
  const accounts = await simulatedAccounts(db, w.p);
  const totals = new Map<string, bigint[]>();
  for (const a of accounts) {
    const m = w.model.accounts.get(a.id);
    if (!m) fail(`account ${a.id} is not in the model`);
    const same = m && m.dp === a.dp && m.dpo === a.dpo && m.cp === a.cp && m.cpo === a.cpo && m.closed === a.closed;
    if (!same) fail(`account ${a.id}: ledger ${a.dp}/${a.dpo}/${a.cp}/${a.cpo}/${a.closed}, model ${m?.dp}/${m?.dpo}/${m?.cp}/${m?.cpo}/${m?.closed}`);
    if (a.flags & 2 && a.dp + a.dpo > a.cpo) fail(`account ${a.id} debits exceed credits`);
    if (a.flags & 4 && a.cp + a.cpo > a.dpo) fail(`account ${a.id} credits exceed debits`);
    const t = totals.get(a.currency) ?? [0n, 0n, 0n, 0n];
    totals.set(a.currency, [(t[0] as bigint) + a.dp, (t[1] as bigint) + a.dpo, (t[2] as bigint) + a.cp, (t[3] as bigint) + a.cpo]);
  }
  if (accounts.length !== w.model.accounts.size) fail(`ledger has ${accounts.length} accounts, model ${w.model.accounts.size}`);
  for (const [currency, [dp, dpo, cp, cpo]] of totals) {
    if (dp !== cp || dpo !== cpo) fail(`${currency} does not balance: debits ${dp}/${dpo}, credits ${cp}/${cpo}`);
  }
}

async function compareHolds(db: Kysely<any>, w: World, ids: string[], fail: (d: string) => never): Promise<void> {
  if (ids.length === 0) return;
  const rows = await holdStatuses(db, ids);
  const stored = new Map(rows.map((x) => [x.id, x.status]));
  for (const holdId of ids) {
    const m = w.model.holds.get(holdId);
    if ((m?.status ?? undefined) !== stored.get(holdId)) fail(`hold ${holdId}: ledger ${stored.get(holdId)}, model ${m?.status}`);
  }
}

function describe(batch: TransferRequest[]): string {
  return JSON.stringify(batch, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

import type { Transaction } from 'kysely';
import { incentivesOf, type Terms } from '../terms/index.js';
import { admitResult, type Caps, type Period, periodOf, type PeriodTally } from '../incentives/index.js';
import { holdLegIds, linkChain, TransferFlags as F, type TransferRequest } from '../ledger/index.js';
import { splitFee } from '../money/index.js';
import { approvedInPeriod, cappedTerms, lockCapPeriods, markPaidGross } from './repository.js';

/**
 * Caps per creator per period, applied when results are paid (issue #5 §4): a result beyond the
 * incentives' `results_per_period` earns nothing, and the one crossing `amount_per_period` earns what
 * is left under it. Only that part of its hold is posted (net and fee split by the campaign's fee, a
 * partial post: the rest returns to the escrow; a leg with nothing to post is voided), and the result
 * records what it earned (`paid_gross`).
 *
 * The period so far is what was already paid in it: approved results of the enrolment recorded in the
 * period (their count, capped, and what they earned). Results approved together are taken in recording
 * order. Payments in one enrolment-period are serialized by a transaction-scoped advisory lock, so two
 * settlers approving results of the same creator at once cannot both spend the same room.
 */
type Trx = Transaction<any>;

export interface CappableResult {
  id: string;
  enrolment_id: string;
  gross: bigint;
  fee: bigint;
  recorded_at: Date;
}

/**
 * For the results about to be approved whose pay the caps cut: the transfers that settle their holds
 * (ids `<result>.settle.net` / `.fee`, as for an uncut result). Results the caps leave whole are not in
 * the map: the caller settles them as usual. Writes `paid_gross` on the cut ones.
 */
export async function capPayments(trx: Trx, results: readonly CappableResult[]): Promise<Map<string, TransferRequest[]>> {
  const out = new Map<string, TransferRequest[]>();
  if (results.length === 0) return out;
  const rules = await capRules(trx, [...new Set(results.map((r) => r.enrolment_id))]);
  if (rules.size === 0) return out;
  const groups = new Map<string, { rule: CapRule; period: Period; results: CappableResult[] }>();
  for (const r of results) {
    const rule = rules.get(r.enrolment_id);
    if (!rule) continue;
    const period = periodIn(new Date(r.recorded_at), rule);
    const key = `${r.enrolment_id}:${period.key}`;
    const g = groups.get(key) ?? { rule, period, results: [] };
    g.results.push(r);
    groups.set(key, g);
  }
  const keys = [...groups.keys()].sort();
  await lockCapPeriods(trx, keys);
  const cut: Array<{ id: string; paid: bigint }> = [];
  for (const key of keys) {
    const g = groups.get(key)!;
    const tally = await paidSoFar(trx, g.results[0]!.enrolment_id, g.period, g.rule.caps);
    const ordered = [...g.results].sort((a, b) => new Date(a.recorded_at).getTime() - new Date(b.recorded_at).getTime() || (a.id < b.id ? -1 : 1));
    for (const r of ordered) {
      const { counts, earns } = admitResult(tally, r.gross, g.rule.caps);
      if (counts) tally.results += 1;
      tally.earnings += earns;
      if (earns === r.gross) continue;
      cut.push({ id: r.id, paid: earns });
      out.set(r.id, settleCut(r, earns, g.rule.feeBps));
    }
  }
  if (cut.length > 0) {
    await markPaidGross(trx, cut);
  }
  return out;
}

interface CapRule {
  caps: Caps;
  incentives: NonNullable<ReturnType<typeof incentivesOf>>;
  terms: Terms;
  feeBps: number;
}

/** The caps of the enrolments' accepted terms; enrolments without caps are left out. */
async function capRules(trx: Trx, enrolmentIds: string[]): Promise<Map<string, CapRule>> {
  const rows = await cappedTerms(trx, enrolmentIds);
  const rules = new Map<string, CapRule>();
  for (const row of rows) {
    const incentives = incentivesOf(row.terms);
    if (!incentives) continue;
    const { results_per_period, amount_per_period } = incentives.caps;
    if (results_per_period === null && amount_per_period === null) continue;
    rules.set(row.id, { caps: incentives.caps, incentives, terms: row.terms, feeBps: row.terms.fee_bps });
  }
  return rules;
}

function periodIn(at: Date, rule: CapRule): Period {
  const window = { starts_at: new Date(rule.terms.starts_at), ends_at: new Date(rule.terms.ends_at) };
  const t = Math.min(Math.max(at.getTime(), window.starts_at.getTime()), window.ends_at.getTime() - 1);
  return periodOf(new Date(t), rule.incentives, window);
}

/**
 * What the period has already paid: results beyond the results cap never counted, so the count is
 * the approved results capped; the earnings are what each earned (its `paid_gross`, else its gross).
 */
async function paidSoFar(trx: Trx, enrolmentId: string, period: Period, caps: Caps): Promise<PeriodTally> {
  const row = await approvedInPeriod(trx, enrolmentId, period);
  const n = Number(row?.n ?? 0n);
  const max = caps.results_per_period;
  return { results: max === null ? n : Math.min(n, max), earnings: BigInt(row?.earned ?? 0n) };
}

/** A partial post of the hold: `paid` split by the fee into the two legs; a leg with nothing to post is voided. */
function settleCut(r: CappableResult, paid: bigint, feeBps: number): TransferRequest[] {
  const legs = holdLegIds(r.id);
  // Never more on a leg than it holds (the terms' fee may have changed since the hold was placed).
  const heldNet = r.gross - r.fee;
  const split = splitFee(paid, feeBps);
  const fee = split.fee < r.fee ? (paid - split.fee > heldNet ? paid - heldNet : split.fee) : r.fee;
  const net = paid - fee;
  const requests: TransferRequest[] = [];
  if (heldNet > 0n) requests.push(resolve(`${r.id}.settle.net`, legs.net, net));
  if (r.fee > 0n) requests.push(resolve(`${r.id}.settle.fee`, legs.fee, fee));
  return linkChain(requests);
}

function resolve(id: string, pendingId: string, amount: bigint): TransferRequest {
  return amount > 0n ? { id, pending_id: pendingId, flags: F.post_pending_transfer, amount } : { id, pending_id: pendingId, flags: F.void_pending_transfer };
}

import { assert } from '../errors/index.js';
import { divRound } from '../money/index.js';

const BASIS_POINTS_PER_WHOLE = 10_000n;

/**
 * The money-back guarantee: when a campaign ends with fewer validated (approved) results than its
 * KPI target, the platform returns `guarantee_bps` of the fees it earned on that campaign:
 *
 *   refund = divRound(fees_earned × guarantee_bps, 10 000)   (half to even)   if validated < kpi_target
 *   refund = 0                                                               otherwise
 *
 * A target of 0 is always met. The refund never exceeds the fees earned (guarantee_bps ≤ 10 000).
 */
export function guaranteeRefund(p: { feesEarned: bigint; validated: number; kpiTarget: number; guaranteeBps: number }): bigint {
  assert(p.feesEarned >= 0n, 'fees earned cannot be negative');
  assert(Number.isInteger(p.guaranteeBps) && p.guaranteeBps >= 0 && p.guaranteeBps <= 10_000, 'guarantee_bps must be 0..10000');
  if (p.validated >= p.kpiTarget) return 0n;
  const refund = divRound(p.feesEarned * BigInt(p.guaranteeBps), BASIS_POINTS_PER_WHOLE);
  assert(refund <= p.feesEarned, 'the guarantee cannot refund more than the fees earned');
  return refund;
}

/** A campaign's fee figures once its escrow is closed (src/settlement/fee-return.ts reads them from the journal). */
export interface FeeFigures {
  /** 302 + 304 posted: every fee the platform earned on the campaign. */
  gross: bigint;
  /** Fees of what was taken back before this event (reversed results, lowered bonuses). */
  takenBack: bigint;
  /** 402 moved so far. */
  returned: bigint;
  /** 401 moved so far. */
  refunded: bigint;
  /** Validated results after this event. */
  validated: number;
}

/**
 * What a fee event (a reversal, a lowered bonus, or the settlement's guarantee step with `fee` 0) must
 * move to the brand once the escrow is closed, so that the platform keeps exactly
 * `standing − guaranteeRefund(standing)` with `standing = gross − takenBack − fee`:
 *
 *   Δ = (gross − returned − refunded) − (standing − guarantee),  fee part = min(fee, Δ), guarantee part = Δ − fee part
 *
 * Δ is never negative when the figures came from earlier events under this rule (asserted): an event
 * takes `fee` off the standing fees and can lower the guarantee by at most `fee`.
 */
export function feeReturnAfterClose(f: FeeFigures, terms: { kpiTarget: number; guaranteeBps: number }, fee: bigint): { fee: bigint; guarantee: bigint } {
  assert(fee >= 0n, `a fee to return cannot be negative, got ${fee}`);
  const standing = f.gross - f.takenBack - fee;
  assert(standing >= 0n, `standing fees cannot be negative: ${f.gross} earned, ${f.takenBack + fee} taken back`);
  const guarantee = guaranteeRefund({ feesEarned: standing, validated: f.validated, kpiTarget: terms.kpiTarget, guaranteeBps: terms.guaranteeBps });
  const kept = f.gross - f.returned - f.refunded;
  const delta = kept - (standing - guarantee);
  assert(delta >= 0n, `the brand was refunded ${-delta} more fees than the standing results allow`);
  const feePart = delta < fee ? delta : fee;
  return { fee: feePart, guarantee: delta - feePart };
}

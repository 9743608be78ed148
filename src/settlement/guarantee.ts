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

import { describe, expect, it } from 'vitest';
import { feeReturnAfterClose, guaranteeRefund } from './guarantee.js';

describe('guaranteeRefund', () => {
  it.each([
    // feesEarned, validated, kpiTarget, guaranteeBps, expected refund
    [1000n, 9, 10, 10_000, 1000n], // missed by one: everything back at 100 %
    [1000n, 10, 10, 10_000, 0n], // met exactly: nothing back
    [1000n, 11, 10, 10_000, 0n], // exceeded
    [1000n, 0, 0, 10_000, 0n], // a target of 0 is always met
    [1000n, 3, 10, 5_000, 500n], // half
    [1000n, 3, 10, 0, 0n], // no guarantee
    [0n, 0, 10, 10_000, 0n], // no fees earned, nothing to return
    [5n, 0, 1, 5_000, 2n], // 2.5 → 2 (half to even)
    [7n, 0, 1, 5_000, 4n], // 3.5 → 4 (half to even)
    [3n, 0, 1, 3_333, 1n], // 0.9999 → 1
    [1n, 0, 1, 4_999, 0n], // 0.4999 → 0
    [123_456_789n, 5, 6, 2_500, 30_864_197n], // 30,864,197.25 → 30,864,197
  ])('fees %s, %i validated of %i, %i bps → %s', (feesEarned, validated, kpiTarget, guaranteeBps, expected) => {
    expect(guaranteeRefund({ feesEarned, validated, kpiTarget, guaranteeBps })).toBe(expected);
  });

  it('refuses impossible inputs as programmer errors', () => {
    expect(() => guaranteeRefund({ feesEarned: -1n, validated: 0, kpiTarget: 1, guaranteeBps: 100 })).toThrow(/assertion/);
    expect(() => guaranteeRefund({ feesEarned: 1n, validated: 0, kpiTarget: 1, guaranteeBps: 10_001 })).toThrow(/assertion/);
  });
});

describe('feeReturnAfterClose', () => {
  const terms = (kpiTarget: number, guaranteeBps: number) => ({ kpiTarget, guaranteeBps });
  it.each([
    // gross, takenBack, returned, refunded, validated after, kpi, bps, this fee → fee part, guarantee part
    ['met before and after: the fee in full', 600n, 0n, 0n, 0n, 2, 2, 10_000, 200n, 200n, 0n],
    ['met → missed at 100 %: the fee and the whole guarantee on the standing 4.00', 600n, 0n, 0n, 0n, 2, 3, 10_000, 200n, 200n, 400n],
    ['missed at 100 % already: the guarantee refunded this fee, nothing more', 600n, 200n, 200n, 400n, 1, 3, 10_000, 200n, 0n, 0n],
    ['missed at 50 % already: the fee less the half the guarantee refunded', 400n, 0n, 0n, 200n, 1, 5, 5_000, 200n, 100n, 0n],
    ['met → missed at 50 %', 600n, 0n, 0n, 0n, 2, 3, 5_000, 200n, 200n, 200n],
    ['the settlement step: the guarantee on what stands', 600n, 200n, 200n, 0n, 2, 3, 5_000, 0n, 0n, 200n],
    ['the settlement step after a reversal already paid it', 600n, 200n, 200n, 400n, 2, 3, 10_000, 0n, 0n, 0n],
    ['a reversal with no fee that makes the KPI missed', 400n, 0n, 0n, 0n, 1, 2, 10_000, 0n, 0n, 400n],
    // 5 at 50 % refunded 2 (2.5 → 2); 3 standing at 50 % is 1.5 → 2: the guarantee did not drop, the fee comes back whole
    ['half to even: the guarantee on 3 is still 2', 5n, 0n, 0n, 2n, 0, 1, 5_000, 2n, 2n, 0n],
  ])('%s', (_name, gross, takenBack, returned, refunded, validated, kpi, bps, fee, feePart, guaranteePart) => {
    const out = feeReturnAfterClose({ gross, takenBack, returned, refunded, validated }, terms(kpi, bps), fee);
    expect(out).toEqual({ fee: feePart, guarantee: guaranteePart });
    // Afterwards the brand holds exactly the fees taken back plus the guarantee on what stands.
    const standing = gross - takenBack - fee;
    const due = guaranteeRefund({ feesEarned: standing, validated, kpiTarget: kpi, guaranteeBps: bps });
    expect(returned + out.fee + refunded + out.guarantee).toBe(takenBack + fee + due);
    expect(out.fee).toBeLessThanOrEqual(fee);
  });

  it('refuses figures that already refunded more than the standing results allow, and negative fees', () => {
    expect(() => feeReturnAfterClose({ gross: 600n, takenBack: 0n, returned: 0n, refunded: 600n, validated: 3 }, terms(3, 10_000), 0n)).toThrow(/assertion/);
    expect(() => feeReturnAfterClose({ gross: 600n, takenBack: 0n, returned: 0n, refunded: 0n, validated: 3 }, terms(3, 10_000), -1n)).toThrow(/assertion/);
    expect(() => feeReturnAfterClose({ gross: 100n, takenBack: 0n, returned: 0n, refunded: 0n, validated: 3 }, terms(3, 10_000), 200n)).toThrow(/assertion/);
  });
});

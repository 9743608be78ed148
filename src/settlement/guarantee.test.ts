import { describe, expect, it } from 'vitest';
import { guaranteeRefund } from './guarantee.js';

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

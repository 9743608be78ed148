import { describe, expect, it } from 'vitest';
import { type EscrowState, type FundsCandidate, planHolds } from './funds-plan.js';

const c = (id: string, gross: bigint, campaignId = 'A'): FundsCandidate => ({ id, campaignId, gross });
const escrows = (entries: Record<string, EscrowState>) => new Map(Object.entries(entries));

describe('planHolds', () => {
  it.each([
    { name: 'everything fits', available: 30n, grosses: [10n, 10n, 10n], want: ['hold', 'hold', 'hold'], ranOut: false },
    { name: 'the first that does not fit stops the campaign, even if a later one would fit', available: 25n, grosses: [10n, 10n, 10n, 5n], want: ['hold', 'hold', 'await', 'await'], ranOut: true },
    { name: 'an exact fit is held', available: 20n, grosses: [10n, 10n], want: ['hold', 'hold'], ranOut: false },
    { name: 'an empty escrow holds nothing', available: 0n, grosses: [1n], want: ['await'], ranOut: true },
  ])('$name', ({ available, grosses, want, ranOut }) => {
    const plan = planHolds(grosses.map((g, i) => c(`r${i}`, g)), escrows({ A: { available, queued: false } }));
    expect(grosses.map((_, i) => plan.choices.get(`r${i}`))).toEqual(want);
    expect(plan.ranOut.has('A')).toBe(ranOut);
  });

  it('queues every result of a campaign whose earlier results already wait, however much is available', () => {
    const plan = planHolds([c('r1', 1n), c('r2', 1n)], escrows({ A: { available: 100n, queued: true } }));
    expect([...plan.choices.values()]).toEqual(['await', 'await']);
    expect(plan.ranOut.size).toBe(0); // already queued: nothing new ran out
  });

  it('keeps campaigns apart: one running out does not stop another', () => {
    const plan = planHolds(
      [c('a1', 10n, 'A'), c('b1', 10n, 'B'), c('a2', 10n, 'A'), c('b2', 10n, 'B')],
      escrows({ A: { available: 10n, queued: false }, B: { available: 20n, queued: false } }),
    );
    expect(Object.fromEntries(plan.choices)).toEqual({ a1: 'hold', b1: 'hold', a2: 'await', b2: 'hold' });
    expect([...plan.ranOut]).toEqual(['A']);
  });

  it('does not change the escrow states it is given', () => {
    const given = escrows({ A: { available: 10n, queued: false } });
    planHolds([c('r1', 10n), c('r2', 10n)], given);
    expect(given.get('A')).toEqual({ available: 10n, queued: false });
  });
});

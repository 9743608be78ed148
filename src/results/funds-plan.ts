/**
 * Which results the escrow holds now and which wait for funds (pure). Arrival order is a promise: per
 * campaign, results are taken in the order given (recording time, then id), and the first whose
 * payout the escrow cannot cover stops the campaign — it and every later one wait, even a smaller
 * one that would fit, so a result never loses its place to one that came after it. A campaign that
 * is already queued (paused for budget, or with results waiting before these) holds nothing new: its
 * waiting results go first, through the hold pass.
 */
export type FundsChoice = 'hold' | 'await';

export interface FundsCandidate {
  id: string;
  campaignId: string;
  /** What its hold reserves on the escrow: net + fee. */
  gross: bigint;
}

export interface EscrowState {
  available: bigint;
  /** Results already wait on this campaign (or it is paused for budget): new ones queue behind them. */
  queued: boolean;
}

export interface FundsPlan {
  choices: Map<string, FundsChoice>;
  /** Campaigns whose escrow could not cover a result in this plan (they were not queued before). */
  ranOut: Set<string>;
}

export function planHolds(candidates: readonly FundsCandidate[], escrows: ReadonlyMap<string, EscrowState>): FundsPlan {
  const state = new Map([...escrows].map(([id, e]) => [id, { ...e }]));
  const choices = new Map<string, FundsChoice>();
  const ranOut = new Set<string>();
  for (const c of candidates) {
    const escrow = state.get(c.campaignId) ?? { available: 0n, queued: false };
    state.set(c.campaignId, escrow);
    if (!escrow.queued && c.gross <= escrow.available) {
      escrow.available -= c.gross;
      choices.set(c.id, 'hold');
      continue;
    }
    if (!escrow.queued) ranOut.add(c.campaignId);
    escrow.queued = true;
    choices.set(c.id, 'await');
  }
  return { choices, ranOut };
}

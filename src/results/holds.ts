import { holdRequests, type TransferRequest } from '../ledger/index.js';
import type { Result } from './results.js';

/** A result's hold: two linked pending transfers with ids derived from the result's, `<result>.net` and `<result>.fee`. */
export function holdLegs(r: Pick<Result, 'id' | 'gross' | 'fee'>): { net?: string; fee?: string } {
  return { ...(r.gross - r.fee > 0n ? { net: `${r.id}.net` } : {}), ...(r.fee > 0n ? { fee: `${r.id}.fee` } : {}) };
}

export function holdRequestsOf(r: Pick<Result, 'id' | 'campaign_id' | 'creator_id' | 'currency' | 'gross' | 'fee'>): TransferRequest[] {
  return holdRequests({
    holdId: r.id,
    campaignId: r.campaign_id,
    creatorId: r.creator_id,
    currency: r.currency,
    net: r.gross - r.fee,
    fee: r.fee,
    userData: r.id,
  });
}

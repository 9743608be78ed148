import type { Kysely } from 'kysely';
import { AccountCode } from '../ledger/index.js';
import { creatorAccounts, inTransit } from './repository.js';

/** What Earnest owes a creator, per currency, read from the ledger. */
export interface CreatorBalance {
  currency: string;
  /** Payable now (validated results, minus what was sent). */
  available: bigint;
  /** Held on results still in their hold period: payable once validated. */
  pending: bigint;
  /** Sent to the payout provider, not yet confirmed. */
  in_transit: bigint;
  /** Owed back by the creator after a clawback larger than their payable. */
  receivable: bigint;
}

export async function creatorBalance(db: Kysely<any>, creatorId: string): Promise<CreatorBalance[]> {
  const accounts = await creatorAccounts(db, creatorId);
  const payables = accounts.filter((a) => a.code === AccountCode.creator_payable);
  const transit = await inTransit(db, payables.map((a) => a.id));
  const byCurrency = new Map<string, CreatorBalance>();
  const entry = (currency: string): CreatorBalance => {
    const found = byCurrency.get(currency) ?? { currency, available: 0n, pending: 0n, in_transit: transit.get(currency) ?? 0n, receivable: 0n };
    byCurrency.set(currency, found);
    return found;
  };
  for (const a of accounts) {
    const e = entry(a.currency);
    if (a.code === AccountCode.creator_payable) {
      e.available = a.credits_posted - a.debits_posted - a.debits_pending;
      e.pending = a.credits_pending;
    } else {
      e.receivable = a.debits_posted - a.credits_posted;
    }
  }
  return [...byCurrency.values()];
}

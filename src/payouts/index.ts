/**
 * Payouts: creators' payable balances out through a payout provider (manual CSV files or test), with
 * operators confirming manual ones. See docs/settlement.md.
 */
export { creatorBalance, type CreatorBalance } from './balance.js';
export { CSV_HEADER, csvCell, ManualPayoutProvider, type PayoutAnswer, type PayoutBatch, payoutCsv, type PayoutItem, type PayoutProvider, payoutProviderFromConfig, TestPayoutProvider } from './providers.js';
export { batchCounts, type CreatorAccountRow, creatorAccounts, getPayout, insertPending, inTransit, listPayouts, lockBatch, lockPayout, lockPayouts, markAccepted, markCompleted, markFailed, markSent, type PayableCandidate, payableCandidates, type Payout, PAYOUT_STATUSES, type PayoutStatus, unfinishedBatches, unsubmitted, type UnsubmittedPayout } from './repository.js';

/**
 * Payouts: creators' payable balances out through a payout provider (manual CSV files or test), with
 * operators confirming manual ones. See docs/settlement.md.
 */
export { type CreatorBalance, creatorBalance } from './balance.js';
export {
  CSV_HEADER,
  ManualPayoutProvider,
  type PayoutAnswer,
  type PayoutBatch,
  type PayoutItem,
  type PayoutProvider,
  payoutProviderFromConfig,
  TestPayoutProvider,
} from './providers.js';
export { getPayout, listPayouts, PAYOUT_STATUSES, type Payout, type PayoutStatus } from './repository.js';
export { markPayoutCompleted, markPayoutFailed, PAYOUT_LIMITS, type PayoutRunReport, runPayouts } from './run.js';

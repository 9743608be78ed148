/**
 * Every journey that spans modules, and the process's background work: where a click becomes a hold
 * and a hold a payout (docs/architecture.md walks them in order).
 */
export { BONUS_LIMITS, type BonusRunReport, runBonuses, settlePeriodBonus, unreleasedBonuses } from './bonus.js';
export { recordClickResults } from './click.js';
export { type ConversionOutcome, finishRecordingConversions, type Presenter } from './conversion.js';
export { type ConversionSubmission, recordConversion, recordConversionBatch, recordConversionGrouped } from './conversion-batch.js';
export { type AwaitingFundsReport, fundAndResume, holdAwaitingFunds, type HoldPass, resumeCampaign, runAwaitingFunds } from './funds.js';
export { recordResults, recordResultsGrouped, recordResultsIn } from './hold.js';
export { markPayoutCompleted, markPayoutFailed, PAYOUT_LIMITS, type PayoutRunReport, runPayouts } from './payout.js';
export { approveDue, approveReviewedResult, rejectResult } from './release.js';
export { refundGuarantee, returnFees, reversePaidResult } from './reversal.js';
export {
  approveAllDue,
  type CampaignSettlement,
  endCampaignsPastEnd,
  runSettlement,
  settleCampaign,
  SETTLEMENT_LIMITS,
  type SettlementFailure,
  type SettlementOptions,
  type SettlementReport,
} from './settle.js';
export { confirmViewReport } from './view-report.js';
export { recordVerifiedViewResults, VIEW_RESULTS, type ViewResultsRun } from './views.js';
export { startBackgroundWork } from './jobs/index.js';
export { fitDueCampaigns, SCHEDULE_LIMITS, type ScheduleReport, startAttributionFits } from './jobs/fits.js';
export { type HoldExpiry, type HoldExpiryOptions, startHoldExpiry } from './jobs/hold-expiry.js';
export { IDEMPOTENCY_PURGE_INTERVAL_MS, startIdempotencyPurge } from './jobs/idempotency.js';
export { payoutProviderOf, runPayoutsFor, startPayouts, usePayoutProvider } from './jobs/payouts.js';
export { logReport, startSettlement } from './jobs/settlement.js';
export { startClickTracker, startViewTracker } from './jobs/trackers.js';
export { createServices, type Services } from './services.js';

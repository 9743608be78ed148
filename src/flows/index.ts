/**
 * Every journey that spans modules, and the process's background work: where a click becomes a hold
 * and a hold a payout (docs/architecture.md walks them in order).
 */
export { startBackgroundWork } from './jobs/index.js';
export { fitDueCampaigns, SCHEDULE_LIMITS, type ScheduleReport, startAttributionFits } from './jobs/fits.js';
export { type HoldExpiry, type HoldExpiryOptions, startHoldExpiry } from './jobs/hold-expiry.js';
export { IDEMPOTENCY_PURGE_INTERVAL_MS, startIdempotencyPurge } from './jobs/idempotency.js';
export { payoutProviderOf, runPayoutsFor, startPayouts, usePayoutProvider } from './jobs/payouts.js';
export { logReport, startSettlement } from './jobs/settlement.js';
export { startClickTracker, startViewTracker } from './jobs/trackers.js';
export { createServices, type Services } from './services.js';

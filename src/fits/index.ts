/**
 * Data-driven attribution on the server: each campaign's `markov` or `shapley` model fitted over its
 * journeys from the database, on demand (`POST /v1/campaigns/{id}/attribution/fit`) and on a schedule
 * (ATTRIBUTION_FIT_INTERVAL_MS), kept as an append-only history in `attribution_fits` (migration 0015).
 * The latest fit per campaign and model is in force: `latestFit` gives it to `fittedShares` when a
 * conversion is split. The models themselves are pure (src/attribution); this folder reads and writes
 * the database. docs/attribution.md "Per-campaign fits".
 */
export { fitCampaign, latestFit, latestStoredFit } from './fits.js';
export { dataDrivenCampaigns } from './repository.js';
export type { FitCampaignOptions, StoredFit } from './fits.js';
export { CONVERTING_STATUSES, JOURNEY_LIMITS, campaignJourneys, campaignSnapshot } from './journeys.js';
export type { CampaignJourneys, CampaignSnapshot } from './journeys.js';

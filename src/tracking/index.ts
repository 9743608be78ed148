/**
 * Click tracking: `GET /c/{code}` redirects to the campaign's destination with `ern_cid=<click id>`,
 * and every accepted click goes through a bounded in-memory buffer to a batched writer that flags
 * bots, HEAD requests and repeats, and turns valid CPC clicks into results. See docs/tracking.md.
 */
export { CLICK_ID_PARAM, landingUrl, parseDestination } from './destination.js';
export { CLICK_STATUSES, type ClickStatus, countryFrom, isAutomatedAgent, REPEAT_WINDOW_MS } from './flags.js';
export { type Click, type ClickFilter, ipHashSalt, listClicks } from './repository.js';
export { type BillableClick, ClickTracker, type ClickTrackerOptions, hashIp, type RecordClickResults, TRACKING_LIMITS, type Visit } from './tracker.js';
export { type BrowserSnippet, browserSnippet } from './snippet.js';
export { parseViewBeacon, type ViewBeacon, viewBeaconBody, VIEW_BEACON_LIMITS } from './view-beacon.js';
export { type ClickForView, clicksByIds, clockOffsetMs, insertVerifiedViews, type NewVerifiedView, setViewBatchResults, takeViewBatch, unbatchedViewCounts, unrecordedViewBatches, VERIFIED_VIEW_STATUSES, type VerifiedView, type VerifiedViewStatus, type ViewBatch } from './repository.js';
export { VIEW_DURATION_MS, VIEW_RATIO, type ViewKind } from './view-timer.js';
export { type BeaconVisit, ViewTracker, type ViewTrackerOptions, type ViewTrackerStats, VIEW_TRACKING_LIMITS } from './view-tracker.js';

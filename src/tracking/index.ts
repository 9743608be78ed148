import type { Services } from '../api/services.js';
import { ClickTracker } from './tracker.js';

/**
 * Click tracking: `GET /c/{code}` redirects to the campaign's destination with `ern_cid=<click id>`,
 * and every accepted click goes through a bounded in-memory buffer to a batched writer that flags
 * bots, HEAD requests and repeats, and turns valid CPC clicks into results. See docs/tracking.md.
 */
export { CLICK_ID_PARAM, landingUrl, parseDestination } from './destination.js';
export { CLICK_STATUSES, type ClickStatus, countryFrom, isAutomatedAgent, REPEAT_WINDOW_MS } from './flags.js';
export { type Click, type ClickFilter, listClicks } from './repository.js';
export { ClickTracker, type ClickTrackerOptions, hashIp, TRACKING_LIMITS, type Visit } from './tracker.js';
export { type BrowserSnippet, browserSnippet } from './snippet.js';

/** The server's tracker: flushes every CLICK_FLUSH_INTERVAL_MS; its stop() writes every accepted click. */
export function startClickTracker(services: Services): ClickTracker {
  return new ClickTracker(services.db, { flushIntervalMs: services.config.CLICK_FLUSH_INTERVAL_MS, logger: services.logger }).start();
}

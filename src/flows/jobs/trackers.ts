import { ClickTracker, ViewTracker } from '../../tracking/index.js';
import { recordClickResults } from '../click.js';
import type { Services } from '../services.js';

/** The server's tracker: flushes every CLICK_FLUSH_INTERVAL_MS, hands billable clicks to ../click.ts; its stop() writes every accepted click. */
export function startClickTracker(services: Services): ClickTracker {
  return new ClickTracker(services.db, { flushIntervalMs: services.config.CLICK_FLUSH_INTERVAL_MS, logger: services.logger, recordClickResults }).start();
}

/** The server's view beacon writer: flushes as often as the click writer; its stop() writes every accepted beacon. */
export function startViewTracker(services: Services): ViewTracker {
  return new ViewTracker(services.db, { flushIntervalMs: services.config.CLICK_FLUSH_INTERVAL_MS, logger: services.logger }).start();
}

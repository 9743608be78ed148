import type { Services } from '../api/services.js';

/**
 * Click tracking: the redirect appends accepted clicks to a bounded buffer; a writer flushes it in
 * batches (placeholder until the tracking work lands).
 */
export interface ClickTracker {
  /** Writes every accepted click still buffered. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export function startClickTracker(_services: Services): ClickTracker {
  return { flush: async () => {}, stop: async () => {} };
}

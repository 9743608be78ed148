import type { Services } from '../api/services.js';

/** Background payouts (placeholder until the payouts work lands). */
export function startPayouts(_services: Services): { stop(): Promise<void> } {
  return { stop: async () => {} };
}

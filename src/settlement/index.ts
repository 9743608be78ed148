import type { Services } from '../api/services.js';

/** Background settlement (placeholder until the settlement work lands). */
export function startSettlement(_services: Services): { stop(): Promise<void> } {
  return { stop: async () => {} };
}

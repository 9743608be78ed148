import { type PayoutProvider, payoutProviderFromConfig } from '../../payouts/index.js';
import { runPayouts } from '../index.js';
import { type Periodic, startRepeating } from '../../runtime/index.js';
import type { Services } from '../services.js';

const providers = new WeakMap<Services, PayoutProvider>();

/** The process's payout provider (from PAYOUT_PROVIDER), made on first use. */
export function payoutProviderOf(services: Services): PayoutProvider {
  let provider = providers.get(services);
  if (!provider) {
    provider = payoutProviderFromConfig(services.config);
    providers.set(services, provider);
  }
  return provider;
}

/** Replaces the process's payout provider (tests, embedders). */
export function usePayoutProvider(services: Services, provider: PayoutProvider): void {
  providers.set(services, provider);
}

export function runPayoutsFor(services: Services) {
  return runPayouts(services.db, payoutProviderOf(services), { minimumMinor: BigInt(services.config.PAYOUT_MINIMUM_MINOR) });
}

/** Pays out every PAYOUT_INTERVAL_MS when that is above 0; otherwise only on demand. */
export function startPayouts(services: Services): Periodic {
  if (services.config.PAYOUT_INTERVAL_MS === 0) return { stop: async () => {} };
  return startRepeating({
    name: 'payouts',
    intervalMs: services.config.PAYOUT_INTERVAL_MS,
    logger: services.logger,
    work: async () => {
      const r = await runPayoutsFor(services);
      if (r.batches.length > 0) services.logger.info('payouts', { batches: r.batches.length, sent: r.sent, completed: r.completed, failed: r.failed });
    },
  });
}

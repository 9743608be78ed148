import { finishRecordingConversions, type Presenter, recordVerifiedViewResults, VIEW_RESULTS } from '../index.js';
import { finishPendingMovements, MOVEMENT_RECOVERY } from '../../payments/index.js';
import { errorFields, startPeriodic } from '../../runtime/index.js';
import type { Services } from '../services.js';
import { startAttributionFits } from './fits.js';
import { startHoldExpiry } from './hold-expiry.js';
import { startIdempotencyPurge } from './idempotency.js';
import { startPayouts } from './payouts.js';
import { startSettlement } from './settlement.js';
import { startClickTracker, startViewTracker } from './trackers.js';

/**
 * The process's background work: the click and view beacon writers, verified view results, settlement, payouts, attribution fits, recovery, purges and hold
 * expiry. Each registers its stop, which runs (last started, first stopped) before the database closes. Started only
 * once the port is ours: a start that cannot listen leaves nothing running against a database about to close.
 * `presentConversion` is the API's answer to a conversion, which recovery stores as a retry would.
 */
export function startBackgroundWork(services: Services, p: { presentConversion: Presenter }): void {
  const tracker = startClickTracker(services);
  services.tracker = tracker;
  services.onStop(() => tracker.stop());
  const views = startViewTracker(services);
  services.views = views;
  services.onStop(() => views.stop());
  // Verified views become 'views' results, batched per enrolment (src/tracking/view-results.ts).
  const viewResults = startPeriodic({
    name: 'verified view results',
    intervalMs: VIEW_RESULTS.interval_ms,
    logger: services.logger,
    run: async () => (await recordVerifiedViewResults(services.db)).recorded >= VIEW_RESULTS.batches_per_run_max,
  });
  services.onStop(() => viewResults.stop());
  const settlement = startSettlement(services);
  services.onStop(() => settlement.stop());
  const payouts = startPayouts(services);
  services.onStop(() => payouts.stop());
  const fits = startAttributionFits(services);
  services.onStop(() => fits.stop());
  // Conversions left half-recorded by a crash are finished as a retry would finish them.
  const recovery = startPeriodic({
    name: 'conversion recovery',
    intervalMs: 60_000,
    logger: services.logger,
    run: async () => (await finishRecordingConversions(services.db, p.presentConversion)) >= 100,
  });
  services.onStop(() => recovery.stop());
  // Deposits and withdrawals left pending (a crash, a provider that did not answer) are finished as a retry would finish them.
  const movements = startPeriodic({
    name: 'money movement recovery',
    intervalMs: 60_000,
    logger: services.logger,
    run: async () => {
      const r = await finishPendingMovements(services.db, services.payments);
      for (const e of r.errors) services.logger.error('money movement not finished', { movement_id: e.id, ...errorFields(e.error) });
      return r.found >= MOVEMENT_RECOVERY.limit_default && r.errors.length === 0;
    },
  });
  services.onStop(() => movements.stop());
  // Idempotency-Key records past their retention are deleted (src/idempotency).
  const idempotencyPurge = startIdempotencyPurge({ db: services.db, logger: services.logger });
  services.onStop(() => idempotencyPurge.stop());
  const expiry = startHoldExpiry({ db: services.db, intervalMs: services.config.HOLD_EXPIRY_INTERVAL_MS, logger: services.logger });
  services.onStop(() => expiry.stop());
}

/** On an empty database, the first operator key; never again once one exists. */

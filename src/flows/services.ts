import type { Kysely } from 'kysely';
import { type Config, publicUrl } from '../config/index.js';
import type { Database } from '../db/index.js';
import { LedgerBatcher } from '../ledger/index.js';
import { type PaymentProvider, testPaymentProvider } from '../payments/index.js';
import { type Logger, RateLimiter } from '../runtime/index.js';
import type { ClickTracker, ViewTracker } from '../tracking/index.js';
import { Authenticator } from '../tenants/index.js';

/**
 * What request handlers and background jobs share in one process: the database, the ledger's
 * group-commit client, key verification, rate limits and providers. Built once at start; `stop()`
 * finishes pending work (later: the click buffer) before the database closes.
 */
export interface Services {
  readonly db: Kysely<any>;
  readonly database: Database<any>;
  readonly config: Config;
  readonly logger: Logger;
  readonly auth: Authenticator;
  readonly limiter: RateLimiter;
  readonly ledger: LedgerBatcher;
  readonly payments: PaymentProvider;
  /**
   * This server's public base URL, without a trailing slash: PUBLIC_URL, or else (set by the server
   * once it listens) http://<host>:<the port it got>.
   */
  publicUrl: string;
  /** The click buffer behind the redirect (set by the server at start). */
  tracker: ClickTracker | undefined;
  /** The view beacons' buffer behind `POST /b/view` (set by the server at start). */
  views: ViewTracker | undefined;
  /** Registered stop hooks run in reverse order of registration. */
  onStop(hook: () => Promise<void>): void;
  stop(): Promise<void>;
}

export function createServices(database: Database<any>, config: Config, logger: Logger): Services {
  const hooks: Array<() => Promise<void>> = [];
  const ledger = new LedgerBatcher(database.db, { maxInFlight: database.engine === 'pglite' ? 1 : 2 });
  return {
    db: database.db,
    database,
    config,
    logger,
    publicUrl: publicUrl(config),
    auth: new Authenticator(database.db),
    limiter: new RateLimiter(
      { api: config.RATE_LIMIT_API_PER_MIN, conversions: config.RATE_LIMIT_CONVERSIONS_PER_MIN, clicks: config.RATE_LIMIT_CLICKS_PER_MIN },
      { trustProxy: config.TRUST_PROXY },
    ),
    ledger,
    payments: testPaymentProvider,
    tracker: undefined,
    views: undefined,
    onStop(hook) {
      hooks.push(hook);
    },
    async stop() {
      for (const hook of hooks.reverse()) await hook();
      await ledger.drain();
    },
  };
}

import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { enrolmentsByIds } from '../campaigns/index.js';
import { isSystemic } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { newId } from '../ids/index.js';
import { errorFields, type Logger } from '../runtime/index.js';
import { defaultDatacenterRanges } from '../validation/index.js';
import { ClickBuffer } from './click-buffer.js';
import { statusAtAccept } from './flags.js';
import { ipHashSalt } from './repository.js';
import { hashIp } from './tracker.js';
import type { ViewBeacon } from './view-beacon.js';
import { type ClickForView, clicksByIds, clockOffsetMs, insertVerifiedViews, type NewVerifiedView, type VerifiedViewStatus } from './repository.js';

/**
 * The writer behind `POST /b/view` (docs/tracking.md#viewability-beacons), built like the click
 * tracker: the endpoint checks the beacon's shape, pushes it onto a bounded buffer and answers 202 —
 * it never waits for the database (except for backpressure when the buffer is full, and the IP-hash
 * salt at the very first beacon). A writer flushes the buffer in batches: it attributes each view to
 * the newest of the visitor's clicks on a CPM campaign, judges the visitor by the click rules (bot
 * user agent, data-centre address, a flagged click), and inserts; one view per visitor, element and
 * enrolment (the table's unique key). A batch the database refuses is split down to the view at
 * fault, which is dropped and logged: one bad beacon never fails the others. Results are recorded
 * apart, by the verified-views job (view-results.ts).
 */
export const VIEW_TRACKING_LIMITS = {
  batch_size_max: 1_000,
  buffer_capacity: 50_000,
  retry_backoff_max_ms: 5_000,
  stop_attempts_max: 10,
} as const;

/** What the endpoint knows of a beacon's request (the client IP is hashed by the writer, never stored). */
export interface BeaconVisit {
  ip: string;
  userAgent: string | null;
}

interface Accepted {
  id: string;
  acceptedMs: number;
  beacon: ViewBeacon;
  visit: BeaconVisit;
}

export interface ViewTrackerOptions {
  flushIntervalMs: number;
  logger: Logger;
  datacenter?: (ip: string) => string | undefined;
  batchSize?: number;
  capacity?: number;
}

export interface ViewTrackerStats {
  buffered: number;
  /** Views stored (flagged ones included). */
  written: number;
  /** Beacons whose view was there already for the visitor, element and enrolment. */
  duplicates: number;
  /** Beacons none of whose click ids is a click on a CPM campaign (nothing to credit). */
  unattributed: number;
  /** Beacons the database refused even alone (dropped, logged). */
  refused: number;
}

export class ViewTracker {
  readonly #db: Kysely<any>;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #batchSize: number;
  readonly #buffer: ClickBuffer<Accepted>;
  readonly #datacenter: (ip: string) => string | undefined;
  #salt: string | undefined;
  #saltLoading: Promise<string> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #stopped = false;
  #failures = 0;
  #retryAtMs = 0;
  readonly #stats = { written: 0, duplicates: 0, unattributed: 0, refused: 0 };

  constructor(db: Kysely<any>, options: ViewTrackerOptions) {
    this.#db = db;
    this.#logger = options.logger;
    this.#intervalMs = options.flushIntervalMs;
    this.#batchSize = Math.min(options.batchSize ?? VIEW_TRACKING_LIMITS.batch_size_max, VIEW_TRACKING_LIMITS.batch_size_max);
    this.#buffer = new ClickBuffer(options.capacity ?? VIEW_TRACKING_LIMITS.buffer_capacity);
    this.#datacenter = options.datacenter ?? ((ip) => defaultDatacenterRanges().match(ip));
  }

  start(): this {
    this.#timer = setInterval(() => this.#kick(), this.#intervalMs);
    this.#timer.unref();
    this.#saltFor().catch((e) => this.#logger.warn('could not read the IP hash salt yet; retried at the first beacon', errorFields(e)));
    return this;
  }

  get stats(): ViewTrackerStats {
    return { buffered: this.#buffer.size + this.#buffer.waiting, ...this.#stats };
  }

  /** Accepts a checked beacon; synchronous unless the buffer is full (then it resolves once there is room). */
  accept(beacon: ViewBeacon, visit: BeaconVisit): Promise<void> | undefined {
    if (this.#stopped) throw new AppError('database_unavailable', 'the server is stopping; try again');
    const admitted = this.#buffer.push({ id: newId('vw'), acceptedMs: Date.now(), beacon, visit });
    if (admitted || this.#buffer.size >= this.#batchSize) this.#kick();
    return admitted;
  }

  /** Writes every buffered beacon now; throws if the database refuses. */
  async flush(): Promise<void> {
    for (;;) {
      const running = this.#writing;
      if (running) {
        await running.catch(() => {});
        continue;
      }
      await this.#write(true);
      if (this.#buffer.size === 0 && this.#buffer.waiting === 0) return;
    }
  }

  /** Stops the timer and writes what is buffered, retrying a failing database a bounded number of times. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.flush();
        return;
      } catch (e) {
        if (attempt >= VIEW_TRACKING_LIMITS.stop_attempts_max) {
          throw new Error(`${this.#buffer.size + this.#buffer.waiting} accepted view beacons could not be written at stop: ${(e as Error).message}`, {
            cause: e,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(VIEW_TRACKING_LIMITS.retry_backoff_max_ms, 100 * 2 ** attempt)));
      }
    }
  }

  #saltFor(): Promise<string> {
    this.#saltLoading ??= ipHashSalt(this.#db).then(
      (salt) => (this.#salt = salt),
      (e) => {
        this.#saltLoading = undefined;
        throw e;
      },
    );
    return this.#saltLoading;
  }

  #kick(): void {
    if (this.#writing || Date.now() < this.#retryAtMs) return;
    if (this.#buffer.size === 0 && this.#buffer.waiting === 0) return;
    this.#write(false).catch(() => {
      // Logged and backed off by #writeAll; the beacons stay buffered.
    });
  }

  #write(all: boolean): Promise<void> {
    this.#writing ??= this.#writeAll(all).finally(() => {
      this.#writing = undefined;
    });
    return this.#writing;
  }

  async #writeAll(all: boolean): Promise<void> {
    try {
      let first = true;
      while (this.#buffer.size > 0 && (all || first || this.#buffer.size >= this.#batchSize)) {
        const batch = this.#buffer.peek(this.#batchSize);
        await this.#writeBatch(batch);
        this.#buffer.remove(batch.length);
        first = false;
      }
      this.#failures = 0;
      this.#retryAtMs = 0;
    } catch (e) {
      this.#failures++;
      this.#retryAtMs = Date.now() + Math.min(VIEW_TRACKING_LIMITS.retry_backoff_max_ms, this.#intervalMs * 2 ** this.#failures);
      this.#logger.error('writing view beacons failed; they stay buffered and are retried', { buffered: this.#buffer.size, ...errorFields(e) });
      throw e;
    }
  }

  async #writeBatch(batch: readonly Accepted[]): Promise<void> {
    const salt = this.#salt ?? (await this.#saltFor());
    const offsetMs = await clockOffsetMs(this.#db);
    const clicks = await clicksByIds(this.#db, batch.flatMap((a) => a.beacon.click_ids));
    const enrolments = await enrolmentsByIds(this.#db, [...new Set(clicks.map((c) => c.enrolment_id))]);
    const cpm = new Map(enrolments.map((e) => [e.id, e]));
    const byId = new Map(clicks.map((c) => [c.id, c]));
    const rows: NewVerifiedView[] = [];
    for (const a of batch) {
      const occurredAt = new Date(a.acceptedMs + offsetMs);
      const click = creditedClick(a.beacon, byId, (id) => cpm.get(id)?.terms.objective === 'cpm', occurredAt);
      if (!click) {
        this.#stats.unattributed++;
        continue;
      }
      const enrolment = cpm.get(click.enrolment_id);
      if (!enrolment) continue;
      const ipHash = hashIp(salt, a.visit.ip);
      rows.push({
        id: a.id,
        enrolment_id: enrolment.id,
        campaign_id: enrolment.campaign_id,
        creator_id: enrolment.creator_id,
        click_id: click.id,
        element: a.beacon.element,
        kind: a.beacon.kind,
        visitor_key: visitorKeyOf(ipHash, a.visit.userAgent),
        ip_hash: ipHash,
        user_agent: a.visit.userAgent,
        page_url: a.beacon.page_url ?? null,
        visible_ms: a.beacon.visible_ms,
        occurred_at: occurredAt,
        status: viewStatus(a.visit, click, this.#datacenter),
      });
    }
    const written = await this.#insertIsolating(rows);
    this.#stats.written += written;
  }

  /** Inserts; a refusal that may be one row's (the database is not down) is split down to the row at fault. */
  async #insertIsolating(rows: readonly NewVerifiedView[]): Promise<number> {
    if (rows.length === 0) return 0;
    try {
      const inserted = await insertVerifiedViews(this.#db, rows);
      this.#stats.duplicates += rows.length - inserted;
      return inserted;
    } catch (e) {
      if (isSystemic(e)) throw e;
      if (rows.length === 1) {
        this.#stats.refused++;
        this.#logger.warn('the database refused a view beacon; it is dropped', { view_id: rows[0]?.id, ...errorFields(e) });
        return 0;
      }
      const half = Math.ceil(rows.length / 2);
      return (await this.#insertIsolating(rows.slice(0, half))) + (await this.#insertIsolating(rows.slice(half)));
    }
  }
}

/**
 * The click a view is credited to: of the beacon's click ids that are real clicks on a CPM
 * enrolment (of the beacon's campaign, when it names one) made before the view, the newest — last
 * click, as the conversions' default. Undefined: nothing to credit.
 */
export function creditedClick(
  beacon: Pick<ViewBeacon, 'click_ids' | 'campaign_id'>,
  clicks: ReadonlyMap<string, ClickForView>,
  isCpm: (enrolmentId: string) => boolean,
  at: Date,
): ClickForView | undefined {
  let best: ClickForView | undefined;
  for (const id of beacon.click_ids) {
    const c = clicks.get(id);
    if (!c || !isCpm(c.enrolment_id)) continue;
    if (beacon.campaign_id !== undefined && c.campaign_id !== beacon.campaign_id) continue;
    const t = new Date(c.occurred_at).getTime();
    if (t > at.getTime()) continue;
    if (!best || t > new Date(best.occurred_at).getTime() || (t === new Date(best.occurred_at).getTime() && c.id > best.id)) best = c;
  }
  return best;
}

/**
 * The click rules applied to the beacon's visitor: a bot or automation user agent (isbot and the
 * markers of flags.ts) is `bot`, a data-centre address `datacenter`; a view credited to a click that
 * was itself flagged (a bot's, a HEAD, a data centre's, a forbidden paid ad) is `click_flagged`. A
 * repeat click is the same visitor coming back: its views count. Flagged views are stored, never paid.
 */
export function viewStatus(visit: BeaconVisit, click: Pick<ClickForView, 'status'>, datacenter: (ip: string) => string | undefined): VerifiedViewStatus {
  if (statusAtAccept('POST', visit.userAgent) !== 'valid') return 'bot';
  if (datacenter(visit.ip) !== undefined) return 'datacenter';
  if (click.status !== 'valid' && click.status !== 'repeat') return 'click_flagged';
  return 'valid';
}

/** One visitor as the click rules know one (IP hash and user agent): what de-duplicates views. */
export function visitorKeyOf(ipHash: string, userAgent: string | null): string {
  return createHash('sha256').update(ipHash).update('\n').update(userAgent ?? '').digest('hex').slice(0, 32);
}

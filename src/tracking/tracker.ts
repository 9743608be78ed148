import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { enrolmentById, enrolmentByLinkCode, type EnrolmentWithTerms } from '../campaigns/index.js';
import { inTransaction, isSystemic } from '../db/index.js';
import { AppError, assert, isAppError } from '../errors/index.js';
import { newId } from '../ids/index.js';
import { defaultDatacenterRanges } from '../validation/index.js';
import { errorFields, type Logger } from '../runtime/index.js';
import { badCharacter } from '../wire/index.js';
import { type Destination, landingUrl, parseDestination } from './destination.js';
import { type ClickStatus, markRepeats, REPEAT_WINDOW_MS, statusAtAccept, visitorKey } from './flags.js';
import { ClickBuffer } from './click-buffer.js';
import { TtlCache, type TtlCacheOptions } from './link-cache.js';
import { clicksAwaitingResult, insertClicks, ipHashSalt, lockWriterAndReadClockOffsetMs, type NewClick, setResultIds, writtenValidClicks } from './repository.js';

/**
 * The click tracker behind `GET /c/{code}`: the redirect looks the link up in memory, appends the
 * click to a bounded buffer and answers; a writer flushes the buffer in batches (every
 * `flushIntervalMs`, or at once when a full batch is waiting), flags repeats against the database and
 * the batch, and turns valid CPC clicks into results. The redirect never waits for a database write,
 * except for backpressure when the buffer is full, and at the very first click of a fresh installation
 * while the IP-hash salt is made.
 */
export const TRACKING_LIMITS = {
  batch_size_max: 1_000,
  buffer_capacity: 100_000,
  link_cache_entries: 10_000,
  link_ttl_ms: 60_000,
  unknown_link_ttl_ms: 10_000,
  /** Billable clicks taken per round when recording results left over by a crash. */
  recovery_batch: 1_000,
  recovery_rounds_max: 10,
  /** After a failed recovery (say, a result that cannot be recorded), the next try waits this long. */
  recovery_retry_ms: 60_000,
  retry_backoff_max_ms: 5_000,
  stop_attempts_max: 10,
} as const;

/** What the redirect knows of a visit; the HTTP layer extracts it (client IP, trusted country header). */
export interface Visit {
  method: string;
  ip: string;
  userAgent: string | null;
  referrer: string | null;
  country: string | null;
  /** The first-party visitor id from the tracking domain's cookie (set by the redirect), if any. */
  visitorId: string | null;
  /** The ad click id parameter (gclid, fbclid…) the tracking link was opened with, if any. */
  adClickParam: string | null;
}

interface Link {
  enrolment: EnrolmentWithTerms;
  destination: Destination;
  /** Valid clicks of a CPC campaign are paid. */
  cpc: boolean;
}

/** A click as the redirect accepted it; its IP hash and status are worked out by the writer. */
interface Accepted {
  id: string;
  /** Date.now() when the redirect accepted it; the database clock's offset is added at write time. */
  acceptedMs: number;
  link: Link;
  visit: Visit;
  landingUrl: string;
}

/** A click in the database, as its result needs it. */
interface Written {
  clickId: string;
  occurredAt: Date;
  billable: boolean;
  enrolment: EnrolmentWithTerms;
  /** The visitor's country (the trusted header), for rate overrides by country. */
  country: string | null;
}

/** A valid click of a CPC campaign, written: what its result needs. */
export interface BillableClick {
  clickId: string;
  occurredAt: Date;
  enrolment: EnrolmentWithTerms;
  /** The visitor's country (the trusted header), for rate overrides by country. */
  country: string | null;
}

/**
 * The CPC hand-off: records the results (and holds) of billable clicks, idempotent on the click id,
 * and answers one result id per click, in order. A flow's (src/flows/click.ts), injected by whoever
 * builds the tracker: tracking cannot import flows.
 */
export type RecordClickResults = (db: Kysely<any>, clicks: readonly BillableClick[]) => Promise<string[]>;

export interface ClickTrackerOptions {
  flushIntervalMs: number;
  /** Turns billable clicks into results (src/flows/click.ts `recordClickResults`). */
  recordClickResults: RecordClickResults;
  /** The provider of a data-centre IP, else undefined (default: the shipped ranges). */
  datacenter?: (ip: string) => string | undefined;
  logger: Logger;
  batchSize?: number;
  capacity?: number;
  cache?: Partial<TtlCacheOptions>;
}

/** Link codes are short base32-ish tokens; anything else is unknown without asking the database. */
const CODE = /^[A-Za-z0-9_-]{1,64}$/;

/** One insert attempt: the rows written, the clicks refused even alone, and why (the first refusal). */
interface Insertion {
  written: Written[];
  refused: Accepted[];
  error: unknown;
}

export class ClickTracker {
  readonly #db: Kysely<any>;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #batchSize: number;
  readonly #buffer: ClickBuffer<Accepted>;
  readonly #links: TtlCache<Link>;
  readonly #datacenter: (ip: string) => string | undefined;
  readonly #recordClickResults: RecordClickResults;
  #salt: string | undefined;
  #saltLoading: Promise<string> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #stopped = false;
  /** A process may have died between writing clicks and their results: look once at start. */
  #recoveryNeeded = true;
  #recoveryRetryAtMs = 0;
  #failures = 0;
  #retryAtMs = 0;
  #written = 0;
  /** Ids of buffered clicks the database refused even alone (kept, retried behind the others). */
  readonly #refused = new Set<string>();

  constructor(db: Kysely<any>, options: ClickTrackerOptions) {
    this.#db = db;
    this.#logger = options.logger;
    this.#intervalMs = options.flushIntervalMs;
    this.#batchSize = Math.min(options.batchSize ?? TRACKING_LIMITS.batch_size_max, TRACKING_LIMITS.batch_size_max);
    this.#buffer = new ClickBuffer(options.capacity ?? TRACKING_LIMITS.buffer_capacity);
    this.#datacenter = options.datacenter ?? ((ip) => defaultDatacenterRanges().match(ip));
    this.#recordClickResults = options.recordClickResults;
    this.#links = new TtlCache((code) => this.#loadLink(code), {
      maxEntries: TRACKING_LIMITS.link_cache_entries,
      hitTtlMs: TRACKING_LIMITS.link_ttl_ms,
      missTtlMs: TRACKING_LIMITS.unknown_link_ttl_ms,
      ...options.cache,
    });
  }

  /** Starts the flush timer and makes (or reads) the salt before the first click needs it. */
  start(): this {
    this.#timer = setInterval(() => this.#kick(), this.#intervalMs);
    this.#timer.unref();
    this.#saltFor().catch((e) => this.#logger.warn('could not read the IP hash salt yet; retried at the first click', errorFields(e)));
    return this;
  }

  /** `refused`: buffered clicks the database refused even alone with their free text cleaned; kept and retried. */
  get stats(): { buffered: number; waiting: number; written: number; refused: number; linkLoads: number } {
    return { buffered: this.#buffer.size, waiting: this.#buffer.waiting, written: this.#written, refused: this.#refused.size, linkLoads: this.#links.loads };
  }

  /**
   * Accepts a click on `code` and returns where to send the visitor; unknown codes are not_found. On
   * the hot path (link cached, salt read, room in the buffer) it answers synchronously — no promise,
   * no database, no hashing: the IP hash and the bot verdict are computed by the writer.
   */
  track(code: string, visit: Visit): string | Promise<string> {
    if (this.#stopped) throw new AppError('database_unavailable', 'the server is stopping; try again');
    if (!CODE.test(code)) throw unknownLink(code);
    const cached = this.#links.peek(code);
    if (cached === undefined || this.#salt === undefined) return this.#trackSlowly(code, visit);
    if (cached.value === undefined) throw unknownLink(code);
    const accepted = this.#accept(cached.value, visit);
    return accepted.admitted ? accepted.admitted.then(() => accepted.landing) : accepted.landing;
  }

  async #trackSlowly(code: string, visit: Visit): Promise<string> {
    const link = await this.#lookup(code);
    if (!link) throw unknownLink(code);
    await this.#saltFor();
    const accepted = this.#accept(link, visit);
    if (accepted.admitted) await accepted.admitted;
    return accepted.landing;
  }

  #accept(link: Link, visit: Visit): { landing: string; admitted: Promise<void> | undefined } {
    const id = newId('clk');
    const landing = landingUrl(link.destination, id);
    const admitted = this.#buffer.push({ id, acceptedMs: Date.now(), link, visit, landingUrl: landing });
    if (admitted || this.#buffer.size >= this.#batchSize) this.#kick();
    return { landing, admitted };
  }

  /** Writes every buffered click (and any waiting for room) now; throws if the database refuses. */
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

  /**
   * Stops the timer and writes every accepted click before returning, retrying a failing database a
   * bounded number of times; if it still fails, throws (the process then exits non-zero).
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.flush();
        return;
      } catch (e) {
        if (attempt >= TRACKING_LIMITS.stop_attempts_max) {
          const left = this.#buffer.size + this.#buffer.waiting;
          throw new Error(`${left} accepted clicks could not be written at stop: ${(e as Error).message}`, { cause: e });
        }
        await sleep(Math.min(TRACKING_LIMITS.retry_backoff_max_ms, 100 * 2 ** attempt));
      }
    }
  }

  async #lookup(code: string): Promise<Link | undefined> {
    try {
      return await this.#links.get(code);
    } catch (e) {
      if (isAppError(e)) throw e;
      this.#logger.error('tracking link lookup failed', errorFields(e));
      throw new AppError('database_unavailable', 'the tracking link cannot be looked up right now; try again', { cause: e });
    }
  }

  async #loadLink(code: string): Promise<Link | undefined> {
    const enrolment = await enrolmentByLinkCode(this.#db, code);
    if (!enrolment) return undefined;
    return { enrolment, destination: parseDestination(enrolment.terms.destination_url), cpc: enrolment.terms.objective === 'cpc' };
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

  /** Starts a background write unless one runs or the last one failed a moment ago. */
  #kick(): void {
    if (this.#writing || Date.now() < this.#retryAtMs) return;
    if (this.#buffer.size === 0 && this.#buffer.waiting === 0 && !this.#recoveryNeeded) return;
    this.#write(false).catch(() => {
      // Logged (and backed off) by #writeAll; the clicks stay buffered for the next attempt.
    });
  }

  #write(all: boolean): Promise<void> {
    this.#writing ??= this.#writeAll(all).finally(() => {
      this.#writing = undefined;
    });
    return this.#writing;
  }

  /**
   * A timer tick (or a full batch) writes one batch, then keeps going while full batches wait; the
   * remainder waits for the next tick. `all` (flush, stop) writes until the buffer is empty.
   */
  async #writeAll(all: boolean): Promise<void> {
    if (this.#recoveryNeeded && Date.now() >= this.#recoveryRetryAtMs) await this.#recordLeftoverResults();
    try {
      let first = true;
      while (this.#buffer.size > 0 && (all || first || this.#buffer.size >= this.#batchSize)) {
        const batch = this.#buffer.peek(this.#batchSize);
        await this.#writeBatch(batch);
        first = false;
      }
      this.#failures = 0;
      this.#retryAtMs = 0;
    } catch (e) {
      this.#failures++;
      this.#retryAtMs = Date.now() + Math.min(TRACKING_LIMITS.retry_backoff_max_ms, this.#intervalMs * 2 ** this.#failures);
      this.#logger.error('writing clicks failed; they stay buffered and are retried', { buffered: this.#buffer.size, ...errorFields(e) });
      throw e;
    }
  }

  async #writeBatch(batch: readonly Accepted[]): Promise<void> {
    const salt = this.#salt ?? (await this.#saltFor());
    const judged = await judgeVisits(batch, salt, this.#datacenter);
    const { written, refused, error } = await this.#insertIsolating(batch, judged);
    // Nothing of the batch went in: it stays buffered as it is and the write fails (retried later).
    if (refused.length === batch.length) throw error;
    this.#buffer.remove(batch.length);
    if (refused.length > 0) {
      // Never dropped — the visitor was redirected and the click is real — but queued behind the
      // others, so one click the database refuses never holds up the clicks after it.
      this.#buffer.requeue(refused);
      for (const c of refused) this.#refused.add(c.id);
      this.#logger.warn('the database refused clicks even alone; they stay buffered and are retried', {
        click_ids: refused.map((c) => c.id),
        ...errorFields(error),
      });
    }
    if (this.#refused.size > 0) for (const c of batch) if (!refused.includes(c)) this.#refused.delete(c.id);
    this.#written += batch.length - refused.length;
    // Fewer rows than clicks: an earlier attempt committed the batch but its acknowledgement was lost;
    // that attempt's results (if any) are found by the recovery.
    if (written.length < batch.length - refused.length) this.#recoveryNeeded = true;
    try {
      await this.#recordBillable(written);
    } catch (e) {
      // The clicks are safely written; their results are recorded by the next write's recovery.
      this.#recoveryNeeded = true;
      this.#logger.error('recording results for written clicks failed; retried at the next write', errorFields(e));
    }
  }

  /**
   * Inserts a batch; when the database refuses it for a reason that may be one click's (not because
   * it is down), each half is written again, in order, down to the click at fault — so one bad click
   * never holds up the others. Answers what was written and the clicks refused even alone.
   */
  async #insertIsolating(batch: readonly Accepted[], judged: readonly Judged[]): Promise<Insertion> {
    try {
      return { written: await inTransaction(this.#db, (trx) => insertBatch(trx, batch, judged)), refused: [], error: undefined };
    } catch (e) {
      if (isSystemic(e)) throw e;
      if (batch.length === 1) return this.#insertAlone(batch[0] as Accepted, judged[0] as Judged, e);
      const half = Math.ceil(batch.length / 2);
      const first = await this.#insertIsolating(batch.slice(0, half), judged.slice(0, half));
      const second = await this.#insertIsolating(batch.slice(half), judged.slice(half));
      return { written: [...first.written, ...second.written], refused: [...first.refused, ...second.refused], error: first.error ?? second.error };
    }
  }

  /**
   * A click refused on its own: the visitor was already redirected, so it is kept — written with its
   * free text (user agent, referrer) cleaned of what the database refuses, or else answered as refused
   * (it stays buffered, logged, counted in `stats.refused`, and is tried again later).
   */
  async #insertAlone(click: Accepted, judged: Judged, error: unknown): Promise<Insertion> {
    const cleaned = { ...click, visit: { ...click.visit, userAgent: cleanText(click.visit.userAgent), referrer: cleanText(click.visit.referrer) } };
    try {
      const written = await inTransaction(this.#db, (trx) => insertBatch(trx, [cleaned], [judged]));
      this.#logger.warn('a click was written with its user agent or referrer cleaned', { click_id: click.id, ...errorFields(error) });
      return { written, refused: [], error: undefined };
    } catch (e) {
      if (isSystemic(e)) throw e;
      return { written: [], refused: [click], error: e };
    }
  }

  /** One recordClickResults call (the flow src/flows/click.ts) for all the batch's billable clicks, then their result ids on the rows. */
  async #recordBillable(written: readonly Written[]): Promise<void> {
    const billable = written.filter((w) => w.billable);
    if (billable.length === 0) return;
    const resultIds = await this.#recordClickResults(this.#db, billable);
    assert(resultIds.length === billable.length, 'recordClickResults answers one result per click');
    await setResultIds(this.#db, resultIds.map((resultId, i) => ({ clickId: (billable[i] as Written).clickId, resultId })));
  }

  /**
   * Billable clicks written without a result — a process died between the two steps, or recording
   * failed — get it now. Bounded rounds; the hand-off is idempotent on the click id, so a process
   * doing the same at the same moment records nothing twice.
   */
  async #recordLeftoverResults(): Promise<void> {
    try {
      for (let round = 0; round < TRACKING_LIMITS.recovery_rounds_max; round++) {
        const orphans = await clicksAwaitingResult(this.#db, TRACKING_LIMITS.recovery_batch);
        if (orphans.length === 0) {
          this.#recoveryNeeded = false;
          return;
        }
        const enrolments = new Map<string, EnrolmentWithTerms>();
        for (const id of new Set(orphans.map((o) => o.enrolment_id))) {
          const e = await enrolmentById(this.#db, id);
          assert(e, `click enrolment ${id} exists`);
          enrolments.set(id, e);
        }
        const written = orphans.map((o) => ({
          clickId: o.id,
          occurredAt: o.occurred_at,
          country: o.country,
          billable: true,
          enrolment: enrolments.get(o.enrolment_id) as EnrolmentWithTerms,
        }));
        await this.#recordBillable(written);
        this.#logger.warn('recorded results for clicks written without one', { clicks: orphans.length });
      }
    } catch (e) {
      this.#recoveryRetryAtMs = Date.now() + TRACKING_LIMITS.recovery_retry_ms;
      this.#logger.error('recording results for earlier clicks failed; retried in a minute', errorFields(e));
    }
  }
}

export function hashIp(salt: string, ip: string): string {
  return createHash('sha256').update(salt).update('\n').update(ip).digest('hex');
}

/** Visitors come back and share addresses (NAT): the writer remembers recent hashes instead of rehashing. */
const IP_HASHES_MAX = 10_000;

function memoisedHashIp(): (salt: string, ip: string) => string {
  let forSalt = '';
  const hashes = new Map<string, string>();
  return (salt, ip) => {
    if (salt !== forSalt) {
      hashes.clear();
      forSalt = salt;
    }
    let hash = hashes.get(ip);
    if (hash === undefined) {
      hash = hashIp(salt, ip);
      if (hashes.size >= IP_HASHES_MAX) hashes.clear();
      hashes.set(ip, hash);
    }
    return hash;
  };
}

const hashIpMemoised = memoisedHashIp();

/** Inside one transaction: lock out other writers, flag repeats, insert. Returns the rows inserted. */
/** What the writer works out for each click: its IP hash and its status before repeats are looked for. */
interface Judged {
  ipHash: string;
  status: ClickStatus;
}

/** Clicks judged between two yields to the event loop: a batch of 1,000 never holds up redirects for long. */
const JUDGE_CHUNK = 200;

/**
 * Hashes and bot checks for a batch, in chunks with a yield to the event loop between them: this is
 * the writer's CPU-heavy part, and redirects answered meanwhile keep their latency low.
 */
async function judgeVisits(batch: readonly Accepted[], salt: string, datacenter: (ip: string) => string | undefined): Promise<Judged[]> {
  const judged: Judged[] = [];
  for (let i = 0; i < batch.length; i++) {
    if (i > 0 && i % JUDGE_CHUNK === 0) await new Promise((resolve) => setImmediate(resolve));
    const { visit, link } = batch[i] as Accepted;
    let status = statusAtAccept(visit.method, visit.userAgent);
    if (status === 'valid' && datacenter(visit.ip) !== undefined) status = 'datacenter';
    if (status === 'valid' && visit.adClickParam !== null && link.enrolment.terms.validation.paid_traffic === 'forbidden') status = 'paid_ad';
    judged.push({ ipHash: hashIpMemoised(salt, visit.ip), status });
  }
  return judged;
}

async function insertBatch(trx: Transaction<any>, batch: readonly Accepted[], judged: readonly Judged[]): Promise<Written[]> {
  const offsetMs = await lockWriterAndReadClockOffsetMs(trx);
  const pending = batch.map((c, i) => ({ row: rowOf(c, offsetMs, judged[i] as Judged), enrolment: c.link.enrolment, cpc: c.link.cpc }));
  await markRepeatsIn(trx, pending.map((p) => p.row));
  for (const p of pending) p.row.billable = p.cpc && p.row.status === 'valid';
  const inserted = await insertClicks(trx, pending.map((p) => p.row));
  return pending
    .filter((p) => inserted.has(p.row.id))
    .map((p) => ({ clickId: p.row.id, occurredAt: p.row.occurred_at, billable: p.row.billable, enrolment: p.enrolment, country: p.row.country }));
}

function rowOf(c: Accepted, offsetMs: number, judged: Judged): NewClick {
  const e = c.link.enrolment;
  return {
    id: c.id,
    enrolment_id: e.id,
    campaign_id: e.campaign_id,
    creator_id: e.creator_id,
    occurred_at: new Date(c.acceptedMs + offsetMs),
    ip_hash: judged.ipHash,
    user_agent: c.visit.userAgent,
    referrer: c.visit.referrer,
    country: c.visit.country,
    landing_url: c.landingUrl,
    visitor_id: c.visit.visitorId,
    status: judged.status,
    billable: false,
  };
}

/** One query for the batch's visitors' valid clicks already written near these times, then the pure rule. */
async function markRepeatsIn(trx: Transaction<any>, rows: NewClick[]): Promise<void> {
  const candidates = rows.filter((r) => r.status === 'valid');
  assert(candidates.every((r) => r.user_agent !== null), 'a click without a user agent is a bot, never valid');
  if (candidates.length === 0) return;
  const times = candidates.map((r) => r.occurred_at.getTime());
  const visitors = new Map(
    candidates.map((r) => [
      visitorKey(r.enrolment_id, r.ip_hash, r.user_agent),
      { enrolmentId: r.enrolment_id, ipHash: r.ip_hash, userAgent: r.user_agent as string },
    ]),
  );
  const written = await writtenValidClicks(trx, {
    visitors: [...visitors.values()],
    from: new Date(Math.min(...times) - REPEAT_WINDOW_MS),
    to: new Date(Math.max(...times) + REPEAT_WINDOW_MS),
  });
  const validTimes = new Map<string, number[]>();
  for (const w of written) {
    const key = visitorKey(w.enrolment_id, w.ip_hash, w.user_agent);
    validTimes.set(key, [...(validTimes.get(key) ?? []), new Date(w.occurred_at).getTime()]);
  }
  const marks = candidates.map((row) => ({ row, key: visitorKey(row.enrolment_id, row.ip_hash, row.user_agent), occurredMs: row.occurred_at.getTime(), status: row.status }));
  markRepeats(marks, validTimes);
  for (const m of marks) m.row.status = m.status;
}

/** Text with every character the database refuses replaced by U+FFFD (only for a click refused as it was). */
function cleanText(text: string | null): string | null {
  if (text === null) return null;
  let out = text;
  for (let bad = badCharacter(out); bad; bad = badCharacter(out)) out = `${out.slice(0, bad.index)}\ufffd${out.slice(bad.index + 1)}`;
  return out;
}

function unknownLink(code: string): AppError {
  return new AppError('not_found', `no tracking link ${code}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

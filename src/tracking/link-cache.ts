/**
 * A bounded LRU with a time to live, in front of the link lookup, so a hot link costs no query:
 * - hits live `hitTtlMs`, misses (unknown codes) `missTtlMs`, so a flood of bad codes costs one query
 *   per code per `missTtlMs` and cannot evict good links for long (the LRU bounds memory either way);
 * - concurrent lookups of one uncached key share one load;
 * - an expired hit whose reload fails is served stale: a redirect should survive a database blip.
 * A change to an enrolment (new terms accepted) is seen within `hitTtlMs` on every process.
 */
export interface TtlCacheOptions {
  maxEntries: number;
  hitTtlMs: number;
  missTtlMs: number;
  /** Milliseconds; injectable so tests move time instead of sleeping. */
  now?: () => number;
}

interface Entry<V> {
  value: V | undefined;
  expiresMs: number;
}

export class TtlCache<V> {
  readonly #load: (key: string) => Promise<V | undefined>;
  readonly #options: Required<TtlCacheOptions>;
  readonly #entries = new Map<string, Entry<V>>();
  readonly #loading = new Map<string, Promise<V | undefined>>();
  #loads = 0;

  constructor(load: (key: string) => Promise<V | undefined>, options: TtlCacheOptions) {
    this.#load = load;
    this.#options = { now: Date.now, ...options };
  }

  /** How many times the loader ran (tests, metrics). */
  get loads(): number {
    return this.#loads;
  }

  get size(): number {
    return this.#entries.size;
  }

  async get(key: string): Promise<V | undefined> {
    const fresh = this.peek(key);
    if (fresh) return fresh.value;
    return this.#refresh(key, this.#entries.get(key));
  }

  /**
   * The fresh cached answer for `key` without waiting (`{value}`, where value undefined means "known
   * unknown"), or undefined when only `get` can tell. Lets a hot path stay synchronous on a hit.
   */
  peek(key: string): { value: V | undefined } | undefined {
    const entry = this.#entries.get(key);
    if (!entry || entry.expiresMs <= this.#options.now()) return undefined;
    // Most recently used goes last: Map keeps insertion order, so the first key is the LRU.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  #refresh(key: string, stale: Entry<V> | undefined): Promise<V | undefined> {
    const inFlight = this.#loading.get(key);
    if (inFlight) return inFlight;
    const loading = this.#loadAndStore(key, stale).finally(() => this.#loading.delete(key));
    this.#loading.set(key, loading);
    return loading;
  }

  async #loadAndStore(key: string, stale: Entry<V> | undefined): Promise<V | undefined> {
    this.#loads++;
    let value: V | undefined;
    try {
      value = await this.#load(key);
    } catch (e) {
      if (stale?.value !== undefined) return stale.value;
      throw e;
    }
    const ttl = value === undefined ? this.#options.missTtlMs : this.#options.hitTtlMs;
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresMs: this.#options.now() + ttl });
    while (this.#entries.size > this.#options.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    return value;
  }
}

import type { Kysely } from 'kysely';
import { PathAggregator } from '../attribution/index.js';
import { convertingJourneyRows, nonConvertingPathRows, snapshotRow } from './repository.js';

type Db = Kysely<any>;

export { CONVERTING_STATUSES } from './repository.js';

/** Limits of one assembly: the size of one page of conversions read. */
export const JOURNEY_LIMITS = { conversions_per_page: 5_000 } as const;

/**
 * What the campaign had when a fit started: the newest click and converting conversion, and how many
 * converting conversions there were. The schedule refits a campaign only when one of these moved. A fit
 * reads no click or conversion with a later id; a conversion that was still recording when the snapshot
 * was taken may be read, and then the count has moved by the next run, which refits.
 */
export interface CampaignSnapshot {
  campaignId: string;
  orgId: string;
  lastClickId: string | null;
  lastConversionId: string | null;
  convertingConversions: number;
}

export interface CampaignJourneys {
  aggregator: PathAggregator;
  /** The earliest and latest touch, click or conversion read; null when nothing was read. */
  window: { from: Date; to: Date } | null;
}

/** Null when the campaign does not exist. */
export async function campaignSnapshot(db: Db, campaignId: string): Promise<CampaignSnapshot | null> {
  const row = await snapshotRow(db, campaignId);
  if (!row) return null;
  return {
    campaignId,
    orgId: row.org_id,
    lastClickId: row.last_click_id,
    lastConversionId: row.last_conversion_id,
    convertingConversions: Number(row.converting),
  };
}

/**
 * A campaign's journeys, converting and not, aggregated into paths (docs/attribution.md):
 * - converting: each converting conversion's touches (conversion_touches) in position order; a
 *   conversion recorded before touches existed is a one-touch journey of its click's creator, or of its
 *   enrolment's creator (a promo code);
 * - not converting: the campaign's valid clicks that are in no converting journey, one journey per
 *   visitor (the redirect's visitor cookie) in time order; a click without a visitor id is a one-touch
 *   journey of its own.
 * Conversions are read in pages of JOURNEY_LIMITS.conversions_per_page; the non-converting journeys are
 * grouped by the database, which returns one row per distinct path, so no page holds the campaign's
 * clicks. Nothing newer than the snapshot is read.
 */
export async function campaignJourneys(db: Db, snapshot: CampaignSnapshot): Promise<CampaignJourneys> {
  const aggregator = new PathAggregator();
  const window = new WindowOf();
  if (snapshot.lastConversionId !== null) {
    for await (const page of convertingPages(db, snapshot)) {
      for (const j of page) {
        aggregator.add(j.path, 1, 0);
        window.add(j.from, j.to);
      }
    }
  }
  if (snapshot.lastClickId !== null) {
    for (const p of await nonConvertingPaths(db, snapshot, snapshot.lastClickId)) {
      aggregator.add(p.path, 0, p.journeys);
      window.add(p.from, p.to);
    }
  }
  return { aggregator, window: window.value() };
}

interface ConvertingJourney {
  path: string[];
  from: Date;
  to: Date;
}

async function* convertingPages(db: Db, s: CampaignSnapshot): AsyncGenerator<ConvertingJourney[]> {
  let after = '';
  for (;;) {
    const r = { rows: await convertingJourneyRows(db, s, after, JOURNEY_LIMITS.conversions_per_page) };
    if (r.rows.length === 0) return;
    yield r.rows.map((row) => {
      const path = row.path && row.path.length > 0 ? row.path : [row.creator_id];
      const from = row.first_touch_at && row.first_touch_at < row.occurred_at ? row.first_touch_at : row.occurred_at;
      return { path, from, to: row.occurred_at };
    });
    if (r.rows.length < JOURNEY_LIMITS.conversions_per_page) return;
    after = r.rows.at(-1)!.id;
  }
}

/**
 * The non-converting journeys as distinct paths with their counts. The clicks in converting journeys
 * are every touch of a converting conversion, and the click of a converting conversion recorded
 * without touches; those of any converting conversion count, even one newer than the snapshot (a click
 * that led to a conversion is not a journey that did not).
 */
async function nonConvertingPaths(db: Db, s: CampaignSnapshot, lastClickId: string): Promise<Array<{ path: string[]; journeys: number; from: Date; to: Date }>> {
  const r = { rows: await nonConvertingPathRows(db, s, lastClickId) };
  return r.rows.map((row) => ({ path: row.path, journeys: Number(row.journeys), from: row.first_at, to: row.last_at }));
}

class WindowOf {
  #from: Date | null = null;
  #to: Date | null = null;

  add(from: Date, to: Date): void {
    if (this.#from === null || from < this.#from) this.#from = from;
    if (this.#to === null || to > this.#to) this.#to = to;
  }

  value(): { from: Date; to: Date } | null {
    return this.#from && this.#to ? { from: this.#from, to: this.#to } : null;
  }
}

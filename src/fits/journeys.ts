import { type Kysely, sql } from 'kysely';
import { PathAggregator } from '../attribution/index.js';

type Db = Kysely<any>;

/**
 * Conversions that count as converting journeys: those the campaign paid for or would have (over
 * budget: the customer converted through the journey; the budget running out says nothing about the
 * creators). `rejected` ones (validation refused them at intake) and `recording` ones (undecided) do not.
 */
export const CONVERTING_STATUSES = ['attributed', 'over_budget'] as const;

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

const converting = sql.join(CONVERTING_STATUSES.map((s) => sql`${s}`));

/** Null when the campaign does not exist. */
export async function campaignSnapshot(db: Db, campaignId: string): Promise<CampaignSnapshot | null> {
  // Conversions are found through their organization's index (org_id, id), which every conversion has;
  // a campaign's converting conversions are a filter on it (no index by campaign on the hot table).
  const r = await sql<{ org_id: string; last_click_id: string | null; last_conversion_id: string | null; converting: number }>`
    select cm.org_id,
      (select max(k.id) from clicks k where k.campaign_id = cm.id) as last_click_id,
      (select max(c.id) from conversions c
        where c.org_id = cm.org_id and c.campaign_id = cm.id and c.status in (${converting})) as last_conversion_id,
      (select count(*)::int from conversions c
        where c.org_id = cm.org_id and c.campaign_id = cm.id and c.status in (${converting})) as converting
    from campaigns cm where cm.id = ${campaignId}`.execute(db);
  const row = r.rows[0];
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
    const r = await sql<{ id: string; path: string[] | null; creator_id: string; first_touch_at: Date | null; occurred_at: Date }>`
      select c.id,
        (select array_agg(t.creator_id order by t.position) from conversion_touches t where t.conversion_id = c.id) as path,
        (select min(t.occurred_at) from conversion_touches t where t.conversion_id = c.id) as first_touch_at,
        coalesce(k.creator_id, e.creator_id) as creator_id,
        coalesce(c.occurred_at, c.created_at) as occurred_at
      from conversions c
      join enrolments e on e.id = c.enrolment_id
      left join clicks k on k.id = c.click_id
      where c.org_id = ${s.orgId} and c.campaign_id = ${s.campaignId} and c.status in (${converting})
        and c.id > ${after} and c.id <= ${s.lastConversionId}
      order by c.id
      limit ${JOURNEY_LIMITS.conversions_per_page}`.execute(db);
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
  const r = await sql<{ path: string[]; journeys: number; first_at: Date; last_at: Date }>`
    with converting as (
      select c.id, c.click_id from conversions c
      where c.org_id = ${s.orgId} and c.campaign_id = ${s.campaignId} and c.status in (${converting})
    ), in_journeys as (
      select t.click_id as id from conversion_touches t join converting c on c.id = t.conversion_id where t.click_id is not null
      union
      select c.click_id from converting c
      where c.click_id is not null and not exists (select 1 from conversion_touches t where t.conversion_id = c.id)
    ), free as (
      select k.id, k.visitor_id, k.creator_id, k.occurred_at from clicks k
      where k.campaign_id = ${s.campaignId} and k.status = 'valid' and k.id <= ${lastClickId}
        and not exists (select 1 from in_journeys u where u.id = k.id)
    ), journeys as (
      select array_agg(creator_id order by occurred_at, id) as path, min(occurred_at) as first_at, max(occurred_at) as last_at
        from free where visitor_id is not null group by visitor_id
      union all
      select array[creator_id], occurred_at, occurred_at from free where visitor_id is null
    )
    select path, count(*)::int as journeys, min(first_at) as first_at, max(last_at) as last_at
    from journeys group by path`.execute(db);
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

import { type Kysely, sql } from 'kysely';
import { DATA_DRIVEN_MODELS, type DataDrivenModelName } from '../attribution/index.js';
import type { StoredFit } from './fits.js';
import type { CampaignSnapshot } from './journeys.js';

/** Every SQL statement of src/fits/ (docs/architecture.md, "Modules own their tables"); the logic is in fits.ts and journeys.ts. */
/** The tables this module owns (only it writes them) and those of other modules it may read. */
export const TABLES = { owns: ['attribution_fits'], reads: ['campaigns', 'campaign_terms', 'enrolments', 'clicks', 'conversions', 'conversion_touches'] } as const;

/** Oldest fit first (never fitted before all), so a backlog over the per-run limit is served in turn. */
export async function dataDrivenCampaigns(db: Kysely<any>): Promise<Array<{ id: string; model: DataDrivenModelName }>> {
  const models = sql.join(DATA_DRIVEN_MODELS.map((m) => sql`${m}`));
  const r = await sql<{ id: string; model: DataDrivenModelName }>`
    select c.id, t.terms->'attribution'->>'model' as model
    from campaigns c join campaign_terms t on t.campaign_id = c.id and t.version = c.terms_version
    where c.status in ('active', 'paused', 'ended') and t.terms->'attribution'->>'model' in (${models})
    order by (select max(f.id) from attribution_fits f
              where f.campaign_id = c.id and f.model = t.terms->'attribution'->>'model') nulls first, c.id`.execute(db);
  return r.rows;
}


/** A row of attribution_fits as read. */
export interface FitRow {
  id: string | number | bigint;
  campaign_id: string;
  model: DataDrivenModelName;
  fitted_at: Date;
  min_conversions: number;
  journeys: string | number | bigint;
  conversions: string | number | bigint;
  nulls: string | number | bigint;
  distinct_paths: string | number | bigint;
  creators: number;
  weights: Record<string, number>;
  fallback_model: 'linear' | null;
  fallback_reason: string | null;
  method: 'exact' | 'sampled' | null;
  standard_errors: Record<string, number> | null;
  permutations: number | null;
  conversion_probability: number | null;
  removal_effects: Record<string, number> | null;
  data_from: Date | null;
  data_to: Date | null;
  last_click_id: string | null;
  last_conversion_id: string | null;
  converting_conversions: string | number | bigint;
}

/** The latest fit stored for the campaign and model. */
export async function latestFitRow(db: Kysely<any>, campaignId: string, model: DataDrivenModelName): Promise<FitRow | undefined> {
  const r = await sql<FitRow>`select * from attribution_fits where campaign_id = ${campaignId} and model = ${model}
    order by id desc limit 1`.execute(db);
  return r.rows[0];
}

/** Appends a fit; the row stored. */
export async function insertFitRow(db: Kysely<any>, p: Omit<StoredFit, 'id' | 'fittedAt'>): Promise<FitRow | undefined> {
  const { fit, window, snapshot } = p;
  const markov = fit.model === 'markov' ? fit : undefined;
  const shapley = fit.model === 'shapley' ? fit : undefined;
  const json = (m: ReadonlyMap<string, number> | undefined) => (m ? JSON.stringify(Object.fromEntries(m)) : null);
  const r = await sql<FitRow>`
    insert into attribution_fits (campaign_id, model, fitted_at, min_conversions, journeys, conversions, nulls, distinct_paths,
      creators, weights, fallback_model, fallback_reason, method, standard_errors, permutations, conversion_probability,
      removal_effects, data_from, data_to, last_click_id, last_conversion_id, converting_conversions)
    values (${p.campaignId}, ${fit.model}, earnest_now(), ${p.minConversions}, ${fit.totals.journeys}, ${fit.totals.conversions},
      ${fit.totals.nulls}, ${fit.totals.distinctPaths}, ${fit.totals.creators}, ${json(fit.weights)}::jsonb,
      ${fit.fallback?.model ?? null}, ${fit.fallback?.reason ?? null}, ${shapley?.method ?? null}, ${json(shapley?.standardErrors)}::jsonb,
      ${shapley?.permutations ?? null}, ${markov?.conversionProbability ?? null}, ${json(markov?.removalEffects)}::jsonb,
      ${window?.from.toISOString() ?? null}::timestamptz, ${window?.to.toISOString() ?? null}::timestamptz,
      ${snapshot.lastClickId}, ${snapshot.lastConversionId}, ${snapshot.convertingConversions})
    returning *`.execute(db);
  return r.rows[0];
}

// ---------------------------------------------------------------------------------------------
// Journeys (their assembly: journeys.ts)

/**
 * Conversions that count as converting journeys: those the campaign paid for or would have (over
 * budget: the customer converted through the journey; the budget running out says nothing about the
 * creators). `rejected` ones (validation refused them at intake) and `recording` ones (undecided) do not.
 */
export const CONVERTING_STATUSES = ['attributed', 'over_budget'] as const;

const converting = sql.join(CONVERTING_STATUSES.map((s) => sql`${s}`));

/** The campaign's organization and what it has (see CampaignSnapshot); undefined when the campaign does not exist. */
export async function snapshotRow(
  db: Kysely<any>,
  campaignId: string,
): Promise<{ org_id: string; last_click_id: string | null; last_conversion_id: string | null; converting: number } | undefined> {
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
  return r.rows[0];
}

/** One page of converting conversions after `after` (up to the snapshot's last), with their touches' creators in order. */
export async function convertingJourneyRows(
  db: Kysely<any>,
  s: CampaignSnapshot,
  after: string,
  limit: number,
): Promise<Array<{ id: string; path: string[] | null; creator_id: string; first_touch_at: Date | null; occurred_at: Date }>> {
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
    limit ${limit}`.execute(db);
  return r.rows;
}

/** The campaign's non-converting journeys as distinct paths with their counts (see nonConvertingPaths in journeys.ts). */
export async function nonConvertingPathRows(
  db: Kysely<any>,
  s: CampaignSnapshot,
  lastClickId: string,
): Promise<Array<{ path: string[]; journeys: number; first_at: Date; last_at: Date }>> {
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
  return r.rows;
}

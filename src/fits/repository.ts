import { type Kysely, sql } from 'kysely';
import { DATA_DRIVEN_MODELS, type DataDrivenModelName } from '../attribution/index.js';

/** The SQL of src/fits/ (the rest is still in fits.ts and journeys.ts; docs/architecture.md, "Modules own their tables"). */
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


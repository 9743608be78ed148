import { type RawBuilder, sql } from 'kysely';
import type { Keyset } from '../db/index.js';

/**
 * The conditions of a list over rows that carry `campaign_id` and `creator_id` (results, clicks, view
 * reports): a brand sees its campaigns' rows, a creator their own, optionally one campaign and one
 * status. Joined with `and`; an absent filter is `true`.
 */
export interface CampaignRowFilter {
  campaignId?: string | undefined;
  orgId?: string | undefined;
  creatorId?: string | undefined;
  status?: string | undefined;
}

/** The conditions on the rows' table, aliased `r` (a brand's scope is a join, see `campaignRowsPage`). */
function rowConditions(f: CampaignRowFilter): RawBuilder<unknown> {
  const conditions = [
    f.campaignId ? sql`r.campaign_id = ${f.campaignId}` : sql`true`,
    f.creatorId ? sql`r.creator_id = ${f.creatorId}` : sql`true`,
    f.status ? sql`r.status = ${f.status}` : sql`true`,
  ];
  return sql.join(conditions, sql` and `);
}

/**
 * One page of such a list, newest first on the keyset `k` (whose columns are `r.…`): `table` is read
 * as `r`, `columns` its select list. A creator's rows, one campaign's and all of them (operators)
 * are one index range each ((creator_id | campaign_id | nothing, time, id)). A brand's rows have no
 * org column: they are read campaign by campaign — at most a page from each campaign's index range —
 * and merged, so a page sorts at most (the brand's campaigns × a page) rows, never the brand's history.
 */
export function campaignRowsPage(p: { table: string; columns: RawBuilder<unknown>; filter: CampaignRowFilter; k: Keyset }): RawBuilder<unknown> {
  const { filter: f, k } = p;
  const table = sql.table(p.table);
  const inner = sql`select ${p.columns}, ${k.select} from ${table} r where ${rowConditions(f)} and ${k.where}`;
  if (!f.orgId) return sql`${inner} order by ${k.orderBy} limit ${k.limit}`;
  const campaign = f.campaignId ? sql`and c.id = ${f.campaignId}` : sql``;
  return sql`select r.* from campaigns c
    cross join lateral (${inner} and r.campaign_id = c.id order by ${k.orderBy} limit ${k.limit}) r
    where c.org_id = ${f.orgId} ${campaign}
    order by ${k.orderBy} limit ${k.limit}`;
}

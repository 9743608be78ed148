import { type RawBuilder, sql } from 'kysely';

/**
 * The conditions of a list over rows that carry `campaign_id` and `creator_id` (results, clicks): a
 * brand sees its campaigns' rows, a creator their own, optionally one campaign and one status, from a
 * cursor on `id`. Joined with `and`; an absent filter is `true`.
 */
export interface CampaignRowFilter {
  campaignId?: string | undefined;
  orgId?: string | undefined;
  creatorId?: string | undefined;
  status?: string | undefined;
  after?: string | undefined;
}

export function campaignRowsWhere(f: CampaignRowFilter): RawBuilder<unknown> {
  const conditions = [
    f.campaignId ? sql`campaign_id = ${f.campaignId}` : sql`true`,
    f.orgId ? sql`campaign_id in (select id from campaigns where org_id = ${f.orgId})` : sql`true`,
    f.creatorId ? sql`creator_id = ${f.creatorId}` : sql`true`,
    f.status ? sql`status = ${f.status}` : sql`true`,
    f.after ? sql`id > ${f.after}` : sql`true`,
  ];
  return sql.join(conditions, sql` and `);
}

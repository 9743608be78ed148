-- Lists newest first (issue #10, docs/api-conventions.md "Lists"): every list is ordered by one time
-- column then its id (or key), descending, and read in keyset pages. Each list's scope has an index
-- on (scope, time desc, id desc), so a page is one index range however deep it is, never a sort of
-- the table. Indexes on (scope, id) that only the old id-ordered lists read are replaced; those other
-- queries read (max(id), order by id per campaign) are kept.

create index organizations_created on organizations (created_at desc, id desc);
create index creators_created on creators (created_at desc, id desc);

-- campaigns_org also serves `campaign_id in (select id from campaigns where org_id = …)` (leading org_id).
drop index campaigns_org;
create index campaigns_org on campaigns (org_id, created_at desc, id desc);
create index campaigns_created on campaigns (created_at desc, id desc);

create index enrolments_campaign_created on enrolments (campaign_id, created_at desc, id desc);

create index money_movements_org_created on money_movements (org_id, created_at desc, id desc);

-- Clicks by the time of the click. clicks_campaign_id (campaign_id, id) stays: journeys and the
-- release re-check read a campaign's newest click ids.
create index clicks_campaign_time on clicks (campaign_id, occurred_at desc, id desc);
drop index clicks_creator;
create index clicks_creator on clicks (creator_id, occurred_at desc, id desc);
create index clicks_time on clicks (occurred_at desc, id desc);

-- conversions_org (org_id, id) stays: attribution fits read a campaign's newest conversion ids through it.
create index conversions_org_created on conversions (org_id, created_at desc, id desc);

drop index view_reports_campaign;
create index view_reports_campaign on view_reports (campaign_id, created_at desc, id desc);
drop index view_reports_creator;
create index view_reports_creator on view_reports (creator_id, created_at desc, id desc);
create index view_reports_created on view_reports (created_at desc, id desc);

-- Results by the time they were recorded; the review queue too (results in review, newest first).
create index results_campaign_recorded on results (campaign_id, recorded_at desc, id desc);
drop index results_creator;
create index results_creator on results (creator_id, recorded_at desc, id desc);
create index results_recorded on results (recorded_at desc, id desc);
drop index results_review;
create index results_review on results (recorded_at desc, id desc) where status = 'review';

drop index payouts_creator;
create index payouts_creator on payouts (creator_id, created_at desc, id desc);
create index payouts_created on payouts (created_at desc, id desc);

-- A campaign's tier bonuses by period, newest period first (a period is keyed by enrolment and key).
create index bonus_periods_campaign_start on bonus_periods (campaign_id, period_start desc, enrolment_id desc, period_key desc);

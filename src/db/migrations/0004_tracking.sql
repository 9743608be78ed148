-- Click tracking. A valid click of a CPC campaign is `billable`: it becomes a result after its batch
-- is written (result_id is set then). Clicks and their results are written in two steps, so a crash
-- between them leaves billable clicks without a result; the partial index finds exactly those for
-- the writer to record at its next start.
alter table clicks add column billable boolean not null default false;
create index clicks_awaiting_result on clicks (id) where billable and result_id is null;
-- Repeat detection looks up one visitor (link, IP hash, user agent) at a time, among valid clicks
-- only: many visitors can share an IP (carrier NAT, offices) without slowing each other's lookups.
-- It replaces clicks_repeat, which would make every insert pay for an index that nothing reads.
create index clicks_visitor on clicks (enrolment_id, ip_hash, user_agent, occurred_at) where status = 'valid';
drop index clicks_repeat;
-- GET /v1/clicks pages by id (ids sort by time) within a campaign or a creator.
create index clicks_campaign_id on clicks (campaign_id, id);
create index clicks_creator on clicks (creator_id, id);

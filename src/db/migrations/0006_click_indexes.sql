-- Cheaper click inserts (the redirect's writer inserts thousands of rows a second):
-- * repeat detection probes one narrow key per visitor instead of a wide (link, IP hash, user agent)
--   index: visitor_key is a 64-bit hash of the three, computed by the database itself; the lookup
--   still compares the three columns, so a hash collision can never make a click a repeat;
-- * clicks_campaign (campaign_id, occurred_at) is read by nothing (lists page by id).
alter table clicks add column visitor_key bigint
  generated always as (hashtextextended(enrolment_id || '|' || ip_hash || '|' || coalesce(user_agent, ''), 0)) stored;
create index clicks_visitor_key on clicks (visitor_key, occurred_at) where status = 'valid';
drop index clicks_visitor;
drop index clicks_campaign;

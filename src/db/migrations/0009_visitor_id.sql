-- The redirect's first-party visitor cookie (VISITOR_COOKIE_DAYS): the same visitor's clicks, across
-- creators' links, form one journey for multi-touch attribution. Only clicks that carry one are
-- indexed.
alter table clicks add column visitor_id text;
create index clicks_visitor_id on clicks (visitor_id, occurred_at) where visitor_id is not null;

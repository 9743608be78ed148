-- Verified views (docs/tracking.md#viewability-beacons): the browser snippet reports an element a brand
-- marked (data-earnest-view) that was at least half in view, on a visible page, long enough (MRC). Each
-- is attributed to the visitor's click and so to its enrolment; one view per visitor, element and
-- enrolment (the unique key: a repeated beacon is not stored again). Flagged views (a bot's user
-- agent, a data-centre address, a flagged click) are stored and never paid.
create table verified_views (
  id text primary key,
  enrolment_id text not null references enrolments (id),
  campaign_id text not null,
  creator_id text not null,
  click_id text not null,
  element text not null check (length(element) between 1 and 100),
  kind text not null check (kind in ('video', 'display')),
  -- A hash of the visitor as the click rules know one (IP hash + user agent): what de-duplicates.
  visitor_key text not null,
  ip_hash text not null,
  user_agent text,
  page_url text,
  visible_ms integer not null check (visible_ms >= 0),
  occurred_at timestamptz not null,
  status text not null check (status in ('valid', 'bot', 'datacenter', 'click_flagged')),
  -- The batch whose 'views' result pays it (valid views only); null until the results job takes it.
  batch_id text,
  unique (enrolment_id, element, visitor_key)
);
create index verified_views_unbatched on verified_views (enrolment_id, id) where status = 'valid' and batch_id is null;
create index verified_views_campaign on verified_views (campaign_id, occurred_at);

-- A 'views' result's source: the valid views of one enrolment the results job took together.
create table verified_view_batches (
  id text primary key,
  enrolment_id text not null references enrolments (id),
  views bigint not null check (views > 0),
  first_view_id text not null,
  last_view_id text not null,
  occurred_at timestamptz not null,
  result_id text,
  created_at timestamptz not null default earnest_now()
);
create index verified_view_batches_unrecorded on verified_view_batches (id) where result_id is null;

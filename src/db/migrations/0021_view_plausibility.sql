-- View reports judged for plausibility (src/validation/views) and checked against platform insights
-- (src/insights): issue 11.

-- What a creator declares of their audience, per platform (tenants): optional, never required.
create table creator_platforms (
  creator_id text not null references creators (id),
  platform text not null check (platform ~ '^[a-z][a-z0-9_]{0,31}$'),
  followers bigint not null check (followers >= 0),
  updated_at timestamptz not null default now(),
  primary key (creator_id, platform)
);

-- in_review: a rule doubted the report; the brand cannot confirm it until an operator clears it or
-- official insights of the post verify it (the brand may still reject it).
alter table view_reports drop constraint view_reports_status_check;
alter table view_reports add constraint view_reports_status_check check (status in ('submitted', 'in_review', 'confirmed', 'rejected'));
alter table view_reports
  add column platform text check (platform ~ '^[a-z][a-z0-9_]{0,31}$'),
  add column post_id text check (length(post_id) between 1 and 200),
  add column posted_at timestamptz,
  add column likes bigint check (likes >= 0),
  add column comments bigint check (comments >= 0),
  -- [{code, detail}] in VIEW_REASONS order: what the rules found, kept once cleared (brand and creator see them)
  add column findings jsonb not null default '[]',
  -- set when official insights of the post matched the report (within the campaign's tolerance)
  add column verified_at timestamptz,
  add column insights_views bigint,
  add column cleared_at timestamptz,
  add column cleared_by text check (cleared_by in ('operator', 'insights')),
  add column clear_note text check (length(clear_note) <= 1000);
alter table view_reports add constraint view_reports_cleared check ((cleared_at is null) = (cleared_by is null));
create index view_reports_post on view_reports (enrolment_id, platform, post_id) where status in ('submitted', 'in_review');

-- One upload (or adapter fetch) of platform insights for an enrolment (src/insights).
create table insight_imports (
  id text primary key,
  enrolment_id text not null references enrolments (id),
  source text not null check (source ~ '^[a-z][a-z0-9_]{0,31}$'),
  -- official: the brand's, an operator's or an API adapter's; creator: the creator's own file
  trust text not null check (trust in ('official', 'creator')),
  uploaded_by_kind text not null check (uploaded_by_kind in ('organization', 'creator', 'operator')),
  uploaded_by_id text,
  content_sha256 text not null check (content_sha256 ~ '^[0-9a-f]{64}$'),
  row_count integer not null check (row_count >= 1),
  created_at timestamptz not null default now()
);
create index insight_imports_enrolment on insight_imports (enrolment_id, created_at desc, id desc);

-- Views per post per day. A later import of the same day (with the same trust) replaces it.
create table platform_insights (
  enrolment_id text not null references enrolments (id),
  trust text not null check (trust in ('official', 'creator')),
  platform text not null check (platform ~ '^[a-z][a-z0-9_]{0,31}$'),
  post_id text not null check (length(post_id) between 1 and 200),
  day date not null,
  post_url text check (length(post_url) <= 2000),
  views bigint not null check (views >= 0),
  likes bigint check (likes >= 0),
  comments bigint check (comments >= 0),
  followers bigint check (followers >= 0),
  import_id text not null references insight_imports (id),
  primary key (enrolment_id, trust, platform, post_id, day)
);
create index platform_insights_url on platform_insights (enrolment_id, post_url) where post_url is not null;

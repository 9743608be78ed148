-- The campaign loop: who (organizations, creators, operators and their API keys), campaigns and their
-- versioned terms, money in and out through providers, enrolments with tracking links and promo codes,
-- clicks, conversions, view reports, results (each result's payout is a hold on the campaign escrow),
-- and payouts. Money itself lives only in the ledger; these tables point at ledger transfer ids.

create table organizations (
  id text primary key,
  name text not null check (length(name) between 1 and 200),
  created_at timestamptz not null default now()
);

create table creators (
  id text primary key,
  name text not null check (length(name) between 1 and 200),
  email text not null check (length(email) <= 320),
  phone text check (length(phone) <= 32),
  created_at timestamptz not null default now()
);
create unique index creators_email on creators (lower(email));

-- Keys are shown once: ek_<id>_<secret>; only the SHA-256 of the secret is kept.
create table api_keys (
  id text primary key,
  secret_sha256 bytea not null,
  owner_kind text not null check (owner_kind in ('organization', 'creator', 'operator')),
  owner_id text,
  label text check (length(label) <= 200),
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  check ((owner_kind = 'operator') = (owner_id is null))
);
create index api_keys_owner on api_keys (owner_kind, owner_id);

create table campaigns (
  id text primary key,
  org_id text not null references organizations (id),
  name text not null check (length(name) between 1 and 200),
  status text not null default 'draft'
    check (status in ('draft', 'funded', 'active', 'paused', 'ended', 'settled')),
  currency char(3) not null,
  terms_version int not null default 1,
  paused_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  ended_at timestamptz,
  settled_at timestamptz
);
create index campaigns_org on campaigns (org_id, id);
create index campaigns_open on campaigns (status) where status in ('active', 'paused', 'ended');

-- Terms are immutable once written; a change after any acceptance is a new version.
create table campaign_terms (
  campaign_id text not null references campaigns (id),
  version int not null check (version >= 1),
  terms jsonb not null,
  terms_sha256 text not null,
  created_at timestamptz not null default now(),
  primary key (campaign_id, version)
);

-- Deposits and withdrawals through a payment provider; the ledger transfer has the same id.
create table money_movements (
  id text primary key,
  org_id text not null references organizations (id),
  kind text not null check (kind in ('deposit', 'withdrawal', 'escrow_funding')),
  reference text not null check (length(reference) between 1 and 128),
  campaign_id text references campaigns (id),
  amount bigint not null check (amount > 0),
  currency char(3) not null,
  provider text,
  provider_reference text,
  status text not null check (status in ('pending', 'succeeded', 'failed')),
  failure text,
  created_at timestamptz not null default now(),
  unique (org_id, kind, reference)
);

create table enrolments (
  id text primary key,
  campaign_id text not null references campaigns (id),
  creator_id text not null references creators (id),
  terms_version int not null,
  terms_sha256 text not null,
  accepted_at timestamptz not null,
  link_code text not null unique,
  promo_code text not null,
  promo_max_uses int check (promo_max_uses > 0),
  promo_once_per_customer boolean not null default true,
  created_at timestamptz not null default now(),
  unique (campaign_id, creator_id),
  foreign key (campaign_id, terms_version) references campaign_terms (campaign_id, version)
);
create unique index enrolments_promo_code on enrolments (upper(promo_code));

create table clicks (
  id text primary key,
  enrolment_id text not null references enrolments (id),
  campaign_id text not null,
  creator_id text not null,
  occurred_at timestamptz not null,
  ip_hash text not null,
  user_agent text,
  referrer text,
  country char(2),
  landing_url text,
  status text not null check (status in ('valid', 'bot', 'repeat', 'head')),
  result_id text
);
create index clicks_repeat on clicks (enrolment_id, ip_hash, occurred_at);
create index clicks_campaign on clicks (campaign_id, occurred_at);

-- A brand's conversion as received: idempotent on (org, external_id).
create table conversions (
  id text primary key,
  org_id text not null references organizations (id),
  external_id text not null check (length(external_id) between 1 and 200),
  request jsonb not null,
  request_sha256 text not null,
  campaign_id text,
  result_id text,
  status text not null check (status in ('attributed', 'unattributed', 'rejected', 'over_budget')),
  response jsonb not null,
  created_at timestamptz not null default now(),
  unique (org_id, external_id)
);

create table view_reports (
  id text primary key,
  enrolment_id text not null references enrolments (id),
  campaign_id text not null,
  creator_id text not null,
  views bigint not null check (views > 0),
  evidence_url text not null,
  status text not null default 'submitted' check (status in ('submitted', 'confirmed', 'rejected')),
  decision_reason text,
  result_id text,
  created_at timestamptz not null default now(),
  decided_at timestamptz
);

-- A result: something a creator is paid for, once validated. Its payout is held on the escrow from
-- the moment it is recorded (hold id = ledger pending transfers `<hold_id>.net` / `.fee`).
create table results (
  id text primary key,
  campaign_id text not null references campaigns (id),
  enrolment_id text not null references enrolments (id),
  creator_id text not null,
  kind text not null check (kind in ('click', 'lead', 'sale', 'views')),
  source_id text not null,
  status text not null check (status in ('pending', 'approved', 'rejected', 'over_budget')),
  reasons text[] not null default '{}',
  currency char(3) not null,
  gross bigint not null check (gross >= 0),
  fee bigint not null check (fee >= 0),
  customer_id text,
  occurred_at timestamptz not null,
  recorded_at timestamptz not null,
  hold_until timestamptz not null,
  hold_id text,
  decided_at timestamptz,
  decided_by text,
  decision_note text,
  unique (kind, source_id)
);
create index results_due on results (hold_until) where status = 'pending';
create index results_campaign on results (campaign_id, status);
create index results_creator on results (creator_id, id);
create index results_lead_customer on results (campaign_id, customer_id) where kind = 'lead';

create table payouts (
  id text primary key,
  creator_id text not null references creators (id),
  amount bigint not null check (amount > 0),
  currency char(3) not null,
  provider text not null,
  status text not null check (status in ('pending', 'sent', 'completed', 'failed')),
  provider_reference text,
  failure text,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  finished_at timestamptz
);
create index payouts_creator on payouts (creator_id, id);
create index payouts_open on payouts (status) where status in ('pending', 'sent');

-- Per-installation secrets and settings (e.g. the salt for hashing click IPs), made at first start.
create table instance_settings (
  key text primary key,
  value text not null,
  created_at timestamptz not null default now()
);

-- Every acceptance of a campaign's terms by a creator: the exact terms (by hash), version and time.
create table terms_acceptances (
  enrolment_id text not null references enrolments (id),
  terms_version int not null,
  terms_sha256 text not null,
  accepted_at timestamptz not null,
  primary key (enrolment_id, terms_version)
);

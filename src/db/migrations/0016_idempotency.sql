-- One idempotency rule for every call that changes something (issue #10 §3, docs/api-conventions.md
-- "Idempotency: one rule").

-- An `Idempotency-Key` header's record, per owner of the API key (operators, one brand, one creator).
-- Only src/idempotency writes it. The primary key decides who runs a request: the request whose insert
-- wins runs under a lease it renews while it runs; a request that finds the lease expired (its process
-- died) takes the key over. Once the request answers, its answer is stored and the lease is gone.
-- Answers with a 5xx, 429 or 400 status are never stored: the record is deleted so a retry runs again.
create table idempotency_keys (
  owner_kind text not null check (owner_kind in ('operator', 'organization', 'creator')),
  -- '' for the operators, who are one owner
  owner_id text not null check (length(owner_id) <= 100),
  key text not null check (length(key) between 1 and 255),
  method text not null check (method in ('POST', 'PUT', 'PATCH', 'DELETE')),
  path text not null check (length(path) between 1 and 2000),
  -- SHA-256 of the method, path and canonical body: the same key with another request is a conflict
  request_sha256 bytea not null check (length(request_sha256) = 32),
  -- while the first request runs
  lease_token text check (length(lease_token) between 1 and 64),
  lease_expires_at timestamptz,
  -- once it answered
  response_status int check (response_status between 100 and 499 and response_status not in (400, 429)),
  response_headers jsonb check (jsonb_typeof(response_headers) = 'object'),
  -- the body as sent (JSON text), null for an empty answer
  response_body text,
  created_at timestamptz not null,
  completed_at timestamptz,
  primary key (owner_kind, owner_id, key),
  check ((lease_token is null) = (lease_expires_at is null)),
  check ((lease_token is null) = (response_status is not null)),
  check ((response_status is null) = (completed_at is null)),
  check ((response_status is null) = (response_headers is null)),
  check (response_body is null or response_status is not null)
);
-- The purge deletes by age.
create index idempotency_keys_created_at on idempotency_keys (created_at);

-- A creator's own id for a view report: the business key of POST /v1/views (unique per creator).
alter table view_reports add column external_id text check (length(external_id) between 1 and 200);
create unique index view_reports_external_id on view_reports (creator_id, external_id) where external_id is not null;

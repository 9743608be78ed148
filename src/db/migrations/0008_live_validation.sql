-- Live validation (issue #4 §1, §3): the engine's verdict on every conversion, results that wait for a
-- person (`review`) or were taken back after payment (`reversed`), and an append-only log of every
-- decision on a result: who made it, when, why.

-- A result in `review` keeps its hold (the money stays reserved) but settlement never releases it;
-- an operator approves it (back to `pending`, marked `reviewed`, so the release re-check leaves it
-- alone) or rejects it (the hold is voided). `reversed`: approved and paid, then clawed back.
alter table results drop constraint results_status_check;
alter table results add constraint results_status_check
  check (status in ('pending', 'review', 'approved', 'rejected', 'over_budget', 'reversed'));
alter table results add column reviewed boolean not null default false;
-- The review queue pages by id (ids sort by time: oldest first).
create index results_review on results (id) where status = 'review';

-- The verdict a conversion was given at intake: `invalid` results are rejected with no hold, `review`
-- ones are held for a person, `valid` ones are held for the hold period. Null for unattributed
-- conversions (nobody to pay). Earlier rows: any reason code meant a rejection.
alter table conversions add column verdict text check (verdict in ('valid', 'review', 'invalid'));
update conversions set verdict = case when reasons = '{}' then 'valid' else 'invalid' end where status <> 'unattributed';
alter table conversions add constraint conversions_verdict_when_attributed check ((verdict is null) = (status = 'unattributed'));
-- Optional evidence from the brand: the customer's device. The IP is kept only as a salted hash
-- (with its family, `4:` or `6:`; an IPv6 address is hashed as its /64), like a click's.
alter table conversions
  add column ip_hash text check (length(ip_hash) <= 80),
  add column user_agent text check (length(user_agent) <= 2048);
-- The release re-check reads a creator's recent conversions on a campaign (one enrolment) by time.
create index conversions_enrolment_time on conversions (enrolment_id, occurred_at);

-- Every decision on a result, append-only: validation at intake (`rejected`, `review`), the release
-- re-check (`review`), settlement (`approved`), brands and operators (`rejected`, `pending` after a
-- review, `reversed`). actor_id: the organization, the operator's API key id, or the system part that
-- decided (`validation`, `settlement`).
create table result_decisions (
  id bigint generated always as identity primary key,
  result_id text not null references results (id),
  from_status text not null,
  to_status text not null check (to_status in ('pending', 'review', 'approved', 'rejected', 'reversed')),
  reasons text[] not null default '{}',
  note text check (length(note) <= 1000),
  actor_kind text not null check (actor_kind in ('organization', 'operator', 'system')),
  actor_id text not null check (length(actor_id) between 1 and 200),
  decided_at timestamptz not null
);
create index result_decisions_result on result_decisions (result_id, id);

create function result_decisions_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception 'result_decisions is append-only: % refused', tg_op using errcode = '55000';
end $$;
create trigger result_decisions_append_only before update or delete on result_decisions
  for each row execute function result_decisions_refuse_change();
create trigger result_decisions_no_truncate before truncate on result_decisions
  for each statement execute function result_decisions_refuse_change();

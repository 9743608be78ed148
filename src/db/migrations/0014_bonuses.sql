-- Tiered-incentive money (issue #5 §4, docs/incentives.md): per-enrolment targets, what a capped
-- result actually earned, and each creator's bonus per closed period with its movements.

-- The brand may give one creator a target of their own (null: the campaign incentives' target).
alter table enrolments add column target int check (target between 1 and 1000000000);

-- What a result actually earned, gross, when the incentives' caps per creator per period cut it
-- (a result beyond `results_per_period` earns 0; the one crossing `amount_per_period` the rest up to
-- it). Null: it earned its gross.
alter table results add column paid_gross bigint check (paid_gross >= 0 and paid_gross <= gross);

-- One row per enrolment and closed incentive period: where its bonus stands. Amounts are minor units
-- of `currency`; `credited` is the bonus gross the creator currently keeps (paid, less clawbacks),
-- the figure corrections start from. Only src/bonuses writes it, one transaction per step, with the
-- row locked: a rerun or a concurrent run finds the step done.
create table bonus_periods (
  enrolment_id text not null references enrolments (id),
  period_key text not null check (length(period_key) between 1 and 32),
  campaign_id text not null references campaigns (id),
  creator_id text not null,
  currency char(3) not null,
  period_start timestamptz not null,
  period_end timestamptz not null,
  -- the terms version and target the bonus is computed on, fixed when the period is first closed
  terms_version int not null,
  target int,
  -- held: the most the bonus can be is reserved, results of the period are still undecided;
  -- released: paid from approved results, corrected on later runs
  status text not null check (status in ('held', 'released')),
  tier int,
  counted_results int not null default 0 check (counted_results >= 0),
  base_earnings bigint not null default 0 check (base_earnings >= 0),
  due bigint not null default 0 check (due >= 0),
  held bigint not null default 0 check (held >= 0),
  held_net bigint not null default 0 check (held_net >= 0),
  held_fee bigint not null default 0 check (held_fee >= 0),
  credited bigint not null default 0 check (credited >= 0),
  paid_net bigint not null default 0 check (paid_net >= 0),
  fees_paid bigint not null default 0 check (fees_paid >= 0),
  clawed_back bigint not null default 0 check (clawed_back >= 0),
  shortfall bigint not null default 0 check (shortfall >= 0),
  steps int not null default 0 check (steps >= 0),
  closed_at timestamptz not null,
  released_at timestamptz,
  updated_at timestamptz not null,
  primary key (enrolment_id, period_key)
);
create index bonus_periods_campaign on bonus_periods (campaign_id, status);

-- Every bonus movement, append-only: step n of an enrolment-period made the ledger transfers
-- `bonus:<enrolment>:<period>:<n>.<leg>` listed in `transfer_ids`.
create table bonus_movements (
  enrolment_id text not null,
  period_key text not null,
  step int not null check (step >= 1),
  campaign_id text not null,
  kind text not null check (kind in ('hold', 'release', 'pay', 'clawback')),
  -- gross of the bonus this step is about: held, posted, paid more, or taken back
  gross bigint not null check (gross >= 0),
  net bigint not null check (net >= 0),
  fee bigint not null check (fee >= 0),
  due bigint not null check (due >= 0),
  shortfall bigint not null check (shortfall >= 0),
  transfer_ids text[] not null,
  at timestamptz not null,
  primary key (enrolment_id, period_key, step),
  foreign key (enrolment_id, period_key) references bonus_periods (enrolment_id, period_key)
);
create index bonus_movements_campaign on bonus_movements (campaign_id);

create function bonus_movements_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception 'bonus_movements is append-only: % refused', tg_op using errcode = '55000';
end $$;
create trigger bonus_movements_append_only before update or delete on bonus_movements
  for each row execute function bonus_movements_refuse_change();
create trigger bonus_movements_no_truncate before truncate on bonus_movements
  for each statement execute function bonus_movements_refuse_change();

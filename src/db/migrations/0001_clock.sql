-- The database clock. Every time the ledger uses (timestamps, hold expiry) is read from here, so many
-- application processes agree on one clock. offset_us is zero in production; simulations and the demo
-- advance it instead of sleeping.
create table earnest_clock (
  id boolean primary key default true check (id),
  offset_us bigint not null default 0 check (offset_us >= 0)
);
insert into earnest_clock default values;

create function earnest_now() returns timestamptz
language sql stable as $$
  select now() + (select offset_us from earnest_clock) * interval '1 microsecond'
$$;

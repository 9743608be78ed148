-- The double-entry ledger, modelled on TigerBeetle (docs/ledger.md).
--
-- ledger_transfers is the journal: append-only, one row per transfer, each row debiting one account and
-- crediting another of the same currency by the same amount, so the journal balances by construction.
-- Account counters are never written by the application: a statement trigger on the journal applies
-- every inserted row to them, and CHECK constraints refuse any counter state that breaks an account's
-- limit flags. The application decides outcomes; the database refuses anything that would break them.

-- Account flags (TigerBeetle's bits): 2 debits_must_not_exceed_credits, 4 credits_must_not_exceed_debits.
create table ledger_accounts (
  id text primary key check (id ~ '^[A-Za-z0-9_.:-]{1,128}$'),
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  code int not null check (code between 1 and 65535),
  flags int not null default 0 check (flags & ~6 = 0 and flags & 6 <> 6),
  user_data text check (length(user_data) <= 256),
  debits_pending bigint not null default 0 check (debits_pending >= 0),
  debits_posted bigint not null default 0 check (debits_posted >= 0),
  credits_pending bigint not null default 0 check (credits_pending >= 0),
  credits_posted bigint not null default 0 check (credits_posted >= 0),
  closed boolean not null default false,
  created_at timestamptz not null,
  constraint debits_must_not_exceed_credits
    check (flags & 2 = 0 or debits_pending + debits_posted <= credits_posted),
  constraint credits_must_not_exceed_debits
    check (flags & 4 = 0 or credits_pending + credits_posted <= debits_posted)
);

-- Transfer flags: 1 linked, 2 pending, 4 post_pending_transfer, 8 void_pending_transfer,
-- 16 balancing_debit, 32 balancing_credit, 64 closing_debit, 128 closing_credit,
-- 32768 expired (written by the ledger itself, with 8, when a hold times out).
create table ledger_transfers (
  id text primary key check (id ~ '^~?[A-Za-z0-9_.:-]{1,136}$'),
  seq bigint generated always as identity unique,
  debit_account_id text not null references ledger_accounts (id),
  credit_account_id text not null references ledger_accounts (id),
  amount bigint not null check (amount >= 0),
  pending_id text references ledger_transfers (id),
  currency char(3) not null,
  code int not null check (code between 1 and 65535),
  flags int not null check (flags & ~(255 | 32768) = 0),
  timeout int not null default 0 check (timeout >= 0),
  user_data text check (length(user_data) <= 256),
  "timestamp" timestamptz not null,
  expires_at timestamptz,
  check (debit_account_id <> credit_account_id),
  -- only closing transfers (and posts or voids of them) may carry no amount
  check (amount > 0 or flags & (4 | 8 | 64 | 128) <> 0),
  -- a resolution (post, void, expiry) names its pending transfer; nothing else does
  check ((flags & (4 | 8) <> 0) = (pending_id is not null)),
  check ((expires_at is not null) = (flags & 2 <> 0 and timeout > 0))
);
-- A hold is resolved at most once: posted, voided or expired, never two of them.
create unique index ledger_transfers_one_resolution on ledger_transfers (pending_id) where pending_id is not null;
create index ledger_transfers_debit on ledger_transfers (debit_account_id, seq);
create index ledger_transfers_credit on ledger_transfers (credit_account_id, seq);

-- The state of each hold, kept by the journal trigger (the journal itself is never updated).
create table ledger_pending (
  id text primary key references ledger_transfers (id),
  debit_account_id text not null,
  credit_account_id text not null,
  amount bigint not null,
  expires_at timestamptz,
  status text not null default 'pending' check (status in ('pending', 'posted', 'voided', 'expired')),
  resolved_by text references ledger_transfers (id)
);
create index ledger_pending_due on ledger_pending (expires_at) where status = 'pending' and expires_at is not null;
create index ledger_pending_due_debit on ledger_pending (debit_account_id, expires_at)
  where status = 'pending' and expires_at is not null;
create index ledger_pending_due_credit on ledger_pending (credit_account_id, expires_at)
  where status = 'pending' and expires_at is not null;

-- Ids that failed for a reason that depends on state (not found, exceeds, closed) stay failed, so a
-- retry cannot succeed later and pay twice by surprise.
create table ledger_transfer_failures (
  id text primary key,
  result text not null,
  request jsonb not null,
  failed_at timestamptz not null
);

-- Append-only journal: no UPDATE, no DELETE, no TRUNCATE.
create function ledger_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception 'ledger_transfers is append-only: % refused', tg_op using errcode = '55000';
end $$;
create trigger ledger_transfers_append_only before update or delete on ledger_transfers
  for each row execute function ledger_refuse_change();
create trigger ledger_transfers_no_truncate before truncate on ledger_transfers
  for each statement execute function ledger_refuse_change();

-- Counters and hold states move only with the journal (trigger depth > 1 means "from the journal trigger").
create function ledger_guard_derived() returns trigger language plpgsql as $$
begin
  if pg_trigger_depth() > 1 then
    return coalesce(new, old);
  end if;
  if tg_table_name = 'ledger_accounts' and tg_op = 'UPDATE'
     and new.debits_pending = old.debits_pending and new.debits_posted = old.debits_posted
     and new.credits_pending = old.credits_pending and new.credits_posted = old.credits_posted
     and new.closed = old.closed and new.id = old.id and new.currency = old.currency then
    return new; -- metadata (user_data) may change
  end if;
  if tg_table_name = 'ledger_accounts' and tg_op = 'INSERT'
     and new.debits_pending = 0 and new.debits_posted = 0 and new.credits_pending = 0
     and new.credits_posted = 0 and not new.closed then
    return new;
  end if;
  raise exception '% on % refused: balances and hold states follow the journal', tg_op, tg_table_name
    using errcode = '55000';
end $$;
create trigger ledger_accounts_guard before insert or update or delete on ledger_accounts
  for each row execute function ledger_guard_derived();
create trigger ledger_pending_guard before insert or update or delete on ledger_pending
  for each row execute function ledger_guard_derived();

-- Applies each inserted journal row to its accounts and its hold.
-- Every statement is EXECUTEd, so it is planned for the rows at hand: a cached plan made for a
-- 2,000-row batch (hash joins over the whole journal) would otherwise be reused for one-row inserts.
create function ledger_apply_journal() returns trigger language plpgsql as $$
declare
  all_flags int;
  problem text;
begin
  select bit_or(flags) into all_flags from new_rows;

  if all_flags & 2 <> 0 then
    execute 'insert into ledger_pending (id, debit_account_id, credit_account_id, amount, expires_at)
             select id, debit_account_id, credit_account_id, amount, expires_at from new_rows where flags & 2 <> 0';
  end if;

  execute $q$
    select problem from (
      -- a resolution must agree with its hold, which must still be pending
      select 'journal row resolves a hold that is not pending or does not match it' as problem
        from new_rows n
        join ledger_transfers p on p.id = n.pending_id
        left join ledger_pending h on h.id = p.id
       where h.status is distinct from 'pending'
          or p.flags & 2 = 0
          or n.debit_account_id <> p.debit_account_id or n.credit_account_id <> p.credit_account_id
          or n.currency <> p.currency
          or (n.flags & 4 <> 0 and n.amount > p.amount)
          or (n.flags & 8 <> 0 and n.amount <> p.amount)
      union all
      select 'journal row currency differs from its accounts'
        from new_rows n
        join ledger_accounts d on d.id = n.debit_account_id
        join ledger_accounts c on c.id = n.credit_account_id
       where d.currency <> n.currency or c.currency <> n.currency
      union all
      -- closed accounts take no new money; voids and expiries release, and the closing transfer
      -- itself may be posted
      select 'journal row touches a closed account'
        from new_rows n
        join ledger_accounts a on a.id = n.debit_account_id or a.id = n.credit_account_id
        left join ledger_transfers p on p.id = n.pending_id
       where a.closed and n.flags & 8 = 0
         and not (n.flags & 4 <> 0 and ((p.flags & 64 <> 0 and a.id = p.debit_account_id)
                                     or (p.flags & 128 <> 0 and a.id = p.credit_account_id)))
    ) problems limit 1 $q$ into problem;
  if problem is not null then
    raise exception '%', problem using errcode = '23514';
  end if;

  execute $q$
    with rows as (
      select n.debit_account_id, n.credit_account_id, n.flags, n.amount, p.amount as held
        from new_rows n left join ledger_transfers p on p.id = n.pending_id
    ), sides as (
      select debit_account_id as account_id,
             case when flags & 2 <> 0 then amount when flags & 12 <> 0 then -held else 0 end as dp,
             case when flags & 2 <> 0 or flags & 8 <> 0 then 0 else amount end as dpo,
             0::bigint as cp, 0::bigint as cpo
        from rows
      union all
      select credit_account_id,
             0, 0,
             case when flags & 2 <> 0 then amount when flags & 12 <> 0 then -held else 0 end,
             case when flags & 2 <> 0 or flags & 8 <> 0 then 0 else amount end
        from rows
    ), totals as (
      select account_id, sum(dp) as dp, sum(dpo) as dpo, sum(cp) as cp, sum(cpo) as cpo
        from sides group by account_id
    )
    update ledger_accounts a
       set debits_pending = a.debits_pending + t.dp,
           debits_posted = a.debits_posted + t.dpo,
           credits_pending = a.credits_pending + t.cp,
           credits_posted = a.credits_posted + t.cpo
      from totals t
     where a.id = t.account_id $q$;

  if all_flags & 12 <> 0 then
    execute $q$
      update ledger_pending h
         set status = case when n.flags & 4 <> 0 then 'posted'
                           when n.flags & 32768 <> 0 then 'expired'
                           else 'voided' end,
             resolved_by = n.id
        from new_rows n
       where h.id = n.pending_id $q$;
  end if;

  -- Closing: a pending closing transfer closes its account; voiding or expiring it reopens it.
  if all_flags & (64 | 128) <> 0 then
    execute $q$
      update ledger_accounts a set closed = true
        from new_rows n
       where n.flags & 2 <> 0
         and ((n.flags & 64 <> 0 and a.id = n.debit_account_id) or (n.flags & 128 <> 0 and a.id = n.credit_account_id)) $q$;
  end if;
  if all_flags & 8 <> 0 then
    execute $q$
      update ledger_accounts a set closed = false
        from new_rows n join ledger_transfers p on p.id = n.pending_id
       where n.flags & 8 <> 0
         and ((p.flags & 64 <> 0 and a.id = p.debit_account_id) or (p.flags & 128 <> 0 and a.id = p.credit_account_id)) $q$;
  end if;
  return null;
end $$;
create trigger ledger_transfers_apply after insert on ledger_transfers
  referencing new table as new_rows
  for each statement execute function ledger_apply_journal();

-- A refused deposit or withdrawal is `failed` with a stable code beside its message, so a replay of
-- its reference answers the same refusal (insufficient_funds, provider_refused, ledger_refused).
alter table money_movements add column failure_code text
  check (failure_code in ('insufficient_funds', 'provider_refused', 'ledger_refused'));
update money_movements set failure_code = case when failure like 'ledger refused%' then 'ledger_refused' else 'provider_refused' end
  where status = 'failed';
alter table money_movements add constraint money_movements_failed_has_code check ((status = 'failed') = (failure_code is not null));

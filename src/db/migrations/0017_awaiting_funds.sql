-- Results that wait for funds (issue #10 §4, docs/settlement.md "When the escrow runs out"): a result
-- whose hold the escrow cannot cover, or that arrives while its campaign is paused for budget, is
-- recorded as `awaiting_funds` — no hold, counted and shown — until the brand tops up and resumes
-- (its hold is then placed, in arrival order) or its grace period ends (it becomes final
-- `over_budget`). And the brand's low-escrow threshold.

alter table results drop constraint results_status_check;
alter table results add constraint results_status_check
  check (status in ('pending', 'review', 'approved', 'rejected', 'over_budget', 'reversed', 'awaiting_funds'));

-- When its grace period ends: recorded_at + the terms' budget_grace_days. Set on every result that
-- waited (kept after it was held or expired, as history); null on the others.
alter table results add column awaiting_until timestamptz;
alter table results add constraint results_awaiting_has_deadline
  check (status <> 'awaiting_funds' or (awaiting_until is not null and hold_id is null));

-- The hold pass takes a campaign's waiting results in arrival order; the expiry job finds those past
-- their grace. Both are partial: the set is empty on a campaign that never ran out.
create index results_awaiting on results (campaign_id, recorded_at, id) where status = 'awaiting_funds';
create index results_awaiting_due on results (awaiting_until) where status = 'awaiting_funds';

-- The decisions log gains the budget's decisions: new → awaiting_funds (or over_budget with no
-- grace), awaiting_funds → pending / review (held), awaiting_funds → over_budget (grace ended).
alter table result_decisions drop constraint result_decisions_to_status_check;
alter table result_decisions add constraint result_decisions_to_status_check
  check (to_status in ('pending', 'review', 'approved', 'rejected', 'reversed', 'awaiting_funds', 'over_budget'));

-- The brand's low-escrow threshold, minor units of the campaign's currency (null: none). A brand
-- setting, not a term: creators do not accept it, and changing it makes no new terms version.
alter table campaigns add column low_escrow_threshold bigint check (low_escrow_threshold >= 0);

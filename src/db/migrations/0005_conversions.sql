-- Conversions keep their attribution decision next to the request. Recording a conversion takes two
-- transactions (the decision, then the result with its hold, which `recordResults` commits on its
-- own); a conversion between the two is 'recording', and whoever sees it next — a retry, a concurrent
-- duplicate — finishes the same decision, which `recordResults` makes idempotent on the conversion id.
alter table conversions
  add column type text check (type in ('lead', 'sale')),
  add column enrolment_id text references enrolments (id),
  add column attributed_by text check (attributed_by in ('click', 'promo')),
  add column click_id text,
  add column customer_id text check (length(customer_id) <= 200),
  -- normalised (lower case, no +tag, no dots for Gmail): what duplicate and self-referral checks compare
  add column customer_email text check (length(customer_email) <= 320),
  add column order_amount bigint check (order_amount > 0),
  add column occurred_at timestamptz,
  add column reasons text[] not null default '{}';

alter table conversions drop constraint conversions_status_check;
alter table conversions add constraint conversions_status_check
  check (status in ('recording', 'attributed', 'unattributed', 'rejected', 'over_budget'));
alter table conversions add constraint conversions_attributed_has_enrolment
  check ((status = 'unattributed') = (enrolment_id is null));

create index conversions_org on conversions (org_id, id);
create index conversions_recording on conversions (created_at) where status = 'recording';
create index conversions_lead_customer on conversions (campaign_id, customer_id) where type = 'lead';
create index conversions_lead_email on conversions (campaign_id, customer_email) where type = 'lead' and customer_email is not null;
create index conversions_promo_uses on conversions (enrolment_id) where attributed_by = 'promo';
create index conversions_promo_customer on conversions (enrolment_id, customer_id) where attributed_by = 'promo';
create index conversions_promo_email on conversions (enrolment_id, customer_email) where attributed_by = 'promo' and customer_email is not null;

alter table view_reports add column decision_note text check (length(decision_note) <= 1000);
create index view_reports_campaign on view_reports (campaign_id, id);
create index view_reports_creator on view_reports (creator_id, id);

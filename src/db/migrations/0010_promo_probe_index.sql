-- The per-customer probes of a conversion batch (earlier leads, promo uses) must each find their one
-- index whatever the table's statistics say. Before statistics catch up (a fresh installation, a new
-- campaign's first burst), the planner was seen probing (campaign_id, customer_id) or
-- (enrolment_id, customer_id) by their first column alone for an email probe, filtering every lead of
-- the campaign for each probe (measured: 5–75 ms a batch at a few thousand leads, against 0.1 ms).
-- Keyed by the customer first, each index serves exactly one kind of probe. Counting a capped promo
-- code's uses goes by conversions_enrolment_time; conversions_promo_uses is not needed.
drop index conversions_promo_uses;
drop index conversions_lead_customer;
create index conversions_lead_customer on conversions (customer_id, campaign_id) where type = 'lead';
drop index conversions_lead_email;
create index conversions_lead_email on conversions (customer_email, campaign_id) where type = 'lead' and customer_email is not null;
drop index conversions_promo_customer;
create index conversions_promo_customer on conversions (customer_id, enrolment_id) where attributed_by = 'promo';
drop index conversions_promo_email;
create index conversions_promo_email on conversions (customer_email, enrolment_id) where attributed_by = 'promo' and customer_email is not null;

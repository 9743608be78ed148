-- Multi-touch attribution (issue #5 §1–3, docs/attribution.md).
--
-- A conversion's journey: every touch that counted (valid clicks inside the campaign's window, from the
-- click ids the brand sent and the same visitor's other clicks; or the promo code when no click
-- counted), in time order. `credit`: the share the campaign's model gave the touch's creator, spread
-- evenly over that creator's touches (so the journey's credits sum to 1). Written once, with the
-- conversion; the data-driven fits read converting journeys from here.
create table conversion_touches (
  conversion_id text not null references conversions (id),
  position int not null check (position >= 0),
  -- null for a promo-code touch
  click_id text,
  enrolment_id text not null,
  creator_id text not null,
  occurred_at timestamptz not null,
  credit double precision not null check (credit >= 0 and credit <= 1),
  primary key (conversion_id, position)
);
create index conversion_touches_enrolment on conversion_touches (enrolment_id, occurred_at);

-- What the conversion carried for conditional rates (incentives' rate overrides by product), and how
-- the campaign's model split it: {model, fallback, credits: [{enrolment_id, creator_id, share, weight}]}
-- — integer weights, so a retry after a crash splits the money exactly as the first attempt decided.
alter table conversions
  add column sku text check (length(sku) between 1 and 64),
  add column split jsonb;

-- A result is now one creator's part of its source: a conversion credited to several creators makes
-- one result (and one hold) per credited creator. `share` is the model's share of the conversion
-- (null: the whole of it, as before), `source_gross` what the whole conversion costs the brand — the
-- parts' gross always sum to it exactly — and `model` the attribution model that split it.
alter table results drop constraint results_kind_source_id_key;
alter table results add constraint results_one_part_per_enrolment unique (kind, source_id, enrolment_id);
create index results_source on results (source_id);
alter table results
  add column share double precision check (share > 0 and share <= 1),
  add column source_gross bigint check (source_gross >= 0),
  add column model text check (length(model) <= 32);

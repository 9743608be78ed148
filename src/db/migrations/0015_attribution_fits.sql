-- Data-driven attribution fitted per campaign (issue #5 §2, docs/attribution.md "Per-campaign fits").
--
-- An append-only history: every fit of a campaign's journeys under `markov` or `shapley`, on demand or
-- by the schedule. The latest per (campaign, model) is the one in force: a conversion on a campaign
-- whose model is data-driven is split by the weights of the latest fit of that model.
create table attribution_fits (
  id bigint generated always as identity primary key,
  campaign_id text not null references campaigns (id),
  model text not null check (model in ('markov', 'shapley')),
  fitted_at timestamptz not null,
  -- Converting journeys needed before the model is used instead of linear.
  min_conversions int not null check (min_conversions >= 1),
  -- What the fit read: journeys (converting + not), distinct paths, creators on them.
  journeys bigint not null check (journeys >= 0),
  conversions bigint not null check (conversions >= 0),
  nulls bigint not null check (nulls >= 0),
  distinct_paths bigint not null check (distinct_paths >= 0),
  creators int not null check (creators >= 0),
  check (journeys = conversions + nulls),
  -- Creator id → weight; the weights sum to 1 (empty only when there was no conversion at all).
  weights jsonb not null check (jsonb_typeof(weights) = 'object'),
  -- Set when the model could not be fitted and linear stands in for it, with the reason in words.
  fallback_model text check (fallback_model = 'linear'),
  fallback_reason text check (length(fallback_reason) between 1 and 1000),
  check ((fallback_model is null) = (fallback_reason is null)),
  -- Shapley only: exact or sampled; sampled: the standard error of each weight and the permutations drawn.
  method text check (method in ('exact', 'sampled')),
  standard_errors jsonb check (jsonb_typeof(standard_errors) = 'object'),
  permutations int check (permutations > 0),
  -- Markov only: P(conversion) of the chain and each creator's removal effect.
  conversion_probability double precision check (conversion_probability >= 0 and conversion_probability <= 1),
  removal_effects jsonb check (jsonb_typeof(removal_effects) = 'object'),
  -- The data window: the earliest and latest touch, click or conversion read (null: nothing read).
  data_from timestamptz,
  data_to timestamptz,
  check ((data_from is null) = (data_to is null) and data_from <= data_to),
  -- What the campaign had when the fit read it: the schedule refits only when one of these moved.
  last_click_id text,
  last_conversion_id text,
  converting_conversions bigint not null check (converting_conversions >= 0)
);
create index attribution_fits_latest on attribution_fits (campaign_id, model, id);

create function attribution_fits_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception 'attribution_fits is append-only: % refused', tg_op using errcode = '55000';
end $$;
create trigger attribution_fits_append_only before update or delete on attribution_fits
  for each row execute function attribution_fits_refuse_change();
create trigger attribution_fits_no_truncate before truncate on attribution_fits
  for each statement execute function attribution_fits_refuse_change();

-- The release re-check compares a creator's conversion rate with the campaign's other creators'
-- (docs/validation.md): whether a click led to a conversion is one probe of this index.
create index conversions_click on conversions (click_id) where click_id is not null;

-- Two more click flags, decided by the click writer (docs/tracking.md): `datacenter` (the visitor's IP
-- is in a cloud or hosting provider's range; the raw IP is never stored, so this is the one moment it
-- can be judged) and `paid_ad` (the tracking link was opened from a paid ad and the campaign forbids
-- paid traffic). Like bots, they are recorded and never paid.
alter table clicks drop constraint clicks_status_check;
alter table clicks add constraint clicks_status_check
  check (status in ('valid', 'bot', 'repeat', 'head', 'datacenter', 'paid_ad'));

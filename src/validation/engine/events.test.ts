import { describe, expect, it } from 'vitest';
import { parseEventLine } from './events.js';
import { DEFAULT_RULE_SETTINGS } from './settings.js';

const CAMPAIGN = {
  type: 'campaign',
  id: 'k1',
  objective: 'cpl',
  attribution_window_days: 30,
  target_countries: ['US', 'ca'],
  age_min: 18,
  age_max: null,
  paid_traffic: 'forbidden',
  required_fields: ['email'],
};
const CLICK = {
  type: 'click',
  id: 'c1',
  ts: '2025-03-01T12:00:00Z',
  campaign: 'k1',
  creator: 'cr1',
  ip: '2001:db8::1',
  ua: 'Mozilla/5.0',
  referrer: null,
  landing_url: 'https://shop.test/?utm_source=x',
};
const CONVERSION = {
  type: 'conversion',
  id: 'v1',
  ts: '2025-03-01T13:00:00.250+02:00',
  campaign: 'k1',
  event: 'sale',
  click_id: 'c1',
  promo_code: null,
  creator: null,
  ip: '198.51.100.7',
  ua: null,
  customer: { id: 'cus1', email: 'not an email', phone: null, country: 'US', age: null },
  amount: '12.50',
  currency: 'USD',
};

const line = (value: unknown) => JSON.stringify(value);
const errorOf = (text: string, n = 7) => {
  const parsed = parseEventLine(text, n);
  return parsed.ok ? undefined : parsed.error;
};

describe('parseEventLine', () => {
  it('reads the four line types of the issue, with rule defaults on the campaign', () => {
    const campaign = parseEventLine(line(CAMPAIGN), 1);
    expect(campaign).toEqual({ ok: true, event: { ...CAMPAIGN, rules: DEFAULT_RULE_SETTINGS } });
    expect(parseEventLine(line({ type: 'creator', id: 'cr1', email: 'ada@x.test', phone: null }), 2)).toEqual({
      ok: true,
      event: { type: 'creator', id: 'cr1', email: 'ada@x.test', phone: null },
    });
    expect(parseEventLine(line(CLICK), 3)).toEqual({ ok: true, event: { ...CLICK, method: 'GET', prefetch: false } });
    expect(parseEventLine(line(CONVERSION), 4)).toEqual({ ok: true, event: CONVERSION });
  });

  it('ignores unknown fields (forward compatibility) and reads an omitted nullable field as null', () => {
    const { referrer: _omitted, ...withoutReferrer } = CLICK;
    const parsed = parseEventLine(line({ ...withoutReferrer, device_model: 'Pixel 8', extra: { a: 1 } }), 1);
    expect(parsed).toEqual({ ok: true, event: { ...CLICK, referrer: null, method: 'GET', prefetch: false } });
  });

  it('takes rule overrides on the campaign line and fills the rest from the defaults', () => {
    const parsed = parseEventLine(line({ ...CAMPAIGN, rules: { injection: { invalid_below_seconds: 3, review_below_seconds: 5 } } }), 1);
    expect(parsed.ok && parsed.event.type === 'campaign' && parsed.event.rules).toEqual({
      ...DEFAULT_RULE_SETTINGS,
      injection: { enabled: true, invalid_below_seconds: 3, review_below_seconds: 5 },
    });
  });

  it.each([
    ['{"type":"click",', 'line 7: not valid JSON'],
    ['[1,2]', 'line 7: not a JSON object'],
    ['"click"', 'line 7: not a JSON object'],
    ['{"id":"x"}', 'line 7: missing "type"'],
    ['{"type":"view","id":"x"}', 'line 7: unknown type "view" (expected campaign, creator, click or conversion)'],
    ['{"type":"toString"}', 'line 7: unknown type "toString" (expected campaign, creator, click or conversion)'],
    [line({ ...CLICK, creator: undefined }), 'line 7: click.creator: missing'],
    [line({ ...CLICK, ip: '300.1.1.1' }), 'line 7: click.ip: must be an IPv4 or IPv6 address'],
    [line({ ...CLICK, ts: '2025-03-01 12:00' }), 'line 7: click.ts: must be an ISO 8601 time with a zone, e.g. 2025-01-31T12:00:00Z'],
    [line({ ...CLICK, ts: '2025-03-01T12:00:00' }), 'line 7: click.ts: must be an ISO 8601 time with a zone, e.g. 2025-01-31T12:00:00Z'],
    [line({ ...CONVERSION, event: 'install' }), 'line 7: conversion.event: Invalid option: expected one of "lead"|"sale"'],
    [line({ ...CONVERSION, customer: { email: null } }), 'line 7: conversion.customer.id: missing'],
    [line({ ...CONVERSION, currency: 'usd' }), 'line 7: conversion.currency: must be an ISO 4217 code such as USD'],
    [line({ ...CAMPAIGN, paid_traffic: 'sometimes' }), 'line 7: campaign.paid_traffic: Invalid option: expected one of "allowed"|"forbidden"'],
    [line({ ...CAMPAIGN, age_min: 40, age_max: 30 }), 'line 7: campaign.age_max: must not be below age_min'],
    [line({ ...CAMPAIGN, rules: { injecton: {} } }), 'line 7: campaign.rules: Unrecognized key: "injecton"'],
    [line({ ...CAMPAIGN, rules: { flooding: { review_p: 0.001, invalid_p: 0.01 } } }), 'line 7: campaign.rules.flooding.invalid_p: must not exceed review_p'],
  ])('%s → %s', (text, expected) => {
    expect(errorOf(text)).toBe(expected);
  });

  it('names the line number it is given', () => {
    expect(errorOf('nope', 1_000_001)).toBe('line 1000001: not valid JSON');
  });
});

import { describe, expect, it } from 'vitest';
import {
  attributionWindow,
  basicValidator,
  clickQuality,
  clickToConversionTime,
  type ConversionToValidate,
  duplicateLead,
  normaliseEmail,
  selfReferral,
} from './index.js';

const CLICK_AT = new Date('2026-03-01T12:00:00.000Z');
const DAY_MS = 86_400_000;

function input(over: Partial<ConversionToValidate> = {}, earlierLead = false): ConversionToValidate {
  return {
    kind: 'lead',
    campaignId: 'cmp_1',
    occurredAt: new Date(CLICK_AT.getTime() + 60_000),
    terms: { attribution_window_days: 30, validation: { min_ctit_seconds: 10, dedupe_leads: true, self_referral: true } },
    customer: { id: 'cus_1', email: 'bob@shop.example' },
    creatorEmail: 'ada@creators.example',
    click: { occurredAt: CLICK_AT, status: 'valid' },
    history: { hasEarlierLead: async () => earlierLead },
    ...over,
  };
}

const after = (ms: number) => new Date(CLICK_AT.getTime() + ms);

describe('click-to-conversion time', () => {
  it.each([
    [10_000, null],
    [9_999, 'ctit_too_short'],
    [0, 'ctit_too_short'],
    [-1, 'ctit_too_short'],
    [3_600_000, null],
  ])('%i ms after the click → %s', (ms, expected) => {
    expect(clickToConversionTime(input({ occurredAt: after(ms) }))).toBe(expected);
  });

  it('follows the campaign minimum, and 0 lets any non-negative time pass', () => {
    const terms = { attribution_window_days: 30, validation: { min_ctit_seconds: 0, dedupe_leads: true, self_referral: true } };
    expect(clickToConversionTime(input({ occurredAt: after(0), terms }))).toBeNull();
    expect(clickToConversionTime(input({ occurredAt: after(-1), terms }))).toBe('ctit_too_short');
    const strict = { ...terms, validation: { ...terms.validation, min_ctit_seconds: 15 } };
    expect(clickToConversionTime(input({ occurredAt: after(14_999), terms: strict }))).toBe('ctit_too_short');
  });

  it('does not apply without a click (promo codes)', () => {
    expect(clickToConversionTime(input({ click: null, occurredAt: after(0) }))).toBeNull();
  });
});

describe('attribution window', () => {
  it.each([
    [30 * DAY_MS, null],
    [30 * DAY_MS + 1, 'outside_attribution_window'],
    [DAY_MS, null],
  ])('%i ms after the click → %s', (ms, expected) => {
    expect(attributionWindow(input({ occurredAt: after(ms) }))).toBe(expected);
  });

  it('does not apply without a click', () => {
    expect(attributionWindow(input({ click: null, occurredAt: after(400 * DAY_MS) }))).toBeNull();
  });
});

describe('click quality', () => {
  it.each([
    ['valid', null],
    ['bot', 'bot_click'],
    ['repeat', 'repeat_click'],
    ['head', 'head_click'],
  ] as const)('a %s click → %s', (status, expected) => {
    expect(clickQuality(input({ click: { occurredAt: CLICK_AT, status } }))).toBe(expected);
  });
});

describe('self-referral', () => {
  it('flags the creator’s own email, and only when the campaign checks it', () => {
    expect(selfReferral(input({ customer: { id: 'x', email: 'ada@creators.example' } }))).toBe('self_referral');
    expect(selfReferral(input())).toBeNull();
    expect(selfReferral(input({ customer: { id: 'x', email: null } }))).toBeNull();
    const off = { attribution_window_days: 30, validation: { min_ctit_seconds: 10, dedupe_leads: true, self_referral: false } };
    expect(selfReferral(input({ customer: { id: 'x', email: 'ada@creators.example' }, terms: off }))).toBeNull();
  });
});

describe('duplicate lead', () => {
  it('flags a second lead from the same customer, never a sale, and only when the campaign dedupes', async () => {
    expect(await duplicateLead(input({}, true))).toBe('duplicate_lead');
    expect(await duplicateLead(input({}, false))).toBeNull();
    expect(await duplicateLead(input({ kind: 'sale' }, true))).toBeNull();
    const off = { attribution_window_days: 30, validation: { min_ctit_seconds: 10, dedupe_leads: false, self_referral: true } };
    expect(await duplicateLead(input({ terms: off }, true))).toBeNull();
  });

  it('asks the history with the campaign and the customer', async () => {
    const asked: unknown[] = [];
    await duplicateLead(input({ history: { hasEarlierLead: async (c, cu) => (asked.push([c, cu]), false) } }));
    expect(asked).toEqual([['cmp_1', { id: 'cus_1', email: 'bob@shop.example' }]]);
  });
});

describe('basic validator', () => {
  it('passes a clean conversion', async () => {
    expect(await basicValidator().validateConversion(input())).toEqual([]);
  });

  it('reports every failing rule, in a fixed order', async () => {
    const reasons = await basicValidator().validateConversion(
      input({ click: { occurredAt: CLICK_AT, status: 'bot' }, occurredAt: after(1_000), customer: { id: 'c', email: 'ada@creators.example' } }, true),
    );
    expect(reasons).toEqual(['bot_click', 'ctit_too_short', 'self_referral', 'duplicate_lead']);
  });
});

describe('normaliseEmail', () => {
  it.each([
    ['Bob@Shop.Example', 'bob@shop.example'],
    ['  bob+promo@shop.example ', 'bob@shop.example'],
    ['b.o.b@shop.example', 'b.o.b@shop.example'],
    ['Ada.L+shop@GoogleMail.com', 'adal@gmail.com'],
    ['a.d.a@gmail.com', 'ada@gmail.com'],
    ['+tag@shop.example', '+tag@shop.example'],
  ])('%s → %s', (email, expected) => {
    expect(normaliseEmail(email)).toBe(expected);
  });
});

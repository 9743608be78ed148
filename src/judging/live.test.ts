import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { termsInputSchema } from '../terms/terms.js';
import { defaultDatacenterRanges } from '../validation/datacenter/index.js';
import { DEFAULT_RULE_SETTINGS } from '../validation/engine/index.js';
import type { ConversionToValidate, StoredClick } from './types.js';
import { customerIpHash, engineValidator, pseudoAddress, recheckTraffic, type StoredConversion } from './index.js';
import { ruleSettingsFor } from '../terms/index.js';

/** The engine on live traffic: the intake validator, the release re-check, pseudo-addresses and settings. */
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const CLICK_AT = new Date('2026-03-01T12:00:00.000Z');
const after = (ms: number) => new Date(CLICK_AT.getTime() + ms);
const BASE_VALIDATION = { min_ctit_seconds: 10, dedupe_leads: true, self_referral: true };

function storedClick(over: Partial<StoredClick> = {}): StoredClick {
  return { id: 'clk_1', occurredAt: CLICK_AT, ipHash: 'hash-1', userAgent: CHROME, referrer: null, landingUrl: 'https://shop.example/?ern_cid=clk_1', status: 'valid', ...over };
}

function input(over: Partial<ConversionToValidate> = {}, validation: Record<string, unknown> = {}, earlierLead = false): ConversionToValidate {
  return {
    id: 'cnv_1',
    kind: 'lead',
    campaignId: 'cmp_1',
    occurredAt: after(60_000),
    terms: { objective: 'cpl', attribution_window_days: 30, validation: { ...BASE_VALIDATION, ...validation } },
    customer: { id: 'cus_1', email: 'bob@shop.example', phone: null, country: null, age: null },
    device: { ip: null, userAgent: null },
    creator: { id: 'cr_1', email: 'ada@creators.example', phone: '+14155550100' },
    click: storedClick(),
    promoCode: null,
    amount: null,
    currency: null,
    history: { hasEarlierLead: async () => earlierLead },
    ...over,
  };
}

const validator = engineValidator();
const judge = (i: ConversionToValidate) => validator.validateConversion(i);

describe('the intake validator', () => {
  it('passes a clean lead with no reasons', async () => {
    expect(await judge(input())).toEqual({ verdict: 'valid', reasons: [] });
  });

  it.each([
    [9_999, 'invalid', ['ctit_too_short']],
    [10_000, 'review', ['ctit_short']],
    [14_999, 'review', ['ctit_short']],
    [15_000, 'valid', []],
  ] as const)('judges a conversion %i ms after its click %s', async (ms, verdict, reasons) => {
    expect(await judge(input({ occurredAt: after(ms) }))).toEqual({ verdict, reasons });
  });

  it('calls a conversion before its click conversion_before_click, without the stream artefact out_of_order', async () => {
    expect(await judge(input({ occurredAt: after(-1) }))).toEqual({ verdict: 'invalid', reasons: ['conversion_before_click'] });
  });

  it('follows the campaign minimum: min_ctit_seconds 20 makes 19.999 s invalid and 20 s valid', async () => {
    expect((await judge(input({ occurredAt: after(19_999) }, { min_ctit_seconds: 20 }))).verdict).toBe('invalid');
    expect(await judge(input({ occurredAt: after(20_000) }, { min_ctit_seconds: 20 }))).toEqual({ verdict: 'valid', reasons: [] });
  });

  it('lets explicit rules override the terms fields', async () => {
    const rules = { injection: { review_below_seconds: 30 } };
    expect(await judge(input({ occurredAt: after(20_000) }, { rules }))).toEqual({ verdict: 'review', reasons: ['ctit_short'] });
  });

  it('judges the outside of the attribution window, its last instant passing', async () => {
    const window = 30 * 86_400_000;
    expect(await judge(input({ occurredAt: after(window) }))).toEqual({ verdict: 'valid', reasons: [] });
    expect(await judge(input({ occurredAt: after(window + 1) }))).toEqual({ verdict: 'invalid', reasons: ['outside_attribution_window'] });
  });

  it.each([
    ['bot', ['bot_click', 'bot_agent'], { userAgent: 'curl/8.4.0' }],
    ['head', ['head_click', 'head_request'], {}],
    ['datacenter', ['datacenter_click'], {}],
    ['paid_ad', ['paid_ad_click'], {}],
  ] as const)('inherits a %s click as tracking stored it: invalid', async (status, reasons, over) => {
    expect(await judge(input({ click: storedClick({ status, ...over }) }))).toEqual({ verdict: 'invalid', reasons });
  });

  it('pays the conversion of a visitor who clicked twice: a repeat click is not paid per click but convicts nothing', async () => {
    expect(await judge(input({ click: storedClick({ status: 'repeat' }) }))).toEqual({ verdict: 'valid', reasons: [] });
  });

  it("finds self-referral by the creator's normalised email and by phone", async () => {
    const byEmail = input({ customer: { id: 'c', email: 'ADA+promo@Creators.example', phone: null, country: null, age: null } });
    expect(await judge(byEmail)).toMatchObject({ verdict: 'invalid', reasons: ['self_referral'] });
    const byPhone = input({ customer: { id: 'c', email: 'bob@shop.example', phone: '(415) 555-0100', country: 'US', age: null } });
    expect(await judge(byPhone)).toMatchObject({ verdict: 'invalid', reasons: ['self_referral'] });
    expect((await judge({ ...byPhone, terms: { ...byPhone.terms, validation: { ...BASE_VALIDATION, self_referral: false } } })).verdict).toBe('valid');
  });

  it('refuses a disposable email and reviews a lead under the campaign threshold', async () => {
    const disposable = input({ customer: { id: 'c', email: 'x@mailinator.com', phone: null, country: null, age: null } });
    expect(await judge(disposable)).toEqual({ verdict: 'invalid', reasons: ['email_disposable', 'lead_score_low'] });
    const role = input({ customer: { id: 'c', email: 'info@shop.example', phone: null, country: null, age: null } });
    // A role account (score 80) waits for a person; under a threshold of 90 it also scores too low.
    expect(await judge(role)).toEqual({ verdict: 'review', reasons: ['email_role_account'] });
    const strict = { ...role, terms: { ...role.terms, validation: { ...BASE_VALIDATION, min_lead_score: 90 } } };
    expect(await judge(strict)).toEqual({ verdict: 'review', reasons: ['email_role_account', 'lead_score_low'] });
    const phone = input({ customer: { id: 'c', email: 'bob@shop.example', phone: '+1 415 555 0199', country: null, age: null } });
    expect(await judge(phone)).toEqual({ verdict: 'valid', reasons: [] });
    const lenient = { ...strict, terms: { ...strict.terms, validation: { ...BASE_VALIDATION, min_lead_score: 80 } } };
    expect(await judge(lenient)).toEqual({ verdict: 'review', reasons: ['email_role_account'] });
  });

  it('checks targeting and required fields from the terms', async () => {
    const targeted = { target_countries: ['US'], age_min: 18, age_max: 65, required_fields: ['email', 'country'] };
    const fits = input({ customer: { id: 'c', email: 'bob@shop.example', phone: null, country: 'US', age: 18 } }, targeted);
    expect(await judge(fits)).toEqual({ verdict: 'valid', reasons: [] });
    const off = input({ customer: { id: 'c', email: 'bob@shop.example', phone: null, country: 'FR', age: 66 } }, targeted);
    expect(await judge(off)).toMatchObject({ verdict: 'invalid', reasons: ['country_not_targeted', 'age_out_of_range', 'lead_score_low'] });
    const missing = input({ customer: { id: 'c', email: 'bob@shop.example', phone: null, country: null, age: 30 } }, targeted);
    expect((await judge(missing)).reasons).toContain('required_field_missing');
  });

  it('pays a lead whose age and country are unknown when the campaign targets them without requiring them', async () => {
    const targeted = { target_countries: ['US'], age_min: 18, age_max: 65, required_fields: ['email'] };
    const unknown = input({ customer: { id: 'c', email: 'bob@shop.example', phone: null, country: null, age: null } }, targeted);
    expect(await judge(unknown)).toEqual({ verdict: 'valid', reasons: [] });
    const unfilled = input({ customer: { id: 'c', email: 'bob@shop.example', phone: null, country: null, age: 0 } }, targeted);
    expect(await judge(unfilled)).toEqual({ verdict: 'valid', reasons: [] });
  });

  it("reviews a device in a data-centre range and refuses a scripted agent, from the brand's optional device fields", async () => {
    expect(await judge(input({ device: { ip: '3.5.140.1', userAgent: CHROME } }))).toEqual({ verdict: 'review', reasons: ['datacenter_ip'] });
    expect(await judge(input({ device: { ip: '81.2.69.160', userAgent: 'python-requests/2.31' } }))).toEqual({ verdict: 'invalid', reasons: ['bot_agent'] });
    expect(await judge(input({ device: { ip: '81.2.69.160', userAgent: CHROME } }))).toEqual({ verdict: 'valid', reasons: [] });
  });

  it('asks the history for earlier leads, only for leads and only when the campaign dedupes', async () => {
    const asked: unknown[] = [];
    const history = { hasEarlierLead: async (campaign: string, customer: unknown) => (asked.push([campaign, customer]), true) };
    const lead = input({ history, customer: { id: 'c', email: 'Bob+x@Shop.example', phone: null, country: null, age: null } });
    expect(await judge(lead)).toEqual({ verdict: 'invalid', reasons: ['duplicate_lead'] });
    expect(asked).toEqual([['cmp_1', { id: 'c', email: 'bob@shop.example' }]]);
    expect((await judge({ ...lead, kind: 'sale', terms: { ...lead.terms, objective: 'cpa_fixed' } })).verdict).toBe('valid');
    expect((await judge({ ...lead, terms: { ...lead.terms, validation: { ...BASE_VALIDATION, dedupe_leads: false } } })).verdict).toBe('valid');
    expect(asked).toHaveLength(1);
  });

  it('judges a promo-code conversion without a click', async () => {
    expect(await judge(input({ click: null, promoCode: 'ADA7', occurredAt: after(1) }))).toEqual({ verdict: 'valid', reasons: [] });
  });
});

describe('pseudo-addresses', () => {
  const ranges = defaultDatacenterRanges();
  const docPrefix = ipaddr.parseCIDR('2001:db8::/32');

  it('are stable, inside 2001:db8::/32, one /64 per hash, and never in a data-centre range', () => {
    fc.assert(
      // A hash that starts with "4:" is an IPv4 hash, kept in IPv4 (the next test).
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (rawA, rawB) => {
        const ipv6Hash = (s: string) => (s.startsWith('4:') ? `6${s}` : s);
        const [a, b] = [ipv6Hash(rawA), ipv6Hash(rawB)];
        const pa = pseudoAddress(a);
        expect(pseudoAddress(a)).toBe(pa);
        expect(ipaddr.parse(pa).match(docPrefix)).toBe(true);
        expect(ranges.match(pa)).toBeUndefined();
        if (a !== b) expect(pa.split(':').slice(0, 4).join(':')).not.toBe(pseudoAddress(b).split(':').slice(0, 4).join(':'));
      }),
      { numRuns: 300 },
    );
  });

  it('keep an IPv4 hash in IPv4 (240.0.0.0/4 without broadcast), outside every range', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 64 }), (hex) => {
        const pa = pseudoAddress(`4:${hex}`);
        const parsed = ipaddr.parse(pa);
        expect(parsed.kind()).toBe('ipv4');
        expect((parsed as ipaddr.IPv4).octets[0]).toBeGreaterThanOrEqual(240);
        expect((parsed as ipaddr.IPv4).octets[0]).toBeLessThanOrEqual(254);
        expect(ranges.match(pa)).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('hash a customer IPv6 address as its /64 and an IPv4-mapped one as IPv4', () => {
    const a = customerIpHash('salt', '2a01:4f8:1:2::10');
    expect(a).toMatch(/^6:[0-9a-f]{64}$/);
    expect(customerIpHash('salt', '2a01:4f8:1:2:abcd::99')).toBe(a);
    expect(customerIpHash('salt', '2a01:4f8:1:3::10')).not.toBe(a);
    expect(customerIpHash('salt', '::ffff:81.2.69.160')).toBe(customerIpHash('salt', '81.2.69.160'));
    expect(customerIpHash('salt', '81.2.69.160')).toMatch(/^4:/);
    expect(customerIpHash('other', '81.2.69.160')).not.toBe(customerIpHash('salt', '81.2.69.160'));
  });
});

describe('the release re-check', () => {
  const terms = { objective: 'cpl' as const, attribution_window_days: 30, validation: BASE_VALIDATION };
  const creator = { id: 'cr_1', email: 'ada@creators.example', phone: null };
  const HOUR = 3_600_000;

  function traffic(ctitMs: (i: number) => number, n: number, over: Partial<StoredConversion> = {}) {
    const clicks: StoredClick[] = [];
    const conversions: StoredConversion[] = [];
    for (let i = 0; i < n; i++) {
      const at = new Date(CLICK_AT.getTime() + i * 7 * 60_000);
      clicks.push(storedClick({ id: `clk_${i}`, occurredAt: at, ipHash: `h${i}` }));
      conversions.push({
        id: `cnv_${i}`,
        occurredAt: new Date(at.getTime() + ctitMs(i)),
        kind: 'lead',
        clickId: `clk_${i}`,
        promoCode: null,
        customer: { id: `c${i}`, email: `person${i}@shop.example`, phone: null, country: null, age: null },
        ipHash: null,
        userAgent: null,
        amount: null,
        currency: null,
        ...over,
      });
    }
    return { campaignId: 'cmp_1', terms, creator, clicks, conversions };
  }

  it('leaves honest traffic valid (conversions minutes after their clicks)', () => {
    const verdicts = recheckTraffic(traffic((i) => (2 + (i % 20)) * 60_000, 30));
    expect([...verdicts.values()].filter((v) => v.verdict !== 'valid')).toEqual([]);
  });

  it('flags a flood: conversions mostly more than 24 h after their clicks', () => {
    const verdicts = recheckTraffic(traffic((i) => (i % 5 === 0 ? 2 * HOUR : 30 * HOUR), 20));
    const flagged = [...verdicts.values()].filter((v) => v.kind === 'conversion' && v.verdict !== 'valid');
    expect(flagged).toHaveLength(20);
    for (const v of flagged) expect(v.reasons).toContain('ctit_mostly_late');
  });

  it('needs ten conversions before judging a distribution', () => {
    const verdicts = recheckTraffic(traffic(() => 30 * HOUR, 9));
    expect([...verdicts.values()].every((v) => v.verdict === 'valid')).toBe(true);
  });

  it('finds a burst of conversions from one device through its stored IP hash', () => {
    const verdicts = recheckTraffic(traffic(() => 5 * 60_000, 5, { ipHash: '4:farm', userAgent: CHROME }));
    expect(verdicts.get('cnv_4')).toMatchObject({ verdict: 'invalid', reasons: ['conversion_burst'] });
  });
});

describe('settings', () => {
  it('are the engine defaults for the default terms', () => {
    expect(ruleSettingsFor(BASE_VALIDATION)).toMatchObject({ success: true, data: DEFAULT_RULE_SETTINGS });
  });

  it('move the review zone with min_ctit_seconds: up to 5 s above it, not past 15 s, none when the brand sets 0', () => {
    const injection = (min_ctit_seconds: number) => ruleSettingsFor({ ...BASE_VALIDATION, min_ctit_seconds }).data?.injection;
    expect(injection(10)).toMatchObject({ invalid_below_seconds: 10, review_below_seconds: 15 });
    expect(injection(3)).toMatchObject({ invalid_below_seconds: 3, review_below_seconds: 8 });
    expect(injection(12)).toMatchObject({ invalid_below_seconds: 12, review_below_seconds: 15 });
    expect(injection(30)).toMatchObject({ invalid_below_seconds: 30, review_below_seconds: 30 });
    expect(injection(0)).toMatchObject({ invalid_below_seconds: 0, review_below_seconds: 0 });
  });

  it('pay a conversion 1 s after its click when the brand set min_ctit_seconds to 0', async () => {
    expect(await judge(input({ occurredAt: after(1_000) }, { min_ctit_seconds: 0 }))).toEqual({ verdict: 'valid', reasons: [] });
    expect(await judge(input({ occurredAt: after(1_000) }))).toEqual({ verdict: 'invalid', reasons: ['ctit_too_short'] });
  });

  it('are checked when terms are written: unknown rules, inconsistent thresholds, ages', () => {
    const terms = (validation: unknown) =>
      termsInputSchema.safeParse({
        objective: 'cpl',
        rate: '1.00',
        currency: 'USD',
        budget: '10.00',
        destination_url: 'https://shop.example/',
        starts_at: '2026-01-01T00:00:00Z',
        ends_at: '2027-01-01T00:00:00Z',
        kpi_target: 1,
        validation,
      });
    expect(terms({ min_lead_score: 70, target_countries: ['US'], rules: { flooding: { min_conversions: 20 } } }).success).toBe(true);
    expect(terms({ rules: { floodng: {} } }).error?.issues[0]?.path).toEqual(['validation', 'rules']);
    expect(terms({ min_ctit_seconds: 20, rules: { injection: { review_below_seconds: 12 } } }).error?.issues[0]?.path).toEqual([
      'validation',
      'rules',
      'injection',
      'review_below_seconds',
    ]);
    expect(terms({ age_min: 30, age_max: 20 }).error?.issues[0]?.path).toEqual(['validation', 'age_max']);
    expect(terms({ target_countries: ['us'] }).success).toBe(false);
    expect(terms({ rules: [] }).success).toBe(false);
  });
});

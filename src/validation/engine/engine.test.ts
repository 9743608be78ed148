import { describe, expect, it } from 'vitest';
import { carriesParam, createEngine, scoreEvents } from './engine.js';
import { type EngineEvent, parseEventLine } from './events.js';
import { REASON_CODES } from './reasons.js';
import {
  agent,
  campaign,
  CHROME,
  click,
  conversion,
  converted,
  creator,
  DAY,
  fakeCheckLead,
  fakeDeps,
  HOUR,
  inTimeOrder,
  judged,
  MINUTE,
  scoreAll,
} from './test-fixtures.js';
import type { EngineDeps, LeadSettings } from './types.js';

const people = (n: number) => Array.from({ length: n }, (_, i) => creator(`cr${i + 1}`));
const BASE: EngineEvent[] = [campaign(), ...people(3)];

describe('agents', () => {
  it.each([
    ['jsdom', 'Mozilla/5.0 (linux) AppleWebKit/537.36 (KHTML, like Gecko) jsdom/24.1.0', 'bot_agent'],
    ['SlimerJS', 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/115.0 SlimerJS/1.0.0', 'bot_agent'],
    ['a declared crawler', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'bot_agent'],
    ['headless Chrome', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0 Safari/537.36', 'bot_agent'],
    ['curl', 'curl/8.4.0', 'bot_agent'],
    ['no agent at all', '', 'bot_agent'],
    ['an HTTP library that is not on isbot', 'Dalvik/2.1.0 (Linux; U; Android 12)', 'non_browser_agent'],
  ])('%s is invalid', (_name, ua, reason) => {
    expect(judged(scoreAll([...BASE, click('c1', 0, { ua })]), 'c1')).toEqual(['invalid', [reason]]);
  });

  it.each([
    ['desktop Chrome', CHROME],
    ['the Instagram in-app browser', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 300.0.0.0'],
    ['the Facebook in-app browser', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/440.0]'],
  ])('%s is valid', (_name, ua) => {
    expect(judged(scoreAll([...BASE, click('c1', 0, { ua })]), 'c1')).toEqual(['valid', []]);
  });

  it('HEAD and prefetch requests are invalid', () => {
    const v = scoreAll([...BASE, click('c1', 0, { method: 'head' }), click('c2', 1, { prefetch: true, creator: 'cr2' })]);
    expect(judged(v, 'c1')).toEqual(['invalid', ['head_request']]);
    expect(judged(v, 'c2')).toEqual(['invalid', ['prefetch_request']]);
  });

  it('require_browser off lets a non-browser agent through; the rule off lets bots through', () => {
    const lenient = scoreAll([campaign({ rules: { agents: { require_browser: false } } }), creator('cr1'), click('c1', 0, { ua: 'Dalvik/2.1.0 (Linux; U; Android 12)' })]);
    expect(judged(lenient, 'c1')).toEqual(['valid', []]);
    const off = scoreAll([campaign({ rules: { agents: { enabled: false } } }), creator('cr1'), click('c1', 0, { ua: 'curl/8.4.0', method: 'HEAD' })]);
    expect(judged(off, 'c1')).toEqual(['valid', []]);
  });

  it("a conversion's own bot agent is invalid, and a conversion inherits its click's bot verdict", () => {
    const c1 = click('c1', 0, { ua: 'python-requests/2.31' });
    const c2 = click('c2', 0, { creator: 'cr2' });
    const v = scoreAll([...BASE, c1, c2, converted(c1, 'v1', 10 * MINUTE), converted(c2, 'v2', 10 * MINUTE, { ua: 'curl/8.4.0' })]);
    expect(judged(v, 'v1')).toEqual(['invalid', ['bot_agent']]);
    expect(judged(v, 'v2')).toEqual(['invalid', ['bot_agent']]);
  });
});

describe('data-centre IPs', () => {
  it('a click from a hosting range is invalid, a conversion reported from one is reviewed; both tunable; off means valid', () => {
    const c1 = click('c1', 0, { ip: '203.0.113.9' });
    const c2 = click('c2', 0, { creator: 'cr2' });
    const v = scoreAll([...BASE, c1, c2, converted(c2, 'v2', HOUR, { ip: '203.0.113.10' }), converted(c1, 'v1', HOUR)]);
    expect(judged(v, 'c1')).toEqual(['invalid', ['datacenter_ip']]);
    // A residential click whose conversion the shop's server reports from a cloud address: a person looks.
    expect(judged(v, 'v2')).toEqual(['review', ['datacenter_ip']]);
    // A conversion through a data-centre click carries the click's verdict.
    expect(judged(v, 'v1')).toEqual(['invalid', ['datacenter_ip']]);
    const strict = scoreAll([campaign({ rules: { datacenter: { conversion_verdict: 'invalid' } } }), ...people(2), c2, converted(c2, 'v2', HOUR, { ip: '203.0.113.10' })]);
    expect(judged(strict, 'v2')).toEqual(['invalid', ['datacenter_ip']]);
    const review = scoreAll([campaign({ rules: { datacenter: { verdict: 'review' } } }), creator('cr1'), c1]);
    expect(judged(review, 'c1')).toEqual(['review', ['datacenter_ip']]);
    const off = scoreAll([campaign({ rules: { datacenter: { enabled: false } } }), creator('cr1'), c1]);
    expect(judged(off, 'c1')).toEqual(['valid', []]);
  });

  it('asks the lookup once per IP', () => {
    let calls = 0;
    const deps: EngineDeps = { ...fakeDeps, datacenter: () => (calls++, undefined) };
    scoreAll([...BASE, click('c1', 0), click('c2', 1, { creator: 'cr2' }), click('c3', 2, { creator: 'cr3' })], deps);
    expect(calls).toBe(1);
  });
});

describe('paid-ad traffic', () => {
  const forbidden = (rules = {}) => [campaign({ paid_traffic: 'forbidden', rules }), ...people(3)];

  it.each([
    ['https://shop.test/?gclid=abc', true],
    ['https://shop.test/p?utm_source=x&fbclid=IwAR0', true],
    ['https://shop.test/p?MSCLKID=1', true],
    ['https://shop.test/p?li%5Ffat%5Fid=1', true],
    ['https://shop.test/p?gclid=', false],
    ['https://shop.test/p?gclid', false],
    ['https://shop.test/p#gclid=abc', false],
    ['https://shop.test/p?x=1#gclid=abc', false],
    ['https://shop.test/p?xgclid=1', false],
    ['https://shop.test/gclid=1', false],
  ])('%s carries a paid click id: %s', (url, expected) => {
    expect(carriesParam(url, new Set(['gclid', 'fbclid', 'msclkid', 'li_fat_id']))).toBe(expected);
  });

  it('is invalid only when the campaign forbids paid traffic, and the conversion inherits it', () => {
    const paid = click('c1', 0, { landing_url: 'https://shop.test/?ttclid=1' });
    const v = scoreAll([...forbidden(), paid, converted(paid, 'v1', HOUR)]);
    expect(judged(v, 'c1')).toEqual(['invalid', ['paid_ad_traffic']]);
    expect(judged(v, 'v1')).toEqual(['invalid', ['paid_ad_traffic']]);
    expect(judged(scoreAll([...BASE, paid]), 'c1')).toEqual(['valid', []]);
  });

  it("takes the campaign's own parameter list", () => {
    const rules = { paid_ads: { params: ['GBRAID'] } };
    const v = scoreAll([...forbidden(rules), click('c1', 0, { landing_url: 'https://shop.test/?gbraid=1' }), click('c2', 0, { creator: 'cr2', landing_url: 'https://shop.test/?gclid=1' })]);
    expect(judged(v, 'c1')).toEqual(['invalid', ['paid_ad_traffic']]);
    expect(judged(v, 'c2')).toEqual(['valid', []]);
  });
});

describe('repeat clicks', () => {
  it('same IP, agent and link within the hour: the first is valid, the repeat invalid; exactly an hour later is valid again', () => {
    const v = scoreAll([...BASE, click('c1', 0), click('c2', HOUR - 1), click('c3', HOUR)]);
    expect(judged(v, 'c1')).toEqual(['valid', []]);
    expect(judged(v, 'c2')).toEqual(['invalid', ['repeat_click']]);
    expect(judged(v, 'c3')).toEqual(['valid', []]);
  });

  it('another link, agent or IP is not a repeat', () => {
    const v = scoreAll([...BASE, click('c1', 0), click('c2', 1, { creator: 'cr2' }), click('c3', 2, { ua: agent(1) }), click('c4', 3, { ip: '198.51.100.8' })]);
    expect([...v.values()].map((x) => x.verdict)).toEqual(['valid', 'valid', 'valid', 'valid']);
  });

  it('an invalid click does not open a window; a conversion on a repeat click is not penalised and claims its lead', () => {
    const paid = click('c1', 0, { landing_url: 'https://shop.test/?gclid=1' });
    const second = click('c2', 60);
    const third = click('c3', 120);
    const again = conversion('v2', 20 * MINUTE, { creator: 'cr1', promo_code: 'ADA', customer: { id: 'u', email: 'v1@customers.test', phone: null, country: 'US', age: 30 } });
    const v = scoreAll([campaign({ paid_traffic: 'forbidden' }), creator('cr1'), paid, second, third, converted(third, 'v1', 10 * MINUTE), again]);
    expect(judged(v, 'c2')).toEqual(['valid', []]);
    expect(judged(v, 'c3')).toEqual(['invalid', ['repeat_click']]);
    expect(judged(v, 'v1')).toEqual(['valid', []]);
    // v1 is a lead that counts: the same customer again is a duplicate.
    expect(judged(v, 'v2')).toEqual(['invalid', ['duplicate_lead']]);
  });

  it('the window is tunable and the rule can be off', () => {
    const events = [click('c1', 0), click('c2', 10 * MINUTE)];
    const short = scoreAll([campaign({ rules: { repeat_clicks: { window_seconds: 600 } } }), creator('cr1'), ...events]);
    expect(judged(short, 'c2')).toEqual(['valid', []]);
    const off = scoreAll([campaign({ rules: { repeat_clicks: { enabled: false } } }), creator('cr1'), ...events]);
    expect(judged(off, 'c2')).toEqual(['valid', []]);
  });
});

describe('click velocity', () => {
  const many = people(80);
  const base = [campaign(), ...many];

  it('one visitor (IP + agent): 10 clicks within a minute pass, the 11th marks all 11 invalid', () => {
    const ten = Array.from({ length: 10 }, (_, i) => click(`c${i}`, i * 5, { creator: `cr${i + 1}` }));
    expect([...scoreAll([...base, ...ten]).values()].every((x) => x.verdict === 'valid')).toBe(true);
    const eleven = [...ten, click('c10', 59, { creator: 'cr11' })];
    const v = scoreAll([...base, ...eleven]);
    expect([...v.values()].map((x) => x.reasons)).toEqual(Array(11).fill(['visitor_velocity']));
    expect(judged(v, 'c0')[0]).toBe('invalid');
  });

  it('the window is exclusive: an 11th click exactly a minute after the first leaves 10 inside', () => {
    const clicks = Array.from({ length: 11 }, (_, i) => click(`c${i}`, i === 10 ? 60 : i, { creator: `cr${i + 1}` }));
    expect([...scoreAll([...base, ...clicks]).values()].every((x) => x.verdict === 'valid')).toBe(true);
  });

  it('one visitor: more than 60 clicks in an hour is review', () => {
    const clicks = Array.from({ length: 61 }, (_, i) => click(`c${i}`, i * 55, { creator: `cr${i + 1}` }));
    const v = scoreAll([...base, ...clicks]);
    expect(judged(v, 'c0')).toEqual(['review', ['visitor_velocity']]);
    const sixty = scoreAll([...base, ...clicks.slice(0, 60)]);
    expect(judged(sixty, 'c0')).toEqual(['valid', []]);
  });

  it('an office or carrier NAT: hundreds of people behind one IP at human rates stay valid, and so do their conversions', () => {
    const events: EngineEvent[] = [...base];
    for (let i = 0; i < 300; i++) {
      const c = click(`c${i}`, i * 12, { ua: agent(i), creator: `cr${(i % 80) + 1}` });
      events.push(c);
      if (i % 20 === 0) events.push(converted(c, `v${i}`, 5 * MINUTE, { ip: c.ip, ua: c.ua }));
    }
    const v = scoreAll(inTimeOrder(events));
    expect([...v.values()].filter((x) => x.verdict !== 'valid')).toEqual([]);
    expect(v.size).toBe(315);
  });

  it('one IP, any agents: 60 clicks in a minute pass, 61 are review', () => {
    const clicks = Array.from({ length: 61 }, (_, i) => click(`c${i}`, i * 0.9, { ua: agent(i), creator: `cr${i + 1}` }));
    expect(judged(scoreAll([...base, ...clicks.slice(0, 60)]), 'c0')).toEqual(['valid', []]);
    expect(judged(scoreAll([...base, ...clicks]), 'c0')).toEqual(['review', ['ip_velocity']]);
  });

  it('one IP, any agents, on one link: 20 clicks a minute pass, 21 are review; spread over links they pass', () => {
    const oneLink = Array.from({ length: 21 }, (_, i) => click(`c${i}`, i * 2.5, { ua: agent(i) }));
    expect(judged(scoreAll([...base, ...oneLink.slice(0, 20)]), 'c0')).toEqual(['valid', []]);
    expect(judged(scoreAll([...base, ...oneLink]), 'c0')).toEqual(['review', ['ip_velocity']]);
    const spread = oneLink.map((c, i) => ({ ...c, creator: `cr${(i % 2) + 1}` }));
    expect(judged(scoreAll([...base, ...spread]), 'c0')).toEqual(['valid', []]);
  });

  it('an IPv6 address counts as its /64: rotating the rest of the address is still one visitor', () => {
    const rotating = Array.from({ length: 11 }, (_, i) => click(`c${i}`, i, { creator: `cr${i + 1}`, ip: `2001:db8:aa:bb:${i.toString(16)}::1` }));
    expect(judged(scoreAll([...base, ...rotating]), 'c0')).toEqual(['invalid', ['visitor_velocity']]);
    const repeat = scoreAll([...base, click('c1', 0, { ip: '2001:db8:aa:bb::1' }), click('c2', 60, { ip: '2001:db8:aa:bb:ffff:1:2:3' }), click('c3', 120, { ip: '::ffff:198.51.100.7' }), click('c4', 180)]);
    expect([...repeat.values()].map((x) => x.reasons)).toEqual([[], ['repeat_click'], [], ['repeat_click']]);
  });

  it("a creator's clicks per minute or per hour over the limit are review; bots do not count towards velocity", () => {
    const rules = { click_velocity: { creator_per_minute: 3 } };
    const clicks = Array.from({ length: 4 }, (_, i) => click(`c${i}`, i, { ip: `198.51.100.${i + 1}` }));
    expect(judged(scoreAll([campaign({ rules }), creator('cr1'), ...clicks]), 'c3')).toEqual(['review', ['creator_velocity']]);
    const withBot = [...clicks.slice(0, 3), click('bot', 3, { ip: '198.51.100.99', ua: 'curl/8' })];
    const v = scoreAll([campaign({ rules }), creator('cr1'), ...withBot]);
    expect(judged(v, 'c0')).toEqual(['valid', []]);
    const hourly = { click_velocity: { creator_per_hour: 3 } };
    const spread = clicks.map((c, i) => ({ ...c, ts: click('x', i * 15 * MINUTE).ts }));
    expect(judged(scoreAll([campaign({ rules: hourly }), creator('cr1'), ...spread]), 'c0')).toEqual(['review', ['creator_velocity']]);
    expect(judged(scoreAll([campaign({ rules: hourly }), creator('cr1'), ...spread.slice(0, 3)]), 'c0')).toEqual(['valid', []]);
  });

  it('limits are tunable, null turns one off, and the rule can be off', () => {
    const clicks = Array.from({ length: 4 }, (_, i) => click(`c${i}`, i, { creator: `cr${i + 1}` }));
    const strict = scoreAll([campaign({ rules: { click_velocity: { visitor_per_minute: 3, visitor_per_minute_verdict: 'review' } } }), ...many, ...clicks]);
    expect(judged(strict, 'c0')).toEqual(['review', ['visitor_velocity']]);
    const nulled = scoreAll([campaign({ rules: { click_velocity: { visitor_per_minute: null, visitor_per_hour: 3 } } }), ...many, ...clicks]);
    expect(judged(nulled, 'c0')).toEqual(['review', ['visitor_velocity']]);
    const off = scoreAll([campaign({ rules: { click_velocity: { enabled: false, visitor_per_minute: 3 } } }), ...many, ...clicks]);
    expect(judged(off, 'c0')).toEqual(['valid', []]);
  });
});

describe('conversion bursts and velocity', () => {
  const promo = (id: string, seconds: number, ip: string, ua: string) => conversion(id, seconds, { creator: 'cr1', promo_code: 'ADA', ip, ua });

  it('one device (IP + agent): 3 conversions an hour pass, a 4th marks all 4 invalid', () => {
    const four = [0, 600, 1200, HOUR - 1].map((s, i) => promo(`v${i}`, s, '198.51.100.7', CHROME));
    expect([...scoreAll([...BASE, ...four.slice(0, 3)]).values()].every((x) => x.verdict === 'valid')).toBe(true);
    const v = scoreAll([...BASE, ...four]);
    expect([...v.values()].map((x) => judged(v, x.id))).toEqual(Array(4).fill(['invalid', ['conversion_burst']]));
    const spread = [0, 600, 1200, HOUR].map((s, i) => promo(`v${i}`, s, '198.51.100.7', CHROME));
    expect([...scoreAll([...BASE, ...spread]).values()].every((x) => x.verdict === 'valid')).toBe(true);
  });

  it('the clicks of a burst are convicted with it', () => {
    const clicks = [0, 1, 2, 3].map((i) => click(`c${i}`, i * 60, { creator: `cr${(i % 3) + 1}`, ip: '198.51.100.7', ua: CHROME }));
    const v = scoreAll([...BASE, ...clicks, ...clicks.map((c, i) => converted(c, `v${i}`, 10 * MINUTE, { ip: '198.51.100.7', ua: CHROME }))]);
    expect(judged(v, 'c0')).toEqual(['invalid', ['conversion_burst']]);
    expect(judged(v, 'v3')).toEqual(['invalid', ['conversion_burst']]);
  });

  it('one IPv6 /64, any agents: 3 conversions in 10 minutes pass, 4 are review; on IPv4 (NAT) 4 pass', () => {
    const v6 = ['2001:db8:1:2::1', '2001:db8:1:2:aaaa::9', '2001:0db8:0001:0002:ffff::1', '2001:db8:1:2::77'];
    const four = v6.map((ip, i) => promo(`v${i}`, i * 199, ip, agent(i)));
    expect(judged(scoreAll([...BASE, ...four]), 'v0')).toEqual(['review', ['conversion_burst']]);
    expect(judged(scoreAll([...BASE, ...four.slice(0, 3)]), 'v0')).toEqual(['valid', []]);
    const slower = v6.map((ip, i) => promo(`v${i}`, i * 200, ip, agent(i)));
    expect(judged(scoreAll([...BASE, ...slower]), 'v0')).toEqual(['valid', []]);
    const otherNetwork = [...four.slice(0, 3), promo('v3', 597, '2001:db8:1:3::1', agent(3))];
    expect(judged(scoreAll([...BASE, ...otherNetwork]), 'v0')).toEqual(['valid', []]);
    const v4 = four.map((c) => ({ ...c, ip: '198.51.100.7' }));
    expect(judged(scoreAll([...BASE, ...v4]), 'v0')).toEqual(['valid', []]);
  });

  it('one IP with different agents: 5 in 10 minutes pass, 6 are review; 20 an hour pass, 21 are review', () => {
    const six = Array.from({ length: 6 }, (_, i) => promo(`v${i}`, i * 119.8, '198.51.100.7', agent(i)));
    expect(judged(scoreAll([...BASE, ...six.slice(0, 5)]), 'v0')).toEqual(['valid', []]);
    expect(judged(scoreAll([...BASE, ...six]), 'v0')).toEqual(['review', ['conversion_burst']]);
    const spread = Array.from({ length: 6 }, (_, i) => promo(`v${i}`, i * 120, '198.51.100.7', agent(i)));
    expect(judged(scoreAll([...BASE, ...spread]), 'v0')).toEqual(['valid', []]);
    const hourly = Array.from({ length: 21 }, (_, i) => promo(`v${i}`, i * 170, '198.51.100.7', agent(i)));
    expect(judged(scoreAll([...BASE, ...hourly.slice(0, 20)]), 'v0')).toEqual(['valid', []]);
    expect(judged(scoreAll([...BASE, ...hourly]), 'v0')).toEqual(['review', ['conversion_burst']]);
  });

  it("a creator's conversions per minute and per hour over the limits are review", () => {
    const rules = { conversion_velocity: { creator_per_minute: 2, creator_per_hour: 4 } };
    const perMinute = [0, 20, 40].map((s, i) => promo(`v${i}`, s, `198.51.100.${i + 1}`, CHROME));
    expect(judged(scoreAll([campaign({ rules }), creator('cr1'), ...perMinute]), 'v0')).toEqual(['review', ['creator_velocity']]);
    const perHour = [0, 600, 1200, 1800, 2400].map((s, i) => promo(`v${i}`, s, `198.51.100.${i + 1}`, CHROME));
    expect(judged(scoreAll([campaign({ rules }), creator('cr1'), ...perHour]), 'v0')).toEqual(['review', ['creator_velocity']]);
    expect(judged(scoreAll([campaign({ rules }), creator('cr1'), ...perHour.slice(0, 4)]), 'v0')).toEqual(['valid', []]);
  });

  it('the device verdict is tunable and the rule can be off', () => {
    const four = [0, 1, 2, 3].map((s, i) => promo(`v${i}`, s * 600, '198.51.100.7', CHROME));
    const review = scoreAll([campaign({ rules: { conversion_velocity: { device_verdict: 'review' } } }), creator('cr1'), ...four]);
    expect(judged(review, 'v0')).toEqual(['review', ['conversion_burst']]);
    const off = scoreAll([campaign({ rules: { conversion_velocity: { enabled: false } } }), creator('cr1'), ...four]);
    expect(judged(off, 'v0')).toEqual(['valid', []]);
  });
});

describe('click-to-conversion time (injection)', () => {
  it.each([
    [9.999, 'invalid', ['ctit_too_short']],
    [0, 'invalid', ['ctit_too_short']],
    [10, 'review', ['ctit_short']],
    [14.999, 'review', ['ctit_short']],
    [15, 'valid', []],
  ])('%f s after the click → %s', (seconds, verdict, reasons) => {
    const c = click('c1', 0);
    expect(judged(scoreAll([...BASE, c, converted(c, 'v1', seconds)]), 'v1')).toEqual([verdict, reasons]);
  });

  it('an injected click is convicted with its conversion; other clicks of the creator are not', () => {
    const injected = click('c1', 0);
    const honest = click('c2', 1, { ip: '198.51.100.8' });
    const v = scoreAll([...BASE, injected, honest, converted(injected, 'v1', 3), converted(honest, 'v2', 10 * MINUTE)]);
    expect(judged(v, 'c1')).toEqual(['invalid', ['ctit_too_short']]);
    expect(judged(v, 'c2')).toEqual(['valid', []]);
    expect(judged(v, 'v2')).toEqual(['valid', []]);
  });

  it('thresholds are tunable; off means no CTIT rule', () => {
    const c = click('c1', 0);
    const tuned = scoreAll([campaign({ rules: { injection: { invalid_below_seconds: 3, review_below_seconds: 5 } } }), creator('cr1'), c, converted(c, 'v1', 4)]);
    expect(judged(tuned, 'v1')).toEqual(['review', ['ctit_short']]);
    const off = scoreAll([campaign({ rules: { injection: { enabled: false } } }), creator('cr1'), c, converted(c, 'v1', 1)]);
    expect(judged(off, 'v1')).toEqual(['valid', []]);
  });

  it('a conversion timed before its click, read out of order, is invalid and says both', () => {
    const c = click('c1', 100);
    const v = scoreAll([...BASE, c, conversion('v1', 50, { click_id: 'c1' })]);
    expect(judged(v, 'v1')).toEqual(['invalid', ['out_of_order', 'conversion_before_click']]);
  });
});

describe('attribution window', () => {
  it('exactly the window after the click passes; a millisecond later is invalid', () => {
    const c = click('c1', 0);
    const events = [campaign({ attribution_window_days: 7 }), creator('cr1'), c];
    expect(judged(scoreAll([...events, converted(c, 'v1', 7 * DAY)]), 'v1')).toEqual(['valid', []]);
    expect(judged(scoreAll([...events, converted(c, 'v1', 7 * DAY + 0.001)]), 'v1')).toEqual(['invalid', ['outside_attribution_window']]);
    const off = [campaign({ attribution_window_days: 7, rules: { attribution_window: { enabled: false } } }), creator('cr1'), c];
    expect(judged(scoreAll([...off, converted(c, 'v1', 8 * DAY)]), 'v1')).toEqual(['valid', []]);
  });
});

describe('attribution and input integrity (fail closed)', () => {
  it('a conversion with no click and no creator is invalid: unattributed', () => {
    const v = scoreAll([...BASE, click('c1', 0), conversion('v1', 60), conversion('v2', 61, { click_id: 'nope' })]);
    expect(judged(v, 'v1')).toEqual(['invalid', ['unattributed']]);
    expect(judged(v, 'v2')).toEqual(['invalid', ['unattributed']]);
  });

  it("a click of another campaign does not attribute; a promo code's creator does", () => {
    const other = click('c1', 0, { campaign: 'k2' });
    const v = scoreAll([...BASE, campaign({ id: 'k2' }), other, conversion('v1', 60, { click_id: 'c1' }), conversion('v2', 61, { click_id: 'c1', creator: 'cr2', promo_code: 'BOB' })]);
    expect(judged(v, 'v1')).toEqual(['invalid', ['unattributed']]);
    expect(judged(v, 'v2')).toEqual(['valid', []]);
  });

  it("a conversion naming another creator than its click's is review", () => {
    const c = click('c1', 0);
    expect(judged(scoreAll([...BASE, c, converted(c, 'v1', HOUR, { creator: 'cr2' })]), 'v1')).toEqual(['review', ['creator_mismatch']]);
  });

  it('unknown campaigns and creators are invalid; a repeated id is invalid the second time', () => {
    const v = scoreAll([...BASE, click('c1', 0, { campaign: 'zz' }), click('c2', 1, { creator: 'ghost' }), conversion('v1', 2, { campaign: 'zz', creator: 'cr1' }), conversion('v2', 3, { creator: 'ghost' })]);
    expect(judged(v, 'c1')).toEqual(['invalid', ['unknown_campaign']]);
    expect(judged(v, 'c2')).toEqual(['invalid', ['unknown_creator']]);
    expect(judged(v, 'v1')).toEqual(['invalid', ['unknown_campaign']]);
    expect(judged(v, 'v2')).toEqual(['invalid', ['unknown_creator']]);
    const dup = createEngine(fakeDeps);
    for (const e of [...BASE, click('c1', 0), click('c1', 1, { creator: 'cr2' })]) dup.push(e);
    expect([...dup.finish()].map((x) => [x.verdict, x.reasons])).toEqual([
      ['valid', []],
      ['invalid', ['duplicate_id']],
    ]);
  });

  it('an event older than one already read is review, never valid', () => {
    const v = scoreAll([...BASE, click('c1', 100), click('c2', 50, { creator: 'cr2' })]);
    expect(judged(v, 'c2')).toEqual(['review', ['out_of_order']]);
  });

  it('a campaign line again changes the rules from then on', () => {
    const a = click('c1', 0);
    const b = click('c2', 0, { creator: 'cr2' });
    const v = scoreAll([campaign({ rules: { injection: { enabled: false } } }), ...people(2), a, b, converted(a, 'v1', 1), campaign(), converted(b, 'v2', 2)]);
    expect(judged(v, 'v1')).toEqual(['valid', []]);
    expect(judged(v, 'v2')).toEqual(['invalid', ['ctit_too_short']]);
  });
});

describe('self-referral', () => {
  it("the customer's normalised email or phone is the creator's own: invalid, for leads and sales", () => {
    const events = [campaign(), creator('cr1', { email: 'Ada@Creators.test', phone: '+1 415 555 0100' }), click('c1', 0)];
    const c = events[2] as ReturnType<typeof click>;
    const byEmail = converted(c, 'v1', HOUR, { customer: { id: 'x', email: 'ada+shop@creators.test', phone: null, country: 'US', age: 30 } });
    const byPhone = converted(c, 'v2', HOUR, { event: 'sale', amount: '10.00', currency: 'USD', customer: { id: 'y', email: null, phone: '+1 (415) 555-0100', country: 'US', age: null } });
    const other = converted(c, 'v3', HOUR, { customer: { id: 'z', email: 'bob@customers.test', phone: '+1 415 555 0199', country: 'US', age: 30 } });
    const v = scoreAll([...events, byEmail, byPhone, other]);
    expect(judged(v, 'v1')).toEqual(['invalid', ['self_referral']]);
    expect(judged(v, 'v2')).toEqual(['invalid', ['self_referral']]);
    expect(judged(v, 'v3')).toEqual(['valid', []]);
    const off = scoreAll([campaign({ rules: { self_referral: { enabled: false } } }), ...events.slice(1), byEmail]);
    expect(judged(off, 'v1')).toEqual(['valid', []]);
  });
});

describe('lead quality', () => {
  const lead = (id: string, email: string | null, over = {}) =>
    conversion(id, 0, { creator: 'cr1', promo_code: 'ADA', customer: { id, email, phone: null, country: 'US', age: 30 }, ...over });

  it('hard failures are invalid, a role account waits for review, a score under the minimum is review', () => {
    const v = scoreAll([...BASE, lead('v1', 'bad-address'), lead('v2', 'x@trash.test'), lead('v3', 'info@customers.test'), lead('v4', 'ok@customers.test')]);
    expect(judged(v, 'v1')).toEqual(['invalid', ['email_invalid', 'lead_score_low']]);
    expect(judged(v, 'v2')).toEqual(['invalid', ['email_disposable', 'lead_score_low']]);
    expect(v.get('v3')).toEqual({ id: 'v3', kind: 'conversion', verdict: 'review', score: 70, reasons: ['email_role_account'] });
    expect(v.get('v4')).toEqual({ id: 'v4', kind: 'conversion', verdict: 'valid', score: 100, reasons: [] });
    const strict = scoreAll([campaign({ rules: { leads: { min_score: 81 } } }), creator('cr1'), lead('v3', 'info@customers.test')]);
    expect(judged(strict, 'v3')).toEqual(['review', ['email_role_account', 'lead_score_low']]);
  });

  it('a sale is not judged as a lead, but one from a disposable address waits for review', () => {
    const sale = (id: string, email: string) => lead(id, email, { event: 'sale', amount: '20.00', currency: 'USD' });
    const v = scoreAll([campaign({ objective: 'cpa_fixed' }), creator('cr1'), sale('s1', 'x@trash.test'), sale('s2', 'info@customers.test'), sale('s3', 'bad-address')]);
    expect(judged(v, 's1')).toEqual(['review', ['email_disposable']]);
    expect(judged(v, 's2')).toEqual(['valid', []]);
    expect(judged(v, 's3')).toEqual(['valid', []]);
    const off = scoreAll([campaign({ objective: 'cpa_fixed', rules: { leads: { enabled: false } } }), creator('cr1'), sale('s1', 'x@trash.test')]);
    expect(judged(off, 's1')).toEqual(['valid', []]);
  });

  it("passes the campaign's lead settings to the checker", () => {
    const seen: LeadSettings[] = [];
    const deps: EngineDeps = { ...fakeDeps, checkLead: (input, settings) => (seen.push(settings), fakeCheckLead(input, settings)) };
    const c = campaign({ required_fields: ['email', 'phone'], target_countries: ['DE'], age_min: 18, age_max: 65, rules: { leads: { min_score: 70 } } });
    const v = scoreAll([c, creator('cr1'), lead('v1', 'ok@customers.test')], deps);
    expect(seen).toContainEqual({ required_fields: ['email', 'phone'], target_countries: ['DE'], age_min: 18, age_max: 65, min_lead_score: 70 });
    expect(judged(v, 'v1')).toEqual(['invalid', ['required_field_missing', 'lead_score_low']]);
  });

  it('fails closed: a checker that throws, answers an unknown code or no number gives review; a low score without its code is still review', () => {
    const throwing: EngineDeps = { ...fakeDeps, checkLead: () => { throw new Error('boom'); } };
    expect(judged(scoreAll([...BASE, lead('v1', 'ok@customers.test')], throwing), 'v1')).toEqual(['review', ['lead_check_failed']]);
    const unknown: EngineDeps = { ...fakeDeps, checkLead: () => ({ score: 100, reasons: ['email_from_the_future'], emailKey: null, phoneKey: null }) };
    expect(judged(scoreAll([...BASE, lead('v1', 'ok@customers.test')], unknown), 'v1')).toEqual(['review', ['lead_check_failed']]);
    const nan: EngineDeps = { ...fakeDeps, checkLead: () => ({ score: Number.NaN, reasons: [], emailKey: null, phoneKey: null }) };
    expect(judged(scoreAll([...BASE, lead('v1', 'ok@customers.test')], nan), 'v1')).toEqual(['review', ['lead_check_failed']]);
    const silent: EngineDeps = { ...fakeDeps, checkLead: () => ({ score: 10, reasons: [], emailKey: null, phoneKey: null }) };
    expect(scoreAll([...BASE, lead('v1', 'ok@customers.test')], silent).get('v1')).toEqual({ id: 'v1', kind: 'conversion', verdict: 'review', score: 10, reasons: ['lead_score_low'] });
  });

  it('sales are not lead-checked; the rule can be off', () => {
    const sale = lead('v1', 'bad-address', { event: 'sale', amount: 12.5, currency: 'USD' });
    expect(judged(scoreAll([...BASE, sale]), 'v1')).toEqual(['valid', []]);
    const off = scoreAll([campaign({ rules: { leads: { enabled: false } } }), creator('cr1'), lead('v1', 'bad-address')]);
    expect(judged(off, 'v1')).toEqual(['valid', []]);
  });

  it('duplicates by normalised email or phone: the first lead that is not invalid stays valid, later ones are invalid', () => {
    const withPhone = (id: string, email: string, phone: string) =>
      conversion(id, 0, { creator: 'cr1', promo_code: 'ADA', customer: { id, email, phone, country: 'US', age: 30 } });
    const v = scoreAll([
      ...BASE,
      withPhone('v1', 'Eve@customers.test', '+1 202 555 0111'),
      withPhone('v2', 'eve+again@customers.test', '+1 202 555 0199'),
      withPhone('v3', 'other@customers.test', '+1-202-555-0111'),
      withPhone('v4', 'fresh@customers.test', '+1 202 555 0177'),
    ]);
    expect([...v.values()].map((x) => [x.id, x.verdict, x.reasons])).toEqual([
      ['v1', 'valid', []],
      ['v2', 'invalid', ['duplicate_lead']],
      ['v3', 'invalid', ['duplicate_lead']],
      ['v4', 'valid', []],
    ]);
  });

  it('an invalid first lead (its click was a bot) does not block the honest one; other campaigns and dedupe off do not count', () => {
    const bot = click('c1', 0, { ua: 'curl/8' });
    const human = click('c2', 0, { creator: 'cr2' });
    const customer = { id: 'x', email: 'eve@customers.test', phone: null, country: 'US', age: 30 };
    const v = scoreAll([...BASE, campaign({ id: 'k2' }), bot, human, converted(bot, 'v1', HOUR, { customer }), converted(human, 'v2', HOUR, { customer }), conversion('v3', 2 * HOUR, { campaign: 'k2', creator: 'cr1', customer })]);
    expect(judged(v, 'v1')).toEqual(['invalid', ['bot_agent']]);
    expect(judged(v, 'v2')).toEqual(['valid', []]);
    expect(judged(v, 'v3')).toEqual(['valid', []]);
    const off = scoreAll([campaign({ rules: { leads: { dedupe: false } } }), creator('cr1'), lead('v1', 'eve@customers.test'), lead('v2', 'eve@customers.test')]);
    expect(judged(off, 'v2')).toEqual(['valid', []]);
  });
});

/**
 * A creator's traffic for the cohort rules: `n` clicks from distinct visitors, and conversions on the
 * first of them at the given CTITs (seconds).
 */
function traffic(creatorId: string, n: number, ctits: readonly number[], start = 0): EngineEvent[] {
  const events: EngineEvent[] = [];
  for (let i = 0; i < n; i++) {
    const c = click(`${creatorId}-c${i}`, start + i * 30, { creator: creatorId, ip: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, ua: agent(i) });
    events.push(c);
    if (i < ctits.length) events.push(converted(c, `${creatorId}-v${i}`, ctits[i] as number));
  }
  return events;
}

const LATE = 2 * DAY;
const EARLY = 10 * MINUTE;
const MIDDAY = 12 * HOUR;

describe('click flooding (cohort)', () => {
  const run = (events: EngineEvent[]) => scoreAll(inTimeOrder([campaign(), ...people(3), ...events]));

  it('mostly late: 8 of 10 after 24 h is review, 10 of 10 invalid, 7 of 10 passes (binomial test against 30 %)', () => {
    const verdictOf = (late: number) => judged(run(traffic('cr1', 10, [...Array(late).fill(LATE), ...Array(10 - late).fill(EARLY)])), 'cr1-v0');
    expect(verdictOf(7)).toEqual(['valid', []]);
    expect(verdictOf(8)).toEqual(['review', ['ctit_mostly_late']]);
    expect(verdictOf(10)).toEqual(['invalid', ['ctit_mostly_late']]);
  });

  it("marks every click and click-attributed conversion of the creator, not promo-code sales or other creators", () => {
    const flood = traffic('cr1', 12, Array(10).fill(LATE));
    const v = run([...flood, ...traffic('cr2', 10, Array(10).fill(EARLY)), conversion('promo', 0, { creator: 'cr1', promo_code: 'ADA' })]);
    expect(judged(v, 'cr1-c11')).toEqual(['invalid', ['ctit_mostly_late']]);
    expect(judged(v, 'cr1-v9')).toEqual(['invalid', ['ctit_mostly_late']]);
    expect(judged(v, 'promo')).toEqual(['valid', []]);
    expect(judged(v, 'cr2-v0')).toEqual(['valid', []]);
  });

  it('needs the minimum sample: 9 conversions, all late, pass', () => {
    expect(judged(run(traffic('cr1', 9, Array(9).fill(LATE))), 'cr1-v0')).toEqual(['valid', []]);
  });

  it('flat: none of 10 conversions within the first hour is review; 1 of 10 passes; a flat spread over 24 h of 40 is invalid', () => {
    expect(judged(run(traffic('cr1', 10, Array(10).fill(MIDDAY))), 'cr1-v0')).toEqual(['review', ['ctit_flat']]);
    expect(judged(run(traffic('cr1', 10, [EARLY, ...Array(9).fill(MIDDAY)])), 'cr1-v0')).toEqual(['valid', []]);
    const uniform = Array.from({ length: 40 }, (_, i) => (i + 0.5) * 36 * MINUTE);
    expect(judged(run(traffic('cr1', 40, uniform)), 'cr1-v0')).toEqual(['invalid', ['ctit_flat']]);
  });

  it('an honest creator with slow deciders (15 % after a day, a decaying tail) is not flagged', () => {
    const ctits = Array.from({ length: 60 }, (_, i) => (i < 9 ? LATE + i * HOUR : i < 45 ? 20 + i * 60 : 2 * HOUR + i * 600));
    const v = run(traffic('cr1', 400, ctits));
    expect([...v.values()].filter((x) => x.verdict !== 'valid')).toEqual([]);
  });

  it('conversions not valid on their own (review or invalid) do not count; tunable; off means no flag', () => {
    const reviewed = traffic('cr1', 10, Array(10).fill(MIDDAY)).map((e) => (e.type === 'conversion' ? { ...e, creator: 'cr2' } : e));
    expect(judged(run(reviewed), 'cr1-c0')).toEqual(['valid', []]);
    const injected = traffic('cr1', 10, Array(10).fill(MIDDAY)).map((e) => (e.type === 'conversion' ? { ...e, ua: 'curl/8' } : e));
    expect(judged(run(injected), 'cr1-c0')).toEqual(['valid', []]);
    const events = [...people(1), ...traffic('cr1', 10, [EARLY, ...Array(9).fill(MIDDAY)])];
    const strict = scoreAll(inTimeOrder([campaign({ rules: { flooding: { early_share_min: 0.8 } } }), ...events]));
    expect(judged(strict, 'cr1-v0')).toEqual(['invalid', ['ctit_flat']]);
    const off = scoreAll(inTimeOrder([campaign({ rules: { flooding: { enabled: false } } }), ...people(1), ...traffic('cr1', 10, Array(10).fill(LATE))]));
    expect(judged(off, 'cr1-v0')).toEqual(['valid', []]);
  });

  it('the server can score one creator alone with scoreEvents and gets the same cohort verdict', () => {
    const flood = traffic('cr1', 10, Array(10).fill(LATE));
    const alone = scoreEvents(inTimeOrder([campaign(), creator('cr1'), ...flood]), fakeDeps);
    const all = run([...flood, ...traffic('cr2', 10, Array(10).fill(EARLY))]);
    for (const v of alone) expect(all.get(v.id)).toEqual(v);
  });
});

describe('conversion rate far below the campaign (cohort)', () => {
  /** Other creators: 1,000 clicks and 100 conversions, a pooled rate of exactly 10 %. */
  const baseline = [...traffic('cr2', 500, Array(50).fill(EARLY)), ...traffic('cr3', 500, Array(50).fill(EARLY), 1)];
  const run = (events: EngineEvent[], rules = {}) => scoreAll(inTimeOrder([campaign({ rules }), ...people(3), ...baseline, ...events]));

  it.each([
    // P(X ≤ k | 100, 0.1): k=2 → 0.0019 (passes), k=1 → 3.2e-4 (review), k=0 → 2.7e-5 (review)
    [2, 'valid', []],
    [1, 'review', ['conversion_rate_low']],
    [0, 'review', ['conversion_rate_low']],
  ])('100 clicks and %i conversions against 10 %% → %s', (k, verdict, reasons) => {
    expect(judged(run(traffic('cr1', 100, Array(k).fill(EARLY))), 'cr1-c99')).toEqual([verdict, reasons]);
  });

  it('a flood of 1,000 clicks with 2 conversions is invalid; the honest creators stay valid', () => {
    const v = run(traffic('cr1', 1000, [EARLY, EARLY]));
    expect(judged(v, 'cr1-c999')).toEqual(['invalid', ['conversion_rate_low']]);
    expect(judged(v, 'cr1-v0')).toEqual(['invalid', ['conversion_rate_low']]);
    expect(judged(v, 'cr2-c0')).toEqual(['valid', []]);
  });

  it('takes the other creators from a baseline on the campaign line when their traffic is not in the stream', () => {
    const alone = (baseline: { clicks: number; conversions: number } | undefined, k: number) =>
      scoreAll(inTimeOrder([campaign(baseline ? { baseline } : {}), ...people(1), ...traffic('cr1', 100, Array(k).fill(EARLY))]));
    // The same 10 % as the creators above, given as counts: the same verdicts.
    expect(judged(alone({ clicks: 1000, conversions: 100 }, 1), 'cr1-c99')).toEqual(['review', ['conversion_rate_low']]);
    expect(judged(alone({ clicks: 1000, conversions: 100 }, 2), 'cr1-c99')).toEqual(['valid', []]);
    expect(judged(alone(undefined, 1), 'cr1-c99')).toEqual(['valid', []]); // nobody to compare with
    expect(parseEventLine(JSON.stringify({ ...campaign(), baseline: { clicks: 5, conversions: 6 } }), 1)).toMatchObject({ ok: false });
  });

  it('needs a rate under a quarter of the others\': exactly a quarter passes however significant, just under is invalid', () => {
    // P(X ≤ 10 | 400, 0.1) = 4.7e-9 and P(X ≤ 9 | 400, 0.1) = 1.1e-9: both far below invalid_p.
    expect(judged(run(traffic('cr1', 400, Array(10).fill(EARLY))), 'cr1-c0')).toEqual(['valid', []]);
    expect(judged(run(traffic('cr1', 400, Array(9).fill(EARLY))), 'cr1-c0')).toEqual(['invalid', ['conversion_rate_low']]);
  });

  it("an honest creator at half the others' rate is not flagged, however many clicks; the ratio is tunable", () => {
    expect(judged(run(traffic('cr1', 2000, Array(100).fill(EARLY))), 'cr1-c0')).toEqual(['valid', []]);
    const stricter = run(traffic('cr1', 2000, Array(100).fill(EARLY)), { conversion_rate: { max_rate_ratio: 0.6 } });
    expect(judged(stricter, 'cr1-c0')).toEqual(['invalid', ['conversion_rate_low']]);
  });

  it('needs 5 expected conversions at the pooled rate: 49 clicks are not tested, 50 are (p = 0.005)', () => {
    const lenient = { conversion_rate: { review_p: 0.01 } };
    expect(judged(run(traffic('cr1', 49, []), lenient), 'cr1-c0')).toEqual(['valid', []]);
    expect(judged(run(traffic('cr1', 50, []), lenient), 'cr1-c0')).toEqual(['review', ['conversion_rate_low']]);
    expect(judged(run(traffic('cr1', 50, [])), 'cr1-c0')).toEqual(['valid', []]);
  });

  it("leaves a star out: an honest creator is not condemned because another creator's audience converts ten times better", () => {
    // cr2 converts at 50 % on 1,000 clicks, cr3 at 5 %: pooled with the star the others convert at 27.5 %;
    // cr1 at 4 % on 400 clicks would be far below that, but is at 0.8 × cr3's rate once the star is left out.
    const star = [...traffic('cr2', 1000, Array(500).fill(EARLY)), ...traffic('cr3', 1000, Array(50).fill(EARLY), 1)];
    const honest = traffic('cr1', 400, Array(16).fill(EARLY), 2);
    const v = scoreAll(inTimeOrder([campaign(), ...people(3), ...star, ...honest]));
    expect(judged(v, 'cr1-c0')).toEqual(['valid', []]);
    // A flood stays caught against the creators left: 1,000 clicks and 2 conversions.
    const flood = scoreAll(inTimeOrder([campaign(), ...people(3), ...star, ...traffic('cr1', 1000, [EARLY, EARLY], 2)]));
    expect(judged(flood, 'cr1-c0')).toEqual(['invalid', ['conversion_rate_low']]);
  });

  it('leaves the star out of a baseline given as counts only when the counts say who it is and that others remain', () => {
    const alone = (baseline: { clicks: number; conversions: number; top?: { clicks: number; conversions: number }; creators?: number }) =>
      scoreAll(inTimeOrder([campaign({ baseline }), ...people(1), ...traffic('cr1', 400, Array(16).fill(EARLY))]));
    const totals = { clicks: 2000, conversions: 550 };
    expect(judged(alone({ ...totals, top: { clicks: 1000, conversions: 500 }, creators: 2 }), 'cr1-c0')).toEqual(['valid', []]);
    expect(judged(alone(totals), 'cr1-c0')[0]).not.toBe('valid');
    // The top one is the only other creator: nobody would be left to compare with, so it stays in.
    expect(judged(alone({ ...totals, top: { clicks: 2000, conversions: 550 }, creators: 1 }), 'cr1-c0')[0]).not.toBe('valid');
    expect(parseEventLine(JSON.stringify({ ...campaign(), baseline: { ...totals, top: { clicks: 3000, conversions: 1 } } }), 1)).toMatchObject({ ok: false });
  });

  it('needs a baseline: with too few conversions elsewhere nothing is tested; off means no flag', () => {
    const thin = scoreAll(inTimeOrder([campaign(), ...people(3), ...traffic('cr2', 200, Array(20).fill(EARLY)), ...traffic('cr1', 1000, [])]));
    expect(judged(thin, 'cr1-c0')).toEqual(['valid', []]);
    expect(judged(run(traffic('cr1', 1000, []), { conversion_rate: { enabled: false } }), 'cr1-c0')).toEqual(['valid', []]);
  });
});

describe('verdicts', () => {
  it('reasons come in REASON_CODES order, each once, whatever order the rules found them in', () => {
    const bot = click('c1', 0, { ua: 'curl/8', ip: '203.0.113.1', landing_url: 'https://shop.test/?gclid=1' });
    const v = scoreAll([campaign({ paid_traffic: 'forbidden' }), creator('cr1'), bot, converted(bot, 'v1', 1, { ua: 'curl/8', customer: { id: 'x', email: 'bad', phone: null, country: null, age: null } })]);
    const reasons = judged(v, 'v1')[1];
    expect(reasons).toEqual(['bot_agent', 'datacenter_ip', 'paid_ad_traffic', 'ctit_too_short', 'email_invalid', 'lead_score_low']);
    expect(reasons).toEqual(REASON_CODES.filter((code) => reasons.includes(code)));
  });

  it('scores: 100 when clean, less 30 per review reason and 70 per invalid one, floored at 0', () => {
    const c = click('c1', 0);
    const clean = click('c0', 0, { creator: 'cr3', ip: '198.51.100.20' });
    const v = scoreAll([...BASE, clean, c, click('c2', 1, { ua: 'curl/8', creator: 'cr2' }), click('c3', 2, { creator: 'cr3', ua: 'curl/8', ip: '203.0.113.5' }), converted(c, 'v1', 12)]);
    expect(v.get('c0')?.score).toBe(100);
    expect(v.get('v1')?.score).toBe(70);
    expect(v.get('c2')?.score).toBe(30);
    expect(v.get('c3')?.score).toBe(0);
  });

  it('push answers a provisional verdict that finish can only make worse', () => {
    const engine = createEngine(fakeDeps);
    for (const e of [campaign(), ...people(11)]) engine.push(e);
    const provisional = Array.from({ length: 11 }, (_, i) => engine.push(click(`c${i}`, i, { creator: `cr${i + 1}` })));
    expect(provisional[0]).toEqual({ id: 'c0', kind: 'click', verdict: 'valid', score: 100, reasons: [] });
    expect(provisional[10]?.verdict).toBe('invalid');
    const final = [...engine.finish()];
    expect(final[0]).toEqual({ id: 'c0', kind: 'click', verdict: 'invalid', score: 30, reasons: ['visitor_velocity'] });
    expect(() => engine.finish()).toThrow(/finish called twice/);
    expect(() => engine.push(click('late', 99))).toThrow(/push after finish/);
  });

  it('campaign and creator lines give no verdict; every click and conversion gets exactly one, in input order', () => {
    const c = click('c1', 0);
    const verdicts = scoreEvents([...BASE, c, converted(c, 'v1', HOUR), click('c2', HOUR + 1, { creator: 'cr2' })], fakeDeps);
    expect(verdicts.map((v) => [v.id, v.kind])).toEqual([
      ['c1', 'click'],
      ['v1', 'conversion'],
      ['c2', 'click'],
    ]);
  });
});

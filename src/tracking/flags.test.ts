import { describe, expect, it } from 'vitest';
import { countryFrom, isAutomatedAgent, markRepeats, REPEAT_WINDOW_MS, type RepeatCandidate, statusAtAccept } from './flags.js';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const SAFARI_IOS =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

describe('isAutomatedAgent', () => {
  it.each([
    [CHROME, false],
    [SAFARI_IOS, false],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0', false],
    ['Googlebot/2.1 (+http://www.google.com/bot.html)', true],
    ['facebookexternalhit/1.1', true],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36', true],
    ['Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/534.34 (KHTML, like Gecko) PhantomJS/1.9.8 Safari/534.34', true],
    [`${CHROME} Puppeteer`, true],
    [`${CHROME} Playwright/1.44`, true],
    ['curl/8.5.0', true],
    ['Wget/1.21.4', true],
    ['python-requests/2.31.0', true],
    ['', true],
    [null, true],
  ])('%s → %s', (ua, bot) => {
    expect(isAutomatedAgent(ua)).toBe(bot);
    expect(isAutomatedAgent(ua)).toBe(bot); // memoised answer is the same
  });
});

describe('statusAtAccept', () => {
  it('flags HEAD before bots, bots before anything else', () => {
    expect(statusAtAccept('HEAD', CHROME)).toBe('head');
    expect(statusAtAccept('HEAD', 'curl/8.5.0')).toBe('head');
    expect(statusAtAccept('GET', 'curl/8.5.0')).toBe('bot');
    expect(statusAtAccept('GET', CHROME)).toBe('valid');
  });
});

describe('countryFrom', () => {
  it.each([
    ['DE', 'DE'],
    ['us', 'US'],
    [' fr ', 'FR'],
    [['GB', 'IE'], 'GB'],
    ['XX', null],
    ['T1', null],
    ['USA', null],
    ['', null],
    [undefined, null],
  ])('%o → %o', (value, expected) => {
    expect(countryFrom(value as string | string[] | undefined)).toBe(expected);
  });
});

describe('markRepeats', () => {
  const T = 1_700_000_000_000;
  const click = (key: string, occurredMs: number, status: RepeatCandidate['status'] = 'valid'): RepeatCandidate => ({ key, occurredMs, status });

  it('keeps the first click of a visitor in an hour valid and flags the rest, in time order', () => {
    const clicks = [click('a', T + 10_000), click('a', T), click('b', T + 5), click('a', T + REPEAT_WINDOW_MS - 1), click('a', T + REPEAT_WINDOW_MS)];
    markRepeats(clicks, new Map());
    expect(clicks.map((c) => c.status)).toEqual(['repeat', 'valid', 'valid', 'repeat', 'valid']);
  });

  it('compares with valid clicks already written, before or after (another process may have written a later one first)', () => {
    const clicks = [click('a', T), click('b', T), click('c', T)];
    markRepeats(clicks, new Map([['a', [T - 30 * 60_000]], ['b', [T + 60_000]], ['c', [T - REPEAT_WINDOW_MS]]]));
    expect(clicks.map((c) => c.status)).toEqual(['repeat', 'repeat', 'valid']);
  });

  it('never turns bots or HEAD requests into repeats, nor counts them as the first click', () => {
    const clicks = [click('a', T, 'bot'), click('a', T + 1, 'head'), click('a', T + 2), click('a', T + 3, 'bot')];
    markRepeats(clicks, new Map());
    expect(clicks.map((c) => c.status)).toEqual(['bot', 'head', 'valid', 'bot']);
  });
});

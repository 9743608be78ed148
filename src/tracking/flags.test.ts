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

describe('isAutomatedAgent and in-app browsers (honest people tapping a creator\'s link inside an app)', () => {
  const IOS = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';
  const WEBVIEW = 'Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A.240205.004; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/122.0.6261.119 Mobile Safari/537.36';
  it.each([
    ['Instagram', `${IOS} Instagram 330.0.3.18.93 (iPhone15,3; iOS 17_4; en_US; en; scale=3.00; 1290x2796; 596418186)`],
    ['Facebook iOS', `${IOS} [FBAN/FBIOS;FBAV/456.0.0.40.109;FBBV/577146080;FBDV/iPhone15,3;FBMD/iPhone;FBSN/iOS;FBSV/17.4]`],
    ['Facebook Android', `${WEBVIEW} [FB_IAB/FB4A;FBAV/454.0.0.44.108;]`],
    ['TikTok', `${IOS} musical_ly_34.1.0 JsSdk/2.0 NetType/WIFI Channel/App Store ByteLocale/en Region/US WKWebView/1 BytedanceWebview/d8a21c6`],
    ['Snapchat', `${IOS} Snapchat/12.80.0.37 (like Safari/8617.2.4.10.8, panda)`],
    ['Pinterest', `${IOS} [Pinterest/iOS]`],
    ['LinkedIn', `${IOS} [LinkedInApp]/9.29.6980`],
    ['X', `${IOS} Twitter for iPhone/10.34`],
    ['Threads', `${IOS} Barcelona 324.0.0.22.93 (iPhone15,3; iOS 17_4; en_US; en-US; scale=3.00; 1290x2796; 583089137)`],
    ['WeChat', `${IOS} MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN`],
    ['Telegram', `${WEBVIEW} Telegram-Android/10.9.1 (Samsung SM-A546B; Android 14; SDK 34; AVERAGE)`],
    ['YouTube Android', `${WEBVIEW} com.google.android.youtube/19.09.37`],
    ['YouTube iOS', `${IOS} com.google.ios.youtube/19.09.3 (iPhone15,3; U; CPU iOS 17_4 like Mac OS X; en_US)`],
    ['Gmail Android', `${WEBVIEW} com.google.android.gm/2024.03.10`],
    ['Google app', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/307.0.614515637 Mobile/15E148 Safari/604.1'],
  ])('%s is a person', (_app, ua) => {
    expect(isAutomatedAgent(ua)).toBe(false);
  });

  it("still calls Google's own fetchers bots, with or without an app token", () => {
    expect(isAutomatedAgent(`${WEBVIEW} (compatible; Googlebot/2.1; +http://www.google.com/bot.html)`)).toBe(true);
    expect(isAutomatedAgent('Mozilla/5.0 (compatible; Google-InspectionTool/1.0;)')).toBe(true);
    expect(isAutomatedAgent(`${WEBVIEW} com.google.android.youtube/19.09.37 Googlebot/2.1`)).toBe(true);
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

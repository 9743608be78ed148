import type { Random } from '../random/index.js';

/**
 * User agents as real software sends them. Versions, OS releases and device models are drawn, so a
 * run holds thousands of distinct strings (two colleagues behind one office IP rarely share one)
 * while each string is one a real browser or app has sent.
 */

const CHROME_MAJORS = [118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131];
const FIREFOX_MAJORS = [115, 119, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132];
const SAFARI_VERSIONS = ['16.6', '17.0', '17.1', '17.2.1', '17.3', '17.4.1', '17.5', '17.6', '18.0', '18.1', '18.2'];
const IOS_VERSIONS = ['16_6_1', '16_7_8', '17_0_3', '17_1_2', '17_2_1', '17_3_1', '17_4_1', '17_5_1', '17_6_1', '18_0', '18_0_1', '18_1', '18_1_1', '18_2'];
const ANDROID_VERSIONS = ['11', '12', '13', '14', '15'];
const API_LEVELS: Readonly<Record<string, number>> = { '11': 30, '12': 31, '13': 33, '14': 34, '15': 35 };
const IPHONE_MODELS = ['iPhone12,1', 'iPhone13,2', 'iPhone14,2', 'iPhone14,5', 'iPhone14,7', 'iPhone15,2', 'iPhone15,3', 'iPhone15,4', 'iPhone16,1', 'iPhone16,2', 'iPhone17,1', 'iPhone17,3'];
/** Android devices as apps describe them: manufacturer field, model, build, codename, chipset. */
const ANDROID_MODELS: ReadonlyArray<readonly [maker: string, model: string, build: string, codename: string, chipset: string]> = [
  ['samsung', 'SM-S918B', 'UP1A.231005.007', 'dm3q', 'qcom'],
  ['samsung', 'SM-S911B', 'UP1A.231005.007', 'dm1q', 'qcom'],
  ['samsung', 'SM-A546B', 'UP1A.231005.007', 'a54x', 's5e8835'],
  ['samsung', 'SM-A525F', 'SP1A.210812.016', 'a52q', 'qcom'],
  ['samsung', 'SM-G991B', 'TP1A.220624.014', 'o1s', 'exynos2100'],
  ['Google/google', 'Pixel 7', 'TQ3A.230805.001', 'panther', 'panther'],
  ['Google/google', 'Pixel 8', 'AP2A.240805.005', 'shiba', 'shiba'],
  ['Google/google', 'Pixel 6a', 'TQ3A.230901.001', 'bluejay', 'bluejay'],
  ['Xiaomi/Redmi', '2201117TG', 'TKQ1.221114.001', 'spes', 'qcom'],
  ['Xiaomi/POCO', '23049PCD8G', 'UKQ1.230804.001', 'marble', 'qcom'],
  ['OnePlus', 'CPH2449', 'UKQ1.230924.001', 'OP594DL1', 'qcom'],
  ['motorola', 'moto g54 5G', 'U1TDS34.94-12-7-2', 'cancunf', 'mt6855'],
];

function chromeVersion(rng: Random, full: boolean): string {
  const major = rng.pick(CHROME_MAJORS);
  // Real builds advance about 60 per major: 118.0.5993, 124.0.6367, 131.0.6778.
  return full ? `${major}.0.${5993 + (major - 118) * 60 + rng.int(0, 40)}.${rng.int(20, 230)}` : `${major}.0.0.0`;
}

const DESKTOP_PLATFORMS = ['Windows NT 10.0; Win64; x64', 'Macintosh; Intel Mac OS X 10_15_7', 'X11; Linux x86_64', 'X11; CrOS x86_64 14541.0.0'];

/** Chrome, Edge, Firefox, Safari and Opera on Windows, macOS, Linux and ChromeOS. */
export function desktopAgent(rng: Random): string {
  const roll = rng.next();
  if (roll < 0.5) {
    const platform = rng.next() < 0.7 ? DESKTOP_PLATFORMS[0] : rng.pick(DESKTOP_PLATFORMS);
    return `Mozilla/5.0 (${platform}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion(rng, false)} Safari/537.36`;
  }
  if (roll < 0.68) {
    const major = rng.pick(CHROME_MAJORS);
    return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 Safari/537.36 Edg/${major}.0.${2200 + rng.int(0, 800)}.${rng.int(10, 150)}`;
  }
  if (roll < 0.82) {
    const v = rng.pick(FIREFOX_MAJORS);
    const os = rng.pick(['Windows NT 10.0; Win64; x64', 'Macintosh; Intel Mac OS X 10.15', 'X11; Ubuntu; Linux x86_64', 'X11; Linux x86_64']);
    return `Mozilla/5.0 (${os}; rv:${v}.0) Gecko/20100101 Firefox/${v}.0`;
  }
  if (roll < 0.96) {
    return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${rng.pick(SAFARI_VERSIONS)} Safari/605.1.15`;
  }
  const major = rng.pick(CHROME_MAJORS);
  return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 Safari/537.36 OPR/${major - 15}.0.${rng.int(4000, 5600)}.${rng.int(10, 99)}`;
}

/** Safari and Chrome on iPhone and iPad; Chrome, Samsung Internet and Firefox on Android. */
export function mobileAgent(rng: Random): string {
  const roll = rng.next();
  if (roll < 0.42) {
    const ios = rng.pick(IOS_VERSIONS);
    const device = rng.next() < 0.9 ? 'iPhone; CPU iPhone OS' : 'iPad; CPU OS';
    return `Mozilla/5.0 (${device} ${ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${safariForIos(ios)} Mobile/15E148 Safari/604.1`;
  }
  if (roll < 0.5) {
    return `Mozilla/5.0 (iPhone; CPU iPhone OS ${rng.pick(IOS_VERSIONS)} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/${chromeVersion(rng, true)} Mobile/15E148 Safari/604.1`;
  }
  if (roll < 0.82) {
    return `Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion(rng, false)} Mobile Safari/537.36`;
  }
  if (roll < 0.95) {
    const [, model] = rng.pick(ANDROID_MODELS.filter(([maker]) => maker === 'samsung'));
    return `Mozilla/5.0 (Linux; Android ${rng.pick(ANDROID_VERSIONS)}; ${model}) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/${rng.int(23, 27)}.0 Chrome/${rng.pick(CHROME_MAJORS)}.0.0.0 Mobile Safari/537.36`;
  }
  const v = rng.pick(FIREFOX_MAJORS);
  return `Mozilla/5.0 (Android ${rng.pick(ANDROID_VERSIONS)}; Mobile; rv:${v}.0) Gecko/${v}.0 Firefox/${v}.0`;
}

function safariForIos(ios: string): string {
  const [major = '17', minor = '0'] = ios.split('_');
  return `${major}.${minor}`;
}

export type InApp = 'instagram' | 'tiktok' | 'facebook';

/** The in-app browsers of Instagram, TikTok and Facebook, as their iOS and Android builds send them. */
export function inAppAgent(rng: Random, app: InApp): string {
  const ios = rng.next() < 0.55;
  const iosVersion = rng.pick(IOS_VERSIONS);
  const iphone = rng.pick(IPHONE_MODELS);
  const [maker, model, build, codename, chipset] = rng.pick(ANDROID_MODELS);
  const android = rng.pick(ANDROID_VERSIONS);
  const webview = `Mozilla/5.0 (Linux; Android ${android}; ${model} Build/${build}; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/${chromeVersion(rng, true)} Mobile Safari/537.36`;
  const iosPrefix = `Mozilla/5.0 (iPhone; CPU iPhone OS ${iosVersion} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148`;
  const locale = rng.pick(['en_US', 'en_GB', 'de_DE', 'fr_FR', 'es_ES', 'it_IT', 'pt_BR', 'nl_NL']);
  switch (app) {
    case 'instagram': {
      const version = `${rng.int(300, 360)}.0.${rng.int(0, 6)}.${rng.int(10, 50)}.${rng.int(90, 120)}`;
      const buildId = rng.int(500_000_000, 690_000_000);
      return ios
        ? `${iosPrefix} Instagram ${version} (${iphone}; iOS ${iosVersion}; ${locale}; ${locale.slice(0, 2)}; scale=3.00; 1170x2532; ${buildId})`
        : `${webview} Instagram ${version} Android (${API_LEVELS[android] ?? 34}/${android}; 480dpi; 1080x2340; ${maker}; ${model}; ${codename}; ${chipset}; ${locale}; ${buildId})`;
    }
    case 'facebook': {
      const version = `${rng.int(420, 480)}.0.0.${rng.int(20, 60)}.${rng.int(100, 120)}`;
      return ios
        ? `${iosPrefix} [FBAN/FBIOS;FBAV/${version};FBBV/${rng.int(550_000_000, 620_000_000)};FBDV/${iphone};FBMD/iPhone;FBSN/iOS;FBSV/${iosVersion.replaceAll('_', '.')};FBSS/3;FBID/phone;FBLC/${locale};FBOP/5;FBRV/${rng.int(580_000_000, 630_000_000)}]`
        : `${webview} [FB_IAB/FB4A;FBAV/${version};]`;
    }
    case 'tiktok': {
      const major = rng.int(30, 37);
      const minor = rng.int(0, 9);
      const region = locale.slice(3);
      return ios
        ? `${iosPrefix} musical_ly_${major}.${minor}.0 JsSdk/2.0 NetType/${rng.pick(['WIFI', '4G', '5G'])} Channel/App Store ByteLocale/${locale.slice(0, 2)} Region/${region} ByteFullLocale/${locale.replace('_', '-')} isDarkMode/${rng.int(0, 1)} WKWebView/1 BytedanceWebview/d8a21c6`
        : `${webview} trill_${major}${minor}0${rng.int(100, 999)} JsSdk/1.0 NetType/${rng.pick(['WIFI', '4G', '5G'])} Channel/googleplay AppName/trill app_version/${major}.${minor}.${rng.int(0, 5)} ByteLocale/${locale.slice(0, 2)} ByteFullLocale/${locale.slice(0, 2)} Region/${region} BytedanceWebview/d8a21c6`;
    }
  }
}

/**
 * Self-declared crawlers, link-preview fetchers (the most common "clicks" on a shared link) and HTTP
 * libraries: not people, whatever IP they come from.
 */
const DECLARED_BOTS: readonly string[] = [
  'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.126 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)',
  'Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)',
  'Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)',
  'Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)',
  'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)',
  'Mozilla/5.0 (compatible; Bytespider; spider-feedback@bytedance.com) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.0.0 Safari/537.36',
  'Twitterbot/1.0',
  'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
  'WhatsApp/2.23.20.0',
  'TelegramBot (like TwitterBot)',
  'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)',
  'LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)',
  'Pinterestbot/1.0 (+http://www.pinterest.com/bot.html)',
  'python-requests/2.31.0',
  'curl/8.4.0',
  'Go-http-client/1.1',
  'Wget/1.21.4',
  'okhttp/4.12.0',
  'axios/1.6.7',
  'Scrapy/2.11.0 (+https://scrapy.org)',
];

export function declaredBotAgent(rng: Random): string {
  return rng.pick(DECLARED_BOTS);
}

/**
 * Automation that renders pages: headless Chrome (Puppeteer, Playwright and Selenium's headless
 * mode all send "HeadlessChrome"), PhantomJS, SlimerJS, jsdom and Electron scrapers. Several of these
 * are not in isbot's list: a detector needs automation markers of its own.
 */
export function headlessAgent(rng: Random): string {
  const roll = rng.next();
  const chrome = chromeVersion(rng, true);
  if (roll < 0.65) {
    const platform = rng.pick(['X11; Linux x86_64', 'Windows NT 10.0; Win64; x64', 'Macintosh; Intel Mac OS X 10_15_7']);
    return `Mozilla/5.0 (${platform}) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/${chrome} Safari/537.36`;
  }
  if (roll < 0.75) return 'Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1';
  if (roll < 0.85) return `Mozilla/5.0 (linux) AppleWebKit/537.36 (KHTML, like Gecko) jsdom/${rng.int(16, 24)}.${rng.int(0, 1)}.0`;
  if (roll < 0.95) {
    return `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) scraper/1.0.0 Chrome/${chrome} Electron/${rng.int(25, 33)}.${rng.int(0, 3)}.0 Safari/537.36`;
  }
  return `Mozilla/5.0 (X11; Linux x86_64; rv:${rng.pick(FIREFOX_MAJORS)}.0) Gecko/20100101 Firefox/115.0 SlimerJS/1.0.0`;
}

/** `count` distinct agents from `draw` (people sharing one IP should not share one agent string). */
export function distinctAgents(rng: Random, count: number, draw: (rng: Random) => string): string[] {
  const seen = new Set<string>();
  for (let attempts = 0; seen.size < count && attempts < count * 50; attempts++) seen.add(draw(rng));
  return [...seen];
}

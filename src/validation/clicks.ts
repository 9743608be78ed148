import { isbot } from 'isbot';

/**
 * Which clicks are paid. Every accepted click is recorded; a flagged one never becomes a result:
 * - `head`: a HEAD request (link checkers and unfurlers ask for headers only; Dub treats them as bots);
 * - `bot`: a declared bot or a non-browser client (MRC's GIVT), or no user agent at all;
 * - `datacenter`: from a cloud or hosting provider's address range (MRC's GIVT; src/validation/datacenter);
 * - `paid_ad`: the tracking link was opened from a paid ad (gclid, fbclid… on it) and the campaign forbids paid traffic;
 * - `repeat`: the same visitor (IP hash + user agent) on the same link within an hour of a valid click.
 * Precedence is that order: a HEAD from a bot is `head`; repeats are only looked for among clicks that
 * would otherwise be valid.
 */
export const CLICK_STATUSES = ['valid', 'bot', 'repeat', 'head', 'datacenter', 'paid_ad'] as const;
export type ClickStatus = (typeof CLICK_STATUSES)[number];

/**
 * isbot knows the declared bots; these are automation tools that sometimes pass for browsers, listed
 * here too so a change in isbot's list cannot let them through.
 */
const AUTOMATION = /headlesschrome|headless|phantomjs|puppeteer|playwright|selenium|webdriver|curl\/|wget\/|python-requests|python-urllib|httpie/i;

/**
 * App identifiers that in-app browsers append to their agent: Google's own apps name their package
 * ("com.google.android.youtube/19.09.37", "com.google.ios.youtube/…", the Gmail app's
 * "com.google.android.gm/…"), and isbot's `google` pattern, meant for Google's fetchers, matches it —
 * which would call every YouTube viewer who taps a creator's link a bot. They are removed before isbot
 * looks; what is left of the agent is judged as usual, so a crawler cannot hide behind one.
 */
const IN_APP_TOKENS = /\bcom\.google\.(?:android|ios)\.[a-z0-9._]+\/[\w.]+/gi;

const VERDICTS_MAX = 2_000;
const verdicts = new Map<string, boolean>();

/** True for bots and automation. Memoised: a few user agents make most of the traffic. */
export function isAutomatedAgent(userAgent: string | null): boolean {
  if (userAgent === null || userAgent.trim() === '') return true;
  const known = verdicts.get(userAgent);
  if (known !== undefined) return known;
  const verdict = isbot(userAgent.replace(IN_APP_TOKENS, '')) || AUTOMATION.test(userAgent);
  if (verdicts.size >= VERDICTS_MAX) verdicts.clear();
  verdicts.set(userAgent, verdict);
  return verdict;
}

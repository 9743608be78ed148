import ipaddr from 'ipaddr.js';
import { AssertionFailure } from '../../errors/index.js';
import { isAutomatedAgent } from '../clicks.js';
import type { ClickEvent, ConversionEvent, CreatorEvent, EngineEvent } from './events.js';
import { R, REASON_CODES, type ReasonCode } from './reasons.js';
import { type CampaignSettings, type RuleSettings, settingsFor } from './settings.js';
import { binomialCdf, binomialSf } from './stats.js';
import type { EngineDeps, LeadCheck, LeadInput, LeadSettings, Verdict } from './types.js';

/**
 * The validation engine (issue #4 §1–§2): a time-ordered stream of campaign, creator, click and
 * conversion events in, one verdict per click and per conversion out.
 *
 * - Stream rules decide at intake from the state kept so far (bots, data-centre IPs, paid ads, repeats,
 *   velocity windows, CTIT, attribution window, self-referral, lead quality and duplicates).
 * - Cohort rules (click flooding, conversion-rate outliers) judge each creator's traffic in a campaign
 *   as a whole, in `finish()`. The server runs the same pass with `scoreEvents` over one creator's
 *   recent traffic before it releases a hold, so a file and the server give the same answers.
 * - Fail closed: whatever cannot be shown clean is `review` or `invalid`, never `valid`.
 * - Verdicts only get worse as evidence comes in: a velocity window that overflows marks every event in
 *   it, earlier ones included; a conversion takes its click's reasons, and an injected or bursting
 *   conversion convicts its click; cohort reasons are added at the end. So the verdict `push` returns
 *   is provisional and `finish` may only add reasons to it.
 * State per rule is bounded by its window (pruned as time advances); what grows with the input is one
 * small record per click and conversion (their verdicts are emitted at the end) and the ids and lead
 * keys that duplicates are checked against.
 */

/** Levels, as stored with each reason: a note changes nothing, review holds, invalid is never paid. */
const NOTE = 0;
const REVIEW = 1;
const INVALID = 2;
type Level = typeof NOTE | typeof REVIEW | typeof INVALID;
const LEVEL_OF = { review: REVIEW, invalid: INVALID } as const;
const VERDICT_OF = ['valid', 'review', 'invalid'] as const;

/** Score: 100 less 70 per invalid reason and 30 per review reason, floored at 0, and never above the lead score. */
const INVALID_PENALTY = 70;
const REVIEW_PENALTY = 30;

const MINUTE = 60_000;
const HOUR = 3_600_000;

/**
 * What the lead checker's codes mean for payment. Hard failures (the lead reaches nobody or is not
 * what the campaign pays for) are invalid; a score under the campaign's minimum is review; so is a
 * role account (info@, sales@): a person may stand behind it (B2B), but nobody can tell who, so it
 * waits for a person instead of paying by default. A code missing here fails closed
 * (`lead_check_failed`, review).
 */
const LEAD_REASON_LEVELS: ReadonlyArray<[ReasonCode, Level]> = [
  ['required_field_missing', INVALID],
  ['email_invalid', INVALID],
  ['email_disposable', INVALID],
  ['email_typo_domain', INVALID],
  ['email_no_mx', INVALID],
  ['email_role_account', REVIEW],
  ['phone_invalid', INVALID],
  ['country_not_targeted', INVALID],
  ['age_out_of_range', INVALID],
  ['lead_score_low', REVIEW],
];
/** Lead reason → packed reason (code index × 4 + level). */
const LEAD_REASON_PACKED: ReadonlyMap<string, number> = new Map(LEAD_REASON_LEVELS.map(([code, level]) => [code, R[code] * 4 + level]));

/** Settings that make the lead checker answer only keys: for sales and for the creator's own contacts. */
const KEYS_ONLY: LeadSettings = { required_fields: [], target_countries: null, age_min: null, age_max: null, min_lead_score: 0 };

/** Browsers and in-app web views all send a user agent starting with one of these. */
const BROWSER_AGENT = /^(?:Mozilla|Opera)\//;

/**
 * Headless and scripted browsers that send a browser-like agent which neither isbot nor the tracking
 * server's list names: DOM emulators (jsdom, HtmlUnit), scriptable engines (SlimerJS, Nightmare,
 * Cypress, Zombie.js), auditors (Lighthouse) and page renderers (wkhtmltopdf).
 */
const MORE_AUTOMATION = /jsdom|slimerjs|htmlunit|nightmare|cypress|zombie\.js|lighthouse|wkhtmlto/i;

/**
 * Reasons a conversion passes back to its click, because they convict the click too: an injected
 * click is the fraud (CTIT), and the clicks of a conversion burst come from the same farm.
 */
const CLICK_CONVICTING = new Set([R.ctit_too_short, R.ctit_short, R.conversion_burst]);

/** Stale window keys are swept once per hour of event time, so window state stays bounded. */
const SWEEP_INTERVAL_MS = HOUR;
const MEMO_MAX = 100_000;

class Rec {
  /** Packed reasons: code index × 4 + level; undefined while there are none (most events). */
  reasons: number[] | undefined = undefined;
  level: Level = NOTE;
  leadScore = 100;
  /** Click-to-conversion time, for conversions attributed by click. */
  ctitMs = Number.NaN;

  constructor(
    readonly id: string,
    readonly kind: 'click' | 'conversion',
    readonly ts: number,
    readonly group: Group | undefined,
    /** The click a conversion is attributed to. */
    readonly click: Rec | undefined,
  ) {}

  add(code: number, level: Level): void {
    (this.reasons ??= []).push(code * 4 + level);
    if (level > this.level) this.level = level;
  }

  /** The level with what the click passes on (everything but a repeat). */
  inheritedLevel(): Level {
    const click = this.click;
    if (!click || click.level <= this.level) return this.level;
    let level = this.level;
    for (const packed of click.reasons ?? []) {
      if (packed >> 2 !== R.repeat_click && (packed & 3) > level) level = (packed & 3) as Level;
    }
    return level;
  }
}

/** One creator's traffic in one campaign: the unit the cohort rules judge. */
class Group {
  cohort: number[] | undefined = undefined;
  clicks = 0;
  conversions = 0;
  /** Click-attributed conversions after `late_after_hours`; and, of those before, how many within `early_within_hours`. */
  late = 0;
  notLate = 0;
  early = 0;

  constructor(
    readonly campaign: CampaignState,
    readonly creator: string,
  ) {}
}

/** A sliding window of one key: times and records in time order, `head` the oldest still inside. */
class Window {
  times: number[] = [];
  recs: Rec[] = [];
  head = 0;
  /** Records before this index are already marked. */
  marked = 0;
}

interface WindowRule {
  code: number;
  windowMs: number;
  /** The most events allowed in the window; null when off. */
  limit(rules: RuleSettings): number | null;
  level(rules: RuleSettings): Level;
  key(ip: string | null, ua: string | null, creator: string): string | null;
}

/** One IP (an IPv4 address or an IPv6 /64, see networkOf) with one agent. */
const visitor = (ip: string | null, ua: string | null) => (ip === null || ua === null ? null : `${ip}\n${ua}`);
/** An IPv6 /64 (see networkOf): one subscriber's network, never a carrier NAT. */
const ipv6Only = (ip: string | null) => (ip !== null && ip.includes(':') ? ip : null);

function ipv6Network(address: ipaddr.IPv6): string {
  if (address.isIPv4MappedAddress()) return address.toIPv4Address().toString();
  return `${address.parts
    .slice(0, 4)
    .map((part) => part.toString(16))
    .join(':')}::/64`;
}

/** Velocity on clicks that passed the agent checks, per campaign. */
const CLICK_WINDOWS: readonly WindowRule[] = [
  {
    code: R.visitor_velocity,
    windowMs: MINUTE,
    limit: (r) => (r.click_velocity.enabled ? r.click_velocity.visitor_per_minute : null),
    level: (r) => LEVEL_OF[r.click_velocity.visitor_per_minute_verdict],
    key: visitor,
  },
  {
    code: R.visitor_velocity,
    windowMs: HOUR,
    limit: (r) => (r.click_velocity.enabled ? r.click_velocity.visitor_per_hour : null),
    level: () => REVIEW,
    key: visitor,
  },
  {
    code: R.ip_velocity,
    windowMs: MINUTE,
    limit: (r) => (r.click_velocity.enabled ? r.click_velocity.ip_per_minute : null),
    level: () => REVIEW,
    key: (ip) => ip,
  },
  {
    code: R.ip_velocity,
    windowMs: MINUTE,
    limit: (r) => (r.click_velocity.enabled ? r.click_velocity.ip_link_per_minute : null),
    level: () => REVIEW,
    key: (ip, _ua, creator) => `${ip}\n${creator}`,
  },
  {
    code: R.creator_velocity,
    windowMs: MINUTE,
    limit: (r) => (r.click_velocity.enabled ? r.click_velocity.creator_per_minute : null),
    level: () => REVIEW,
    key: (_ip, _ua, creator) => creator,
  },
  {
    code: R.creator_velocity,
    windowMs: HOUR,
    limit: (r) => (r.click_velocity.enabled ? r.click_velocity.creator_per_hour : null),
    level: () => REVIEW,
    key: (_ip, _ua, creator) => creator,
  },
];

/** Velocity on attributed conversions, per campaign. */
const CONVERSION_WINDOWS: readonly WindowRule[] = [
  {
    code: R.conversion_burst,
    windowMs: HOUR,
    limit: (r) => (r.conversion_velocity.enabled ? r.conversion_velocity.device_per_hour : null),
    level: (r) => LEVEL_OF[r.conversion_velocity.device_verdict],
    key: visitor,
  },
  {
    code: R.conversion_burst,
    windowMs: 10 * MINUTE,
    limit: (r) => (r.conversion_velocity.enabled ? r.conversion_velocity.ipv6_network_per_10_minutes : null),
    level: () => REVIEW,
    key: ipv6Only,
  },
  {
    code: R.conversion_burst,
    windowMs: 10 * MINUTE,
    limit: (r) => (r.conversion_velocity.enabled ? r.conversion_velocity.ip_per_10_minutes : null),
    level: () => REVIEW,
    key: (ip) => ip,
  },
  {
    code: R.conversion_burst,
    windowMs: HOUR,
    limit: (r) => (r.conversion_velocity.enabled ? r.conversion_velocity.ip_per_hour : null),
    level: () => REVIEW,
    key: (ip) => ip,
  },
  {
    code: R.creator_velocity,
    windowMs: MINUTE,
    limit: (r) => (r.conversion_velocity.enabled ? r.conversion_velocity.creator_per_minute : null),
    level: () => REVIEW,
    key: (_ip, _ua, creator) => creator,
  },
  {
    code: R.creator_velocity,
    windowMs: HOUR,
    limit: (r) => (r.conversion_velocity.enabled ? r.conversion_velocity.creator_per_hour : null),
    level: () => REVIEW,
    key: (_ip, _ua, creator) => creator,
  },
];

/** CampaignEvent.baseline: the other creators as counts, with their best-converting one among them. */
interface Baseline {
  clicks: number;
  conversions: number;
  top?: { clicks: number; conversions: number } | null | undefined;
  creators?: number | null | undefined;
}

class CampaignState {
  readonly groups = new Map<string, Group>();
  /** Normalised emails ("e:…") and phones ("p:…") of the campaign's leads that were not invalid. */
  readonly leadKeys = new Set<string>();
  /** Repeat detection: creator + IP + agent → time of the last valid click. */
  readonly firstClicks = new Map<string, number>();
  readonly clickWindows = CLICK_WINDOWS.map(() => new Map<string, Window>());
  readonly conversionWindows = CONVERSION_WINDOWS.map(() => new Map<string, Window>());

  constructor(
    public settings: CampaignSettings,
    /** Other creators' valid clicks and conversions not in the stream (CampaignEvent.baseline). */
    public baseline: Baseline = { clicks: 0, conversions: 0 },
  ) {}

  group(creator: string): Group {
    let group = this.groups.get(creator);
    if (!group) {
      group = new Group(this, creator);
      this.groups.set(creator, group);
    }
    return group;
  }
}

interface CreatorState {
  email: string;
  phone: string | null;
  /** The creator's normalised contacts, by the customer country a national phone number is read in. */
  keys: Map<string, { emailKey: string | null; phoneKey: string | null } | null>;
}

export interface Engine {
  /**
   * Takes the next event in time order. Returns the provisional verdict of a click or conversion
   * (stream rules only; `finish` may add reasons), undefined for a campaign or creator line.
   */
  push(event: EngineEvent): Verdict | undefined;
  /** Runs the cohort rules and gives every click's and conversion's final verdict, in input order. Call once. */
  finish(): IterableIterator<Verdict>;
}

export function createEngine(deps: EngineDeps): Engine {
  const campaigns = new Map<string, CampaignState>();
  const creators = new Map<string, CreatorState>();
  const clicks = new Map<string, Rec>();
  const conversionIds = new Set<string>();
  const records: Rec[] = [];
  let latest = Number.NEGATIVE_INFINITY;
  let lastSweep = Number.NEGATIVE_INFINITY;
  let finished = false;

  /** Agent verdicts, one memo per value of `require_browser`. */
  const agentMemos = [new Map<string, number | undefined>(), new Map<string, number | undefined>()] as const;
  /** The reason an agent earns under these settings, or undefined for a browser. Memoised: few agents make most traffic. */
  function agentReason(ua: string, requireBrowser: boolean): number | undefined {
    const memo = agentMemos[requireBrowser ? 1 : 0];
    if (memo.has(ua)) return memo.get(ua);
    let reason: number | undefined;
    if (isAutomatedAgent(ua) || MORE_AUTOMATION.test(ua)) reason = R.bot_agent;
    else if (requireBrowser && !BROWSER_AGENT.test(ua)) reason = R.non_browser_agent;
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(ua, reason);
    return reason;
  }

  const networkMemo = new Map<string, string>();
  /**
   * The network an IP stands for in windows and repeat keys: an IPv4 address as it is; an IPv6
   * address as its /64, the block one subscriber gets (privacy extensions rotate the rest every day or
   * so); an IPv4-mapped IPv6 address as its IPv4 address. Whatever does not parse stands for itself.
   */
  function networkOf(ip: string): string {
    if (!ip.includes(':')) return ip;
    let network = networkMemo.get(ip);
    if (network === undefined) {
      network = ipaddr.IPv6.isValid(ip) ? ipv6Network(ipaddr.IPv6.parse(ip)) : ip;
      if (networkMemo.size >= MEMO_MAX) networkMemo.clear();
      networkMemo.set(ip, network);
    }
    return network;
  }

  const datacenterMemo = new Map<string, boolean>();
  function isDatacenter(ip: string): boolean {
    let known = datacenterMemo.get(ip);
    if (known === undefined) {
      known = deps.datacenter(ip) !== undefined;
      if (datacenterMemo.size >= MEMO_MAX) datacenterMemo.clear();
      datacenterMemo.set(ip, known);
    }
    return known;
  }

  /** The lead checker, failing closed: an exception or a score that is not a number is `lead_check_failed`. */
  function checkLead(input: LeadInput, settings: LeadSettings): LeadCheck | undefined {
    try {
      const check = deps.checkLead(input, settings);
      return Number.isFinite(check.score) ? check : undefined;
    } catch {
      return undefined;
    }
  }

  function creatorKeys(creator: CreatorState, country: string | null) {
    const memoKey = country ?? '';
    if (!creator.keys.has(memoKey)) {
      const check = checkLead({ email: creator.email, phone: creator.phone, country, age: null }, KEYS_ONLY);
      creator.keys.set(memoKey, check ? { emailKey: check.emailKey, phoneKey: check.phoneKey } : null);
    }
    return creator.keys.get(memoKey) ?? null;
  }

  /** Records the time; an event older than the newest seen cannot be judged in order and is reviewed. */
  function advance(ts: number): boolean {
    if (ts < latest) return false;
    latest = ts;
    if (latest - lastSweep >= SWEEP_INTERVAL_MS) {
      sweep(latest);
      lastSweep = latest;
    }
    return true;
  }

  /** Drops window keys and repeat entries that no longer hold anything inside their window. */
  function sweep(now: number): void {
    for (const state of campaigns.values()) {
      const repeatMs = state.settings.rules.repeat_clicks.window_seconds * 1000;
      for (const [key, t] of state.firstClicks) if (now - t >= repeatMs) state.firstClicks.delete(key);
      sweepWindows(CLICK_WINDOWS, state.clickWindows, now);
      sweepWindows(CONVERSION_WINDOWS, state.conversionWindows, now);
    }
  }

  function pushClick(e: ClickEvent): Rec {
    const ts = Date.parse(e.ts);
    const inOrder = advance(ts);
    const state = campaigns.get(e.campaign);
    const group = state?.group(e.creator);
    const rec = new Rec(e.id, 'click', ts, group, undefined);
    records.push(rec);
    if (clicks.has(e.id)) rec.add(R.duplicate_id, INVALID);
    else clicks.set(e.id, rec);
    if (!state) {
      rec.add(R.unknown_campaign, INVALID);
      return rec;
    }
    const { rules, paidAdParams } = state.settings;
    if (!creators.has(e.creator)) rec.add(R.unknown_creator, INVALID);
    if (!inOrder) rec.add(R.out_of_order, REVIEW);

    let human = true;
    if (rules.agents.enabled) {
      if (e.method.toUpperCase() === 'HEAD') rec.add(R.head_request, INVALID);
      if (e.prefetch) rec.add(R.prefetch_request, INVALID);
      const agent = agentReason(e.ua, rules.agents.require_browser);
      if (agent !== undefined) rec.add(agent, INVALID);
      human = rec.reasons === undefined || !rec.reasons.some(isAgentReason);
    }
    if (rules.datacenter.enabled && isDatacenter(e.ip)) rec.add(R.datacenter_ip, LEVEL_OF[rules.datacenter.verdict]);
    if (paidAdParams.size > 0 && carriesParam(e.landing_url, paidAdParams)) rec.add(R.paid_ad_traffic, INVALID);

    const network = networkOf(e.ip);
    if (rules.repeat_clicks.enabled && rec.level < INVALID) {
      const key = `${e.creator}\n${network}\n${e.ua}`;
      const first = state.firstClicks.get(key);
      if (first !== undefined && ts - first < rules.repeat_clicks.window_seconds * 1000) rec.add(R.repeat_click, INVALID);
      else state.firstClicks.set(key, ts);
    }
    if (human) hitWindows(CLICK_WINDOWS, state.clickWindows, rules, network, e.ua, e.creator, ts, rec);
    return rec;
  }

  function pushConversion(e: ConversionEvent): Rec {
    const ts = Date.parse(e.ts);
    const inOrder = advance(ts);
    const state = campaigns.get(e.campaign);
    const found = e.click_id === null ? undefined : clicks.get(e.click_id);
    const click = found && state && found.group?.campaign === state ? found : undefined;
    const creatorId = click ? (click.group as Group).creator : e.creator;
    const group = creatorId === null ? undefined : state?.group(creatorId);
    const rec = new Rec(e.id, 'conversion', ts, group, click);
    records.push(rec);
    if (conversionIds.has(e.id)) rec.add(R.duplicate_id, INVALID);
    else conversionIds.add(e.id);
    if (!state) {
      rec.add(R.unknown_campaign, INVALID);
      return rec;
    }
    if (creatorId === null) {
      rec.add(R.unattributed, INVALID);
      return rec;
    }
    const { rules } = state.settings;
    const creator = creators.get(creatorId);
    if (!creator) rec.add(R.unknown_creator, INVALID);
    if (click && e.creator !== null && e.creator !== creatorId) rec.add(R.creator_mismatch, REVIEW);
    if (!inOrder) rec.add(R.out_of_order, REVIEW);

    if (rules.agents.enabled && e.ua !== null) {
      const agent = agentReason(e.ua, rules.agents.require_browser);
      if (agent !== undefined) rec.add(agent, INVALID);
    }
    if (rules.datacenter.enabled && e.ip !== null && isDatacenter(e.ip)) rec.add(R.datacenter_ip, LEVEL_OF[rules.datacenter.conversion_verdict]);

    if (click) {
      const ctit = ts - click.ts;
      rec.ctitMs = ctit;
      if (ctit < 0) rec.add(R.conversion_before_click, INVALID);
      else if (rules.injection.enabled && ctit < rules.injection.invalid_below_seconds * 1000) rec.add(R.ctit_too_short, INVALID);
      else if (rules.injection.enabled && ctit < rules.injection.review_below_seconds * 1000) rec.add(R.ctit_short, REVIEW);
      if (rules.attribution_window.enabled && ctit > state.settings.attributionWindowMs) rec.add(R.outside_attribution_window, INVALID);
    }
    hitWindows(CONVERSION_WINDOWS, state.conversionWindows, rules, e.ip === null ? null : networkOf(e.ip), e.ua, creatorId, ts, rec);
    checkCustomer(e, rec, state, creator);
    return rec;
  }

  /** Self-referral, lead quality and duplicate leads: everything that looks at the customer. */
  function checkCustomer(e: ConversionEvent, rec: Rec, state: CampaignState, creator: CreatorState | undefined): void {
    const { rules } = state.settings;
    const isLead = e.event === 'lead' && rules.leads.enabled;
    if (!isLead && !rules.self_referral.enabled) return;
    const customer: LeadInput = { email: e.customer.email, phone: e.customer.phone, country: e.customer.country, age: e.customer.age };
    const check = checkLead(customer, isLead ? state.settings.lead : KEYS_ONLY);
    if (!check) {
      rec.add(R.lead_check_failed, REVIEW);
      return;
    }
    if (rules.self_referral.enabled && creator) {
      const own = creatorKeys(creator, customer.country);
      if (!own) rec.add(R.lead_check_failed, REVIEW);
      else if ((own.emailKey !== null && own.emailKey === check.emailKey) || (own.phoneKey !== null && own.phoneKey === check.phoneKey)) {
        rec.add(R.self_referral, INVALID);
      }
    }
    if (!isLead) {
      // A sale is paid for by a real order, so lead quality does not apply; but a disposable address on
      // it is Dub's fraud signal (a creator buying through throwaway accounts, refunding later): review.
      if (rules.leads.enabled && check.reasons.includes('email_disposable')) rec.add(R.email_disposable, REVIEW);
      return;
    }
    rec.leadScore = Math.max(0, Math.min(100, check.score));
    for (const reason of check.reasons) {
      const packed = LEAD_REASON_PACKED.get(reason);
      if (packed === undefined) rec.add(R.lead_check_failed, REVIEW);
      else rec.add(packed >> 2, (packed & 3) as Level);
    }
    // Whatever the checker says, a score under the minimum is not paid on its own.
    if (!(check.score >= rules.leads.min_score) && !check.reasons.includes('lead_score_low')) rec.add(R.lead_score_low, REVIEW);
    if (!rules.leads.dedupe) return;
    const keys = [check.emailKey === null ? null : `e:${check.emailKey}`, check.phoneKey === null ? null : `p:${check.phoneKey}`];
    if (keys.some((key) => key !== null && state.leadKeys.has(key))) rec.add(R.duplicate_lead, INVALID);
    else if (rec.inheritedLevel() < INVALID) for (const key of keys) if (key !== null) state.leadKeys.add(key);
  }

  function pushCreator(e: CreatorEvent): void {
    creators.set(e.id, { email: e.email, phone: e.phone, keys: new Map() });
  }

  return {
    push(event) {
      if (finished) throw new AssertionFailure('engine: push after finish');
      switch (event.type) {
        case 'campaign': {
          const settings = settingsFor(event);
          const baseline = event.baseline ?? { clicks: 0, conversions: 0 };
          const state = campaigns.get(event.id);
          // A campaign line again changes its settings from here on; its traffic so far is kept.
          if (state) {
            state.settings = settings;
            state.baseline = baseline;
          } else campaigns.set(event.id, new CampaignState(settings, baseline));
          return undefined;
        }
        case 'creator':
          pushCreator(event);
          return undefined;
        case 'click':
          return verdictOf(pushClick(event), false);
        case 'conversion':
          return verdictOf(pushConversion(event), false);
      }
    },
    finish() {
      if (finished) throw new AssertionFailure('engine: finish called twice');
      finished = true;
      convictClicks(records);
      runCohortRules(records, campaigns);
      clicks.clear();
      conversionIds.clear();
      return verdicts(records);
    },
  };
}

/**
 * Scores a whole time-ordered batch: what `earnest score` does with a file and what the server does
 * with a creator's recent traffic (with its campaign and creator lines first) before releasing a hold.
 */
export function scoreEvents(events: Iterable<EngineEvent>, deps: EngineDeps): Verdict[] {
  const engine = createEngine(deps);
  for (const event of events) engine.push(event);
  return [...engine.finish()];
}

/** Passes CLICK_CONVICTING reasons from conversions back to their clicks, before the cohort rules count clicks. */
function convictClicks(records: readonly Rec[]): void {
  for (const rec of records) {
    if (!rec.click || !rec.reasons) continue;
    for (const packed of rec.reasons) if (CLICK_CONVICTING.has(packed >> 2)) rec.click.add(packed >> 2, (packed & 3) as Level);
  }
}

function* verdicts(records: readonly Rec[]): IterableIterator<Verdict> {
  for (const rec of records) yield verdictOf(rec, true);
}

const AGENT_REASONS = new Set([R.head_request, R.prefetch_request, R.bot_agent, R.non_browser_agent]);
const isAgentReason = (packed: number) => AGENT_REASONS.has(packed >> 2);

/**
 * The verdict of a record: its own reasons, its click's (a repeat excepted: the same person clicking
 * twice still converts honestly), and, at the end, its creator's cohort reasons when it is a click or
 * a click-attributed conversion. Each code once, at its highest level, in REASON_CODES order.
 */
function verdictOf(rec: Rec, withCohort: boolean): Verdict {
  const cohort = withCohort && (rec.kind === 'click' || rec.click) ? rec.group?.cohort : undefined;
  const inherited = rec.click?.reasons;
  let packed: number[];
  if (inherited === undefined && cohort === undefined) packed = rec.reasons ?? [];
  else {
    packed = [...(rec.reasons ?? []), ...(cohort ?? [])];
    for (const p of inherited ?? []) if (p >> 2 !== R.repeat_click) packed.push(p);
  }
  if (packed.length === 0) {
    return { id: rec.id, kind: rec.kind, verdict: 'valid', score: rec.leadScore, reasons: [] };
  }
  // Sorting the packed values orders by code, then level: the last of each code is its highest level.
  const sorted = packed.length === 1 ? packed : [...packed].sort((a, b) => a - b);
  const reasons: string[] = [];
  let level: Level = NOTE;
  let penalty = 0;
  for (let i = 0; i < sorted.length; i++) {
    const p = sorted[i] as number;
    const code = p >> 2;
    if (i + 1 < sorted.length && (sorted[i + 1] as number) >> 2 === code) continue;
    const codeLevel = (p & 3) as Level;
    reasons.push(REASON_CODES[code] as string);
    if (codeLevel > level) level = codeLevel;
    penalty += codeLevel === INVALID ? INVALID_PENALTY : codeLevel === REVIEW ? REVIEW_PENALTY : 0;
  }
  return { id: rec.id, kind: rec.kind, verdict: VERDICT_OF[level], score: Math.min(rec.leadScore, Math.max(0, 100 - penalty)), reasons };
}

function hitWindows(
  rules: readonly WindowRule[],
  maps: ReadonlyArray<Map<string, Window>>,
  settings: RuleSettings,
  ip: string | null,
  ua: string | null,
  creator: string,
  ts: number,
  rec: Rec,
): void {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as WindowRule;
    const limit = rule.limit(settings);
    const key = limit === null ? null : rule.key(ip, ua, creator);
    if (key === null || limit === null) continue;
    const map = maps[i] as Map<string, Window>;
    let window = map.get(key);
    if (!window) {
      window = new Window();
      map.set(key, window);
    }
    hitWindow(window, ts, rule.windowMs, limit, rec, rule.code, rule.level(settings));
  }
}

/**
 * Adds an event to its window; when the window then holds more than `limit` events (all within
 * `windowMs` of this one, exclusive), every event in it is marked, each only once.
 */
function hitWindow(w: Window, ts: number, windowMs: number, limit: number, rec: Rec, code: number, level: Level): void {
  while (w.head < w.times.length && ts - (w.times[w.head] as number) >= windowMs) w.head++;
  w.times.push(ts);
  w.recs.push(rec);
  if (w.times.length - w.head > limit) {
    for (let i = Math.max(w.head, w.marked); i < w.recs.length; i++) (w.recs[i] as Rec).add(code, level);
    w.marked = w.recs.length;
  }
  if (w.head >= 64 && w.head * 2 >= w.times.length) {
    w.times = w.times.slice(w.head);
    w.recs = w.recs.slice(w.head);
    w.marked = Math.max(0, w.marked - w.head);
    w.head = 0;
  }
}

function sweepWindows(rules: readonly WindowRule[], maps: ReadonlyArray<Map<string, Window>>, now: number): void {
  for (let i = 0; i < rules.length; i++) {
    const windowMs = (rules[i] as WindowRule).windowMs;
    for (const [key, w] of maps[i] as Map<string, Window>) {
      if (now - (w.times[w.times.length - 1] as number) >= windowMs) (maps[i] as Map<string, Window>).delete(key);
    }
  }
}

/**
 * Whether the URL's query has one of `params` (lower case) with a non-empty value. A plain scan, no
 * URL object: it runs on every click.
 */
export function carriesParam(url: string, params: ReadonlySet<string>): boolean {
  const query = url.indexOf('?');
  if (query < 0) return false;
  const hash = url.indexOf('#', query);
  const end = hash < 0 ? url.length : hash;
  let start = query + 1;
  while (start < end) {
    let amp = url.indexOf('&', start);
    if (amp < 0 || amp > end) amp = end;
    const eq = url.indexOf('=', start);
    if (eq >= 0 && eq < amp - 1) {
      let name = url.slice(start, eq).toLowerCase();
      if (name.includes('%')) name = safeDecode(name);
      if (params.has(name)) return true;
    }
    start = amp + 1;
  }
  return false;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The cohort rules, per creator and campaign: click flooding (CTIT mostly late, or flat) and a
 * conversion rate far below the other creators'. They judge what would otherwise be paid: events the
 * stream rules left valid. (Counting clicks already sent to review, a script's clicks among them,
 * would condemn the creator's honest traffic for a low rate those clicks caused.)
 */
function runCohortRules(records: readonly Rec[], campaigns: ReadonlyMap<string, CampaignState>): void {
  for (const rec of records) {
    const group = rec.group;
    if (!group || rec.inheritedLevel() !== NOTE) continue;
    if (rec.kind === 'click') {
      group.clicks++;
      continue;
    }
    if (!rec.click) continue;
    group.conversions++;
    const { flooding } = group.campaign.settings.rules;
    if (rec.ctitMs > flooding.late_after_hours * HOUR) group.late++;
    else {
      group.notLate++;
      if (rec.ctitMs <= flooding.early_within_hours * HOUR) group.early++;
    }
  }
  for (const state of campaigns.values()) {
    let clicks = state.baseline.clicks;
    let conversions = state.baseline.conversions;
    for (const g of state.groups.values()) {
      clicks += g.clicks;
      conversions += g.conversions;
    }
    const { flooding, conversion_rate } = state.settings.rules;
    const stars = starCandidates(state, clicks > 0 ? conversions / clicks : 0);
    for (const g of state.groups.values()) {
      const reasons: number[] = [];
      if (flooding.enabled && g.conversions >= flooding.min_conversions) {
        const late = binomialSf(g.late, g.conversions, flooding.late_share_max);
        pushByP(reasons, R.ctit_mostly_late, late, flooding);
      }
      if (flooding.enabled && g.notLate >= flooding.min_conversions) {
        const flat = binomialCdf(g.early, g.notLate, flooding.early_share_min);
        pushByP(reasons, R.ctit_flat, flat, flooding);
      }
      // The best-converting other creator is left out of the comparison: a star whose audience converts
      // far above average must not raise the bar every other creator is held to.
      const star = stars.find((c) => c.group !== g && c.othersWithTraffic(g) >= 2);
      const otherClicks = clicks - g.clicks - (star?.clicks ?? 0);
      const otherConversions = conversions - g.conversions - (star?.conversions ?? 0);
      if (conversion_rate.enabled && otherConversions >= conversion_rate.min_baseline_conversions && otherClicks > 0) {
        const rate = Math.min(1, otherConversions / otherClicks);
        const farBelow = g.conversions < g.clicks * rate * conversion_rate.max_rate_ratio;
        if (farBelow && g.clicks * rate >= conversion_rate.min_expected_conversions) {
          pushByP(reasons, R.conversion_rate_low, binomialCdf(g.conversions, g.clicks, rate), conversion_rate);
        }
      }
      g.cohort = reasons.length > 0 ? reasons : undefined;
    }
  }
}

interface StarCandidate {
  group: Group | undefined;
  clicks: number;
  conversions: number;
  /** How many creators other than `g` have clicks, this one included. */
  othersWithTraffic(g: Group): number;
}

/**
 * The two creators (in the stream, or the baseline's `top` when the server gives the others as
 * counts) with the most conversions above the campaign's pooled rate, best first, and only those above
 * it: for each creator, the best one that is not them is the star left out of their comparison.
 */
function starCandidates(state: CampaignState, pooledRate: number): StarCandidate[] {
  const streamWithTraffic = [...state.groups.values()].filter((g) => g.clicks > 0);
  const top = state.baseline.top;
  // The baseline's creators: how many there are is not known beyond "more than the top one" when a top is given.
  const baselineCreators = top ? (state.baseline.creators ?? 1) : 0;
  const count = (g: Group) => streamWithTraffic.filter((o) => o !== g).length + baselineCreators;
  const candidates: StarCandidate[] = streamWithTraffic.map((g) => ({ group: g, clicks: g.clicks, conversions: g.conversions, othersWithTraffic: count }));
  if (top) candidates.push({ group: undefined, clicks: top.clicks, conversions: top.conversions, othersWithTraffic: count });
  const excess = (c: StarCandidate) => c.conversions - c.clicks * pooledRate;
  return candidates
    .filter((c) => excess(c) > 0)
    .sort((a, b) => excess(b) - excess(a))
    .slice(0, 2);
}

function pushByP(reasons: number[], code: number, p: number, levels: { review_p: number; invalid_p: number }): void {
  if (p < levels.invalid_p) reasons.push(code * 4 + INVALID);
  else if (p < levels.review_p) reasons.push(code * 4 + REVIEW);
}

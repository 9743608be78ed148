import ipaddr from 'ipaddr.js';
import { AppError } from '../errors/index.js';
import { seededRandom } from '../random/index.js';
import { between, countAround } from './draw.js';
import { type ClickLine, type ConversionLine, Journeys, type Label } from './journeys.js';
import { defaultDatacenterCidrs } from './network.js';
import { PATTERNS, type PatternName } from './patterns.js';
import { buildWorld, type CampaignLine, type CreatorLine, drawParams, type Params } from './world.js';

/**
 * Labelled traffic in `earnest score`'s input format (issue #4 §4, §5): campaigns and creators first,
 * then clicks and conversions in time order, each click and conversion with a label saying which
 * pattern produced it and whether it should be paid. Used to measure the validation engine's precision
 * and recall; every pattern's parameters are drawn per seed from ranges, so rules tuned on one seed
 * are judged on others.
 */

export type { ClickLine, ConversionLine, Customer, Label } from './journeys.js';
export type { CampaignLine, CreatorLine, LeadField, Objective } from './world.js';
export { FRAUD_PATTERNS, HONEST_PATTERNS, PATTERNS, type PatternName } from './patterns.js';
export { defaultDatacenterCidrs, FALLBACK_DATACENTER_CIDRS, parseRangesText, RANGES_FILE } from './network.js';

export type SimulatedEvent = CampaignLine | CreatorLine | ClickLine | ConversionLine;

export interface SimulatedLine {
  event: SimulatedEvent;
  /** Present on clicks and conversions; absent on the campaign and creator lines. */
  label?: Label;
}

export interface SimulateOptions {
  seed: number;
  /** About how many lines to produce (default 50,000). */
  size?: number;
  /** Where cloud traffic comes from; default: src/validation/datacenter/ranges.txt, else a small built-in list. */
  datacenterCidrs?: readonly string[];
}

export const DEFAULT_SIZE = 50_000;
export const MIN_SIZE = 1_000;
export const MAX_SIZE = 20_000_000;
/** Clicks happen over four weeks from this Monday; conversions follow up to the longest window after. */
export const SIMULATION_START = Date.UTC(2025, 2, 3);
export const CLICK_DAYS = 28;

const HOUR = 3_600_000;

type Profile = 'diurnal' | 'flat' | 'office';

/** Automated traffic runs around the clock; office days start in the morning; people follow the day. */
const PROFILES: Partial<Record<PatternName, Profile>> = {
  declared_bot: 'flat',
  headless_browser: 'flat',
  datacenter_ip: 'flat',
  ip_velocity: 'flat',
  honest_office_nat: 'office',
};

function profileWeight(profile: Profile, slot: number): number {
  const hour = slot % 24;
  const weekday = Math.floor(slot / 24) % 7 < 5;
  if (profile === 'flat') return 1;
  if (profile === 'office') return weekday && hour === 7 ? 1 : 0;
  return 0.35 + 0.325 * (1 + Math.cos((2 * Math.PI * (hour - 20)) / 24));
}

type Starter = (journeys: Journeys, start: number) => void;

const STARTERS: Readonly<Record<Exclude<PatternName, 'click_flooding'>, Starter>> = {
  honest_browser: (j, t) => j.honestBrowser(t),
  honest_in_app: (j, t) => j.honestInApp(t),
  honest_office_nat: (j, t) => j.honestOfficeNat(t),
  honest_mobile_cgnat: (j, t) => j.honestMobileCgnat(t),
  honest_slow_decider: (j, t) => j.honestSlowDecider(t),
  honest_plus_addressing: (j, t) => j.honestPlusAddressing(t),
  honest_promo_code: (j, t) => j.honestPromoCode(t),
  honest_repeat_visitor: (j, t) => j.honestRepeatVisitor(t),
  honest_ipv6_privacy: (j, t) => j.honestIpv6Privacy(t),
  honest_high_converter: (j, t) => j.honestHighConverter(t),
  honest_minimal_fields: (j, t) => j.honestMinimalFields(t),
  declared_bot: (j, t) => j.declaredBot(t),
  headless_browser: (j, t) => j.headlessBrowser(t),
  datacenter_ip: (j, t) => j.datacenterIp(t),
  repeat_click: (j, t) => j.repeatClick(t),
  ip_velocity: (j, t) => j.ipVelocity(t),
  click_injection: (j, t) => j.clickInjection(t),
  paid_traffic: (j, t) => j.paidTraffic(t),
  outside_window: (j, t) => j.outsideWindow(t),
  self_referral: (j, t) => j.selfReferral(t),
  conversion_burst: (j, t) => j.conversionBurst(t),
  disposable_email: (j, t) => j.disposableEmail(t),
  role_email: (j, t) => j.roleEmail(t),
  typo_email: (j, t) => j.typoEmail(t),
  invalid_phone: (j, t) => j.invalidPhone(t),
  duplicate_lead: (j, t) => j.duplicateLead(t),
  missing_field: (j, t) => j.missingField(t),
  wrong_country: (j, t) => j.wrongCountry(t),
  wrong_age: (j, t) => j.wrongAge(t),
};

/**
 * Generates the run lazily: memory holds the current hour's journeys and the conversions still to
 * come, never the whole output. The same options give the same lines.
 */
export function* simulate(options: SimulateOptions): Generator<SimulatedLine, void, undefined> {
  const { seed, size, cidrs } = checkOptions(options);
  const rng = seededRandom(seed);
  const params = drawParams(rng);
  const creatorCount = Math.min(5_000, Math.max(30, Math.round(size / 350)));
  const flooderCount = rng.int(1, 2) * Math.max(1, Math.round(size / 100_000));
  const world = buildWorld(rng, creatorCount, flooderCount, cidrs);
  const journeys = new Journeys(rng, world, params);

  for (const campaign of world.campaigns) yield { event: campaign.line };
  const creators = [...world.flooders, ...world.creators].sort((a, b) => (a.id < b.id ? -1 : 1));
  for (const creator of creators) yield { event: creator.line };

  const budget = Math.max(0, size - world.campaigns.length - creators.length);
  const plan = journeyPlan(journeys, params, budget, world.datacenter.available);
  const floods = world.flooders.map((creator) => ({ creator, ratio: between(rng, ...params.floodRatio), weight: between(rng, 0.5, 1.5) }));
  const floodWeight = floods.reduce((sum, f) => sum + f.weight, 0);
  const slots = CLICK_DAYS * 24;
  const totals = new Map<Profile, number>();
  for (const profile of ['diurnal', 'flat', 'office'] as const) {
    let total = 0;
    for (let s = 0; s < slots; s++) total += profileWeight(profile, s);
    totals.set(profile, total);
  }

  // Systematic sampling: each pattern starts floor or ceil of its planned count in all (so a rare
  // pattern is never missing by chance), spread over the slots by their weight from a random phase.
  const owed = new Map([...plan].map(([pattern]) => [pattern, rng.next()]));
  for (let slot = 0; slot < slots; slot++) {
    const slotStart = SIMULATION_START + slot * HOUR;
    for (const [pattern, count] of plan) {
      const profile = PROFILES[pattern] ?? 'diurnal';
      const due = (owed.get(pattern) as number) + (count * profileWeight(profile, slot)) / (totals.get(profile) as number);
      const n = Math.floor(due);
      owed.set(pattern, due - n);
      for (let i = 0; i < n; i++) STARTERS[pattern](journeys, slotStart + rng.next() * HOUR);
    }
    for (const flood of floods) {
      const clicks = countAround(rng, (plan.floodClicks * flood.weight) / floodWeight / slots);
      journeys.clickFlood(slotStart, flood.creator, clicks, flood.ratio);
    }
    yield* ready(journeys, slotStart + HOUR);
  }
  yield* ready(journeys, Number.POSITIVE_INFINITY);
}

/** The queued events before `until`, in time order, with their times written. */
function* ready(journeys: Journeys, until: number): Generator<SimulatedLine, void, undefined> {
  const queue = journeys.queue;
  while (queue.peekTs() < until) {
    const item = queue.pop();
    if (!item) return;
    const pending = item.value;
    pending.event.ts = new Date(item.ts).toISOString();
    journeys.name(pending);
    yield { event: pending.event, label: pending.label };
  }
}

interface Plan extends Iterable<readonly [Exclude<PatternName, 'click_flooding'>, number]> {
  readonly floodClicks: number;
}

/**
 * How many journeys of each pattern to start over the run so that each contributes its share of the
 * lines: the share times the budget, divided by the events one journey produces on average.
 */
function journeyPlan(journeys: Journeys, params: Params, budget: number, datacenter: boolean): Plan {
  const mean = ([lo, hi]: readonly [number, number]) => (lo + hi) / 2;
  const cr = (p: PatternName) => journeys.averageConversionRate(p);
  const perJourney: Record<Exclude<PatternName, 'click_flooding' | 'honest_browser'>, number> = {
    honest_in_app: 1 + cr('honest_in_app'),
    honest_office_nat: mean(params.officeSize) * (1 + cr('honest_office_nat')),
    honest_mobile_cgnat: mean(params.cgnatUsers) * (1 + cr('honest_mobile_cgnat')),
    honest_slow_decider: 2,
    honest_plus_addressing: 2,
    honest_promo_code: 1,
    honest_repeat_visitor: 2 + cr('honest_repeat_visitor') * 3,
    honest_ipv6_privacy: 3 * (1 + cr('honest_ipv6_privacy')),
    honest_high_converter: 1 + Math.min(0.6, cr('honest_high_converter') * params.starFactor),
    honest_minimal_fields: 2,
    declared_bot: 1.02,
    headless_browser: 1 + params.headlessFormFill * 0.8,
    datacenter_ip: 1 + cr('datacenter_ip'),
    repeat_click: 1 + ((1 + params.repeatMax) / 2) * 0.9 + cr('repeat_click'),
    ip_velocity: mean(params.velocityPerMinute) * mean(params.velocityMinutes),
    click_injection: 2,
    paid_traffic: 1 + cr('paid_traffic'),
    outside_window: 2,
    self_referral: 1.8,
    conversion_burst: mean(params.burstSize) * 1.7,
    disposable_email: 2,
    role_email: 2,
    typo_email: 2,
    invalid_phone: 2,
    duplicate_lead: 2 + ((1 + params.duplicatesMax) / 2) * 1.65,
    missing_field: 2,
    wrong_country: 2,
    wrong_age: 2,
  };
  const entries: Array<readonly [Exclude<PatternName, 'click_flooding'>, number]> = [];
  let used = 0;
  for (const [pattern, events] of Object.entries(perJourney) as Array<[Exclude<PatternName, 'click_flooding' | 'honest_browser'>, number]>) {
    if (!journeys.possible(pattern) || (pattern === 'datacenter_ip' && !datacenter)) continue;
    const share = params.shares[pattern] * budget;
    used += share;
    entries.push([pattern, share / events]);
  }
  const floodEvents = params.shares.click_flooding * budget;
  used += floodEvents;
  entries.unshift(['honest_browser', Math.max(0, budget - used) / (1 + cr('honest_browser'))]);
  const ordered = PATTERNS.flatMap((p) => entries.filter(([q]) => q === p));
  // A flood converts well under 1 % of its clicks: its events are, to a good approximation, its clicks.
  return Object.assign(ordered, { floodClicks: floodEvents });
}

function checkOptions(options: SimulateOptions): { seed: number; size: number; cidrs: readonly string[] } {
  const { seed, size = DEFAULT_SIZE } = options;
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new AppError('invalid_request', 'seed must be an integer from 0 to 4294967295');
  }
  if (!Number.isSafeInteger(size) || size < MIN_SIZE || size > MAX_SIZE) {
    throw new AppError('invalid_request', `size must be an integer from ${MIN_SIZE} to ${MAX_SIZE}`);
  }
  const cidrs = options.datacenterCidrs ?? defaultDatacenterCidrs();
  const bad = cidrs.find((c) => !ipaddr.isValidCIDR(c));
  if (bad !== undefined) throw new AppError('invalid_request', `not a CIDR range: ${JSON.stringify(bad)}`);
  return { seed, size, cidrs };
}

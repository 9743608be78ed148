import type { Random } from '../random/index.js';
import { between, normal, sample, WeightedPicker } from './draw.js';
import { desktopAgent, mobileAgent } from './agents.js';
import { AddressPool, CidrSet, DatacenterPool, MOBILE_BLOCKS, RESIDENTIAL_BLOCKS } from './network.js';
import { CREATOR_FRAUD, type FraudPattern, type PatternName } from './patterns.js';
import { COUNTRIES, type Country, formatPhone, phoneOf } from './people.js';

/** The issue's §4 lines, field for field and in its key order. */
export type Objective = 'cpl' | 'cpa_fixed' | 'cpa_percent' | 'cpc';
export type LeadField = 'email' | 'phone' | 'country' | 'age';

export interface CampaignLine {
  type: 'campaign';
  id: string;
  objective: Objective;
  attribution_window_days: number;
  target_countries: string[] | null;
  age_min: number | null;
  age_max: number | null;
  paid_traffic: 'allowed' | 'forbidden';
  required_fields: LeadField[];
}

export interface CreatorLine {
  type: 'creator';
  id: string;
  email: string;
  phone: string | null;
}

export interface Campaign {
  readonly line: CampaignLine;
  readonly id: string;
  readonly event: 'lead' | 'sale' | null;
  readonly windowMs: number;
  /** Honest click-to-conversion probability before the creator's own factor. */
  readonly conversionRate: number;
  readonly weight: number;
  readonly currency: string;
  readonly landing: string;
  readonly slug: string;
  readonly targets: readonly Country[] | null;
  /** Honest customers' countries: the targets when the campaign has some. */
  readonly countries: WeightedPicker<Country>;
  /** Creators whose links honest people click, by popularity (flooders excluded). */
  creators: WeightedPicker<Creator>;
}

export interface Creator {
  readonly line: CreatorLine;
  readonly id: string;
  readonly handle: string;
  readonly country: Country;
  readonly email: string;
  /** The creator's own number in E.164, when they gave one. */
  readonly e164: string | null;
  readonly homeIp: string;
  readonly homeAgent: string;
  /** Their audience's conversion propensity relative to the campaign's. */
  readonly factor: number;
  readonly popularity: number;
  readonly role: 'honest' | 'fraud' | 'flooder';
  readonly frauds: Set<FraudPattern>;
  readonly campaigns: Campaign[];
  readonly promoCodes: Map<string, string>;
}

/** Every number that shapes a pattern, drawn per seed from a range so rules cannot fit one constant. */
export interface Params {
  /** Fraction of events each pattern contributes (honest_browser takes the rest). */
  readonly shares: Readonly<Record<Exclude<PatternName, 'honest_browser'>, number>>;
  /** Honest conversions within the first hour after the click (AppsFlyer: about 75 %). */
  readonly honestWithinHour: number;
  /** Honest conversions 20–60 s after the click: fast deciders, near the injection threshold. */
  readonly honestFastShare: number;
  readonly injectionMaxSeconds: number;
  readonly floodRatio: readonly [number, number];
  readonly floodCtitHours: readonly [number, number];
  readonly burstSize: readonly [number, number];
  readonly burstMinutes: number;
  readonly velocityPerMinute: readonly [number, number];
  readonly velocityMinutes: readonly [number, number];
  readonly repeatMax: number;
  readonly officeSize: readonly [number, number];
  readonly cgnatUsers: readonly [number, number];
  readonly cgnatIps: readonly [number, number];
  readonly fraudCreatorShare: number;
  readonly headlessFormFill: number;
  readonly duplicatesMax: number;
  /** How much better than the campaign's average a star creator's audience converts. */
  readonly starFactor: number;
}

const SHARE_RANGES: Readonly<Record<Exclude<PatternName, 'honest_browser'>, readonly [number, number]>> = {
  honest_in_app: [0.12, 0.2],
  honest_office_nat: [0.015, 0.03],
  honest_mobile_cgnat: [0.04, 0.08],
  honest_slow_decider: [0.006, 0.012],
  honest_plus_addressing: [0.006, 0.012],
  honest_promo_code: [0.005, 0.012],
  honest_repeat_visitor: [0.01, 0.02],
  honest_ipv6_privacy: [0.02, 0.04],
  honest_high_converter: [0.04, 0.08],
  honest_minimal_fields: [0.01, 0.02],
  declared_bot: [0.012, 0.025],
  headless_browser: [0.004, 0.008],
  datacenter_ip: [0.006, 0.012],
  repeat_click: [0.008, 0.015],
  ip_velocity: [0.006, 0.012],
  click_injection: [0.003, 0.006],
  click_flooding: [0.03, 0.06],
  paid_traffic: [0.004, 0.008],
  outside_window: [0.002, 0.004],
  self_referral: [0.002, 0.004],
  conversion_burst: [0.003, 0.006],
  disposable_email: [0.002, 0.004],
  role_email: [0.0015, 0.003],
  typo_email: [0.0015, 0.003],
  invalid_phone: [0.0015, 0.003],
  duplicate_lead: [0.003, 0.006],
  missing_field: [0.0015, 0.003],
  wrong_country: [0.0015, 0.003],
  wrong_age: [0.0015, 0.003],
};

export function drawParams(rng: Random): Params {
  const shares = Object.fromEntries(
    Object.entries(SHARE_RANGES).map(([name, [lo, hi]]) => [name, between(rng, lo, hi)]),
  ) as unknown as Params['shares'];
  const floodLow = between(rng, 0.05, 0.12);
  const burstLow = rng.int(5, 8);
  const velocityLow = rng.int(12, 25);
  const officeLow = rng.int(8, 15);
  const cgnatLow = rng.int(10, 20);
  return {
    shares,
    honestWithinHour: between(rng, 0.65, 0.85),
    honestFastShare: between(rng, 0.01, 0.03),
    injectionMaxSeconds: between(rng, 4, 12),
    floodRatio: [floodLow, between(rng, floodLow + 0.05, 0.3)],
    floodCtitHours: [1, between(rng, 48, 96)],
    burstSize: [burstLow, rng.int(burstLow + 4, 30)],
    burstMinutes: between(rng, 1, 12),
    velocityPerMinute: [velocityLow, rng.int(velocityLow + 15, 90)],
    velocityMinutes: [1, rng.int(3, 10)],
    repeatMax: rng.int(2, 6),
    starFactor: between(rng, 4, 10),
    officeSize: [officeLow, rng.int(officeLow + 10, 60)],
    cgnatUsers: [cgnatLow, rng.int(cgnatLow + 20, 80)],
    cgnatIps: [2, rng.int(3, 8)],
    fraudCreatorShare: between(rng, 0.6, 0.9),
    headlessFormFill: between(rng, 0.05, 0.3),
    duplicatesMax: rng.int(1, 3),
  };
}

export interface World {
  readonly campaigns: Campaign[];
  readonly creators: Creator[];
  readonly flooders: Creator[];
  readonly residential: AddressPool;
  readonly mobile: AddressPool;
  readonly datacenter: DatacenterPool;
}

const BRANDS = [
  'lumen-skin', 'northpeak-gear', 'brewhaus', 'kindred-yoga', 'voltride', 'saltandsage', 'pixelpaws', 'glowlab',
  'trailmix-co', 'fernwood-home', 'nimbus-audio', 'copperkettle', 'urbanroots', 'bytebank', 'sunday-linen',
];
const CURRENCIES = ['USD', 'EUR', 'GBP'];
const WINDOWS = [7, 30, 60];
const DAY_MS = 86_400_000;
/** Person numbers of creators start here; customers' stay far below (numbers must stay under 8,000,000, the smallest phone space). */
const CREATOR_NUMBERS = 7_500_000;

export function buildWorld(rng: Random, creatorCount: number, flooderCount: number, datacenterCidrs: readonly string[]): World {
  const exclude = new CidrSet(datacenterCidrs);
  const residential = new AddressPool(RESIDENTIAL_BLOCKS, exclude);
  const mobile = new AddressPool(MOBILE_BLOCKS, exclude);
  const datacenter = new DatacenterPool(rng, datacenterCidrs, rng.int(6, 20), rng.int(10, 60));
  const campaigns = buildCampaigns(rng);
  const creators = buildCreators(rng, creatorCount, flooderCount, campaigns, residential);
  return { campaigns, creators: creators.filter((c) => c.role !== 'flooder'), flooders: creators.filter((c) => c.role === 'flooder'), residential, mobile, datacenter };
}

/**
 * Six to nine campaigns: two lead campaigns (one targeted by country and age, one open to all), one of
 * each sales objective and one cost-per-click, then random extras; windows 7/30/60 days; paid traffic
 * allowed on some; required fields varying.
 */
function buildCampaigns(rng: Random): Campaign[] {
  type Kind = 'targeted' | 'open' | 'any';
  const extras = Array.from({ length: rng.int(1, 4) }, () => rng.pick<Objective>(['cpl', 'cpl', 'cpa_fixed', 'cpa_percent', 'cpc']));
  const required: Array<readonly [Objective, Kind]> = [['cpl', 'targeted'], ['cpl', 'open'], ['cpa_fixed', 'any'], ['cpa_percent', 'any'], ['cpc', 'any']];
  // Shuffled, so no campaign id always means the same kind of campaign.
  const specs = sample(rng, [...required, ...extras.map((o) => [o, 'any'] as const)], required.length + extras.length);
  const windows = sample(rng, WINDOWS, 3);
  const brands = sample(rng, BRANDS, specs.length);
  const campaigns = specs.map(([objective, kind], i) => {
    const lead = objective === 'cpl';
    const targeted = kind === 'targeted' || (kind === 'any' && rng.chance(lead ? 0.45 : 0.25));
    const aged = kind === 'targeted' || (kind === 'any' && rng.chance(lead ? 0.45 : 0.15));
    const targets = targeted ? sample(rng, COUNTRIES, rng.int(1, 5)) : null;
    const ageMin = aged ? rng.pick([18, 18, 21, 25]) : null;
    const ageMax = aged && rng.chance(0.7) ? rng.int(35, 65) : null;
    const fields: LeadField[] = [];
    if (lead || rng.chance(0.6)) fields.push('email');
    if (lead && rng.chance(0.5)) fields.push('phone');
    if (targets || (lead && rng.chance(0.3))) fields.push('country');
    if (aged || (lead && rng.chance(0.15))) fields.push('age');
    const id = `cmp_${String(i + 1).padStart(2, '0')}`;
    const brand = brands[i] as string;
    const line: CampaignLine = {
      type: 'campaign',
      id,
      objective,
      attribution_window_days: windows[i] ?? rng.pick(WINDOWS),
      target_countries: targets ? targets.map((c) => c.code) : null,
      age_min: ageMin,
      age_max: ageMax,
      paid_traffic: objective !== 'cpc' && kind !== 'targeted' && rng.chance(0.35) ? 'allowed' : 'forbidden',
      required_fields: fields,
    };
    const pool = targets ?? COUNTRIES;
    return {
      line,
      id,
      event: lead ? 'lead' : objective === 'cpc' ? null : 'sale',
      windowMs: line.attribution_window_days * DAY_MS,
      conversionRate: lead ? between(rng, 0.04, 0.12) : objective === 'cpc' ? 0 : between(rng, 0.012, 0.05),
      weight: between(rng, 0.5, 2),
      currency: rng.pick(CURRENCIES),
      landing: `https://www.${brand}.com/${lead ? 'signup' : 'shop'}`,
      slug: `${brand.replace(/-/g, '_')}_${i + 1}`,
      targets,
      countries: new WeightedPicker(pool, (c) => c.weight),
      creators: new WeightedPicker<Creator>([], () => 0),
    } satisfies Campaign;
  });
  const converting = campaigns.filter((c, i) => c.event !== null && specs[i]?.[1] !== 'targeted');
  if (!converting.some((c) => c.line.paid_traffic === 'allowed')) rng.pick(converting).line.paid_traffic = 'allowed';
  return campaigns;
}

const HANDLE_STYLES = ['{f}{l}', 'the{f}{l}', '{f}.{l}', '{f}makes', '{f}_{l}', '{l}{f}', '{f}eats', '{f}travels', '{f}fit'];

function buildCreators(rng: Random, count: number, flooderCount: number, campaigns: Campaign[], residential: AddressPool): Creator[] {
  const converting = campaigns.filter((c) => c.event !== null);
  const fraudCount = Math.max(CREATOR_FRAUD.length / 2, Math.round(count * between(rng, 0.03, 0.06)));
  const creators: Creator[] = [];
  // Roles shuffled over the ids, so an id says nothing about its creator.
  const roles = Array.from({ length: count + flooderCount }, (_, i): Creator['role'] => (i < flooderCount ? 'flooder' : i < flooderCount + fraudCount ? 'fraud' : 'honest'));
  const shuffled = sample(rng, roles, roles.length);
  for (let i = 0; i < count + flooderCount; i++) {
    const role = shuffled[i] as Creator['role'];
    const country = new WeightedPicker(COUNTRIES, (c) => c.weight).pick(rng);
    const first = rng.pick(['ada', 'leo', 'mia', 'sam', 'zoe', 'kai', 'ivy', 'max', 'noa', 'eli', 'ana', 'tom', 'lou', 'bea', 'raf']);
    const last = rng.pick(['rivers', 'stone', 'bloom', 'wild', 'vega', 'fox', 'lane', 'hart', 'moss', 'reed', 'sky', 'north']);
    const handle = `${rng.pick(HANDLE_STYLES).replace('{f}', first).replace('{l}', last)}${i + 1}`;
    const email = rng.chance(0.6) ? `${handle.replace(/\./g, '')}@gmail.com` : `${first}@${handle.replace(/[._]/g, '')}.com`;
    // Creators' numbers come from a range no customer reaches; written internationally, as the creator
    // line has no country to read a national number in.
    const e164 = rng.chance(0.65) ? phoneOf(country, CREATOR_NUMBERS + i) : null;
    const own = role === 'flooder' ? [rng.pick(converting)] : sample(rng, campaigns, rng.int(1, 3));
    const id = `cr_${String(i + 1).padStart(4, '0')}`;
    creators.push({
      line: { type: 'creator', id, email, phone: e164 ? formatPhone(e164, rng.pick(['e164', 'international'] as const)) : null },
      id,
      handle,
      country,
      email,
      e164,
      homeIp: residential.draw(rng),
      homeAgent: rng.chance(0.7) ? mobileAgent(rng) : desktopAgent(rng),
      factor: Math.min(2.5, Math.max(0.4, Math.exp(0.35 * normal(rng)))),
      popularity: Math.exp(1.1 * normal(rng)),
      role,
      frauds: new Set(),
      campaigns: own,
      promoCodes: new Map(),
    });
  }
  assignFrauds(rng, creators.filter((c) => c.role === 'fraud'), campaigns);
  const honest = creators.filter((c) => c.role === 'honest');
  for (const campaign of campaigns) {
    if (!honest.some((c) => c.campaigns.includes(campaign))) rng.pick(honest).campaigns.push(campaign);
    const members = creators.filter((c) => c.role !== 'flooder' && c.campaigns.includes(campaign));
    campaign.creators = new WeightedPicker(members, (c) => c.popularity);
  }
  for (const creator of creators) {
    for (const campaign of creator.campaigns) {
      if (campaign.event === 'sale') creator.promoCodes.set(campaign.id, `${creator.handle.replace(/[^a-z0-9]/gi, '').toUpperCase()}${rng.pick([10, 15, 20, 25])}`);
    }
  }
  return creators;
}

/** Each fraudulent creator commits two to four kinds of fraud; every kind has at least one creator. */
function assignFrauds(rng: Random, frauds: Creator[], campaigns: Campaign[]): void {
  CREATOR_FRAUD.forEach((pattern, i) => (frauds[i % frauds.length] as Creator).frauds.add(pattern));
  for (const creator of frauds) {
    for (const pattern of sample(rng, CREATOR_FRAUD, rng.int(1, 3))) creator.frauds.add(pattern);
    for (const pattern of creator.frauds) {
      if (!creator.campaigns.some((c) => eligible(pattern, c))) creator.campaigns.push(rng.pick(campaigns.filter((c) => eligible(pattern, c))));
    }
  }
}

/** Where a pattern can happen at all: lead-quality needs leads, paid traffic a campaign that forbids it… */
export function eligible(pattern: PatternName, c: Campaign): boolean {
  switch (pattern) {
    case 'honest_browser':
    case 'honest_in_app':
    case 'honest_office_nat':
    case 'honest_mobile_cgnat':
    case 'honest_ipv6_privacy':
    case 'declared_bot':
    case 'headless_browser':
    case 'datacenter_ip':
    case 'repeat_click':
    case 'ip_velocity':
      return true;
    case 'honest_promo_code':
      return c.event === 'sale';
    case 'paid_traffic':
      return c.line.paid_traffic === 'forbidden';
    case 'role_email':
    case 'typo_email':
    case 'invalid_phone':
    case 'duplicate_lead':
    case 'missing_field':
      return c.event === 'lead';
    case 'wrong_country':
      return c.event === 'lead' && c.targets !== null;
    case 'wrong_age':
      return c.event === 'lead' && c.line.age_min !== null;
    default:
      return c.event !== null;
  }
}

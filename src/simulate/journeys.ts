import ipaddr from 'ipaddr.js';
import type { Random } from '../random/index.js';
import { declaredBotAgent, desktopAgent, distinctAgents, headlessAgent, type InApp, inAppAgent, mobileAgent } from './agents.js';
import { between, logUniform, WeightedPicker } from './draw.js';
import { AddressPool, CRAWLER_BLOCKS } from './network.js';
import { CREATOR_FRAUD, type PatternName } from './patterns.js';
import {
  COUNTRIES,
  type Country,
  DISPOSABLE_DOMAINS,
  emailAt,
  emailVariant,
  formatPhone,
  invalidPhone,
  makePerson,
  type Person,
  phoneOf,
  phoneStyle,
  PLUS_PROVIDERS,
  plusAddressed,
  roleEmail,
  roleLikePersonalEmail,
  TYPO_DOMAINS,
  workEmail,
} from './people.js';
import { EventQueue } from './queue.js';
import { type Campaign, type Creator, eligible, type Params, type World } from './world.js';

export interface ClickLine {
  type: 'click';
  id: string;
  ts: string;
  campaign: string;
  creator: string;
  ip: string;
  ua: string;
  referrer: string | null;
  landing_url: string;
}

export interface Customer {
  id: string;
  email: string | null;
  phone: string | null;
  country: string | null;
  age: number | null;
}

export interface ConversionLine {
  type: 'conversion';
  id: string;
  ts: string;
  campaign: string;
  event: 'lead' | 'sale';
  click_id: string | null;
  promo_code: string | null;
  creator: string | null;
  ip: string | null;
  ua: string | null;
  customer: Customer;
  amount: string | null;
  currency: string | null;
}

export interface Label {
  id: string;
  kind: 'click' | 'conversion';
  pattern: PatternName;
  honest: boolean;
}

/**
 * An id given when the event is written, not when it is generated: ids then follow time order as a
 * tracking server's would, and say nothing about which events were generated together (an office's
 * clicks, a burst's customers).
 */
interface IdRef {
  id: string;
}

/** A customer as a journey builds it; its id is given when its first conversion is written. */
interface Draft {
  readonly ref: IdRef;
  email: string | null;
  phone: string | null;
  country: string | null;
  age: number | null;
}

export type Pending =
  | { readonly event: ClickLine; readonly label: Label; readonly ref: IdRef }
  | { readonly event: ConversionLine; readonly label: Label; readonly click: IdRef | null; readonly customer: IdRef };

interface Visitor {
  ip: string;
  ua: string;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

type Source = 'instagram' | 'tiktok' | 'facebook' | 'youtube' | 'x' | 'blog' | 'newsletter';

const PAID_CLICK_IDS: ReadonlyArray<readonly [param: string, referrer: string]> = [
  ['gclid', 'https://www.google.com/'],
  ['fbclid', 'https://www.facebook.com/'],
  ['msclkid', 'https://www.bing.com/'],
  ['ttclid', 'https://www.tiktok.com/'],
  ['twclid', 'https://t.co/'],
  ['li_fat_id', 'https://www.linkedin.com/'],
  ['rdclid', 'https://www.reddit.com/'],
];

const TOKEN_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

/** A past lead or customer that may come back: honest repeat buyers, people in several campaigns. */
interface Known {
  person: Person;
  ref: IdRef;
  campaign: Campaign;
}

/**
 * The simulation's state and one method per pattern. A journey (a visit, an office day, a bot session)
 * is generated whole when it starts; its events wait in the queue until the clock reaches them.
 */
export class Journeys {
  readonly queue = new EventQueue<Pending>();
  readonly #rng: Random;
  readonly #world: World;
  readonly #params: Params;
  readonly #crawlers: AddressPool;
  readonly #campaignsFor = new Map<PatternName, WeightedPicker<Campaign>>();
  #stars: { campaigns: WeightedPicker<Campaign>; creators: Map<Campaign, Creator> } | undefined;
  readonly #fraudPairs = new Map<PatternName, WeightedPicker<readonly [Campaign, Creator]>>();
  readonly #recent: Known[] = [];
  readonly #selfClicksAtHome = new Map<string, number>();
  #clicks = 0;
  #conversions = 0;
  #customers = 0;
  #persons = 0;

  constructor(rng: Random, world: World, params: Params) {
    this.#rng = rng;
    this.#world = world;
    this.#params = params;
    this.#crawlers = new AddressPool(CRAWLER_BLOCKS, null);
    const frauds = world.creators.filter((c) => c.role === 'fraud');
    for (const pattern of CREATOR_FRAUD) {
      const pairs = frauds.flatMap((creator) =>
        creator.frauds.has(pattern) ? creator.campaigns.filter((c) => eligible(pattern, c)).map((c) => [c, creator] as const) : [],
      );
      this.#fraudPairs.set(pattern, new WeightedPicker(pairs, () => 1));
    }
  }

  /** Whether a pattern can happen in this world at all (e.g. no campaign forbids paid traffic). */
  possible(pattern: PatternName): boolean {
    return this.#campaigns(pattern).size > 0;
  }

  /** The honest conversion probability of an average click across campaigns, for budgeting. */
  averageConversionRate(pattern: PatternName): number {
    const picker = this.#campaigns(pattern);
    let weight = 0;
    let rate = 0;
    for (const c of picker.items) {
      weight += c.weight;
      rate += c.weight * c.conversionRate;
    }
    return weight > 0 ? rate / weight : 0;
  }

  #campaigns(pattern: PatternName): WeightedPicker<Campaign> {
    let picker = this.#campaignsFor.get(pattern);
    if (!picker) {
      picker = new WeightedPicker(this.#world.campaigns.filter((c) => eligible(pattern, c)), (c) => c.weight);
      this.#campaignsFor.set(pattern, picker);
    }
    return picker;
  }

  /** A campaign and a creator: for creator fraud, mostly one of the fraudulent creators who commit it. */
  #pick(pattern: PatternName): readonly [Campaign, Creator] {
    const rng = this.#rng;
    const pairs = this.#fraudPairs.get(pattern);
    if (pairs && pairs.size > 0 && rng.chance(this.#params.fraudCreatorShare)) return pairs.pick(rng);
    const campaign = this.#campaigns(pattern).pick(rng);
    return [campaign, campaign.creators.pick(rng)];
  }

  // ---- events -------------------------------------------------------------------------------------

  #click(ts: number, campaign: Campaign, creator: Creator, visitor: Visitor, referrer: string | null, url: string, pattern: PatternName, honest: boolean): IdRef {
    const ref = { id: '' };
    const event: ClickLine = { type: 'click', id: '', ts: '', campaign: campaign.id, creator: creator.id, ip: visitor.ip, ua: visitor.ua, referrer, landing_url: url };
    this.queue.push(ts, { event, label: { id: '', kind: 'click', pattern, honest }, ref });
    return ref;
  }

  /** A conversion through a click, or (click null) through the creator's promo code. */
  #conversion(
    ts: number,
    campaign: Campaign,
    from: { click: IdRef | null; creator?: Creator; visitor: Visitor | null },
    customer: Draft,
    pattern: PatternName,
    honest: boolean,
  ): void {
    const sale = campaign.event === 'sale';
    const promo = from.click === null && from.creator !== undefined;
    const event: ConversionLine = {
      type: 'conversion',
      id: '',
      ts: '',
      campaign: campaign.id,
      event: sale ? 'sale' : 'lead',
      click_id: null,
      promo_code: promo ? (from.creator?.promoCodes.get(campaign.id) ?? null) : null,
      creator: promo ? (from.creator?.id ?? null) : null,
      ip: from.visitor?.ip ?? null,
      ua: from.visitor?.ua ?? null,
      customer: { id: '', email: customer.email, phone: customer.phone, country: customer.country, age: customer.age },
      amount: sale ? orderAmount(this.#rng) : null,
      currency: sale ? campaign.currency : null,
    };
    this.queue.push(ts, { event, label: { id: '', kind: 'conversion', pattern, honest }, click: from.click, customer: customer.ref });
  }

  /** Gives a due event its ids, in the order events are written (a click is always written before its conversions). */
  name(pending: Pending): void {
    if ('ref' in pending) {
      pending.ref.id = `clk_${++this.#clicks}`;
      pending.event.id = pending.ref.id;
    } else {
      pending.event.id = `cnv_${++this.#conversions}`;
      pending.event.click_id = pending.click?.id ?? null;
      if (pending.customer.id === '') pending.customer.id = `cus_${++this.#customers}`;
      pending.event.customer.id = pending.customer.id;
    }
    pending.label.id = pending.event.id;
  }

  // ---- people -------------------------------------------------------------------------------------

  #person(campaign: Campaign, country?: Country): Person {
    const rng = this.#rng;
    return makePerson(rng, ++this.#persons, country ?? campaign.countries.pick(rng), this.#age(campaign));
  }

  /** An age the campaign accepts; now and then exactly a bound (inclusive bounds pass). */
  #age(campaign: Campaign): number {
    const rng = this.#rng;
    const min = campaign.line.age_min ?? 18;
    const max = campaign.line.age_max ?? 70;
    if (campaign.line.age_min !== null && rng.chance(0.06)) return rng.pick([min, max]);
    return rng.int(min, max);
  }

  /** What an honest customer gives: every required field, some optional ones, phones as people type them. */
  #customer(campaign: Campaign, person: Person, ref?: IdRef): Draft {
    const rng = this.#rng;
    const required = campaign.line.required_fields;
    const sale = campaign.event === 'sale';
    const country = required.includes('country') || rng.chance(sale ? 0.8 : 0.5) ? person.country.code : null;
    let phone: string | null = null;
    if (required.includes('phone') || rng.chance(0.4)) {
      // Near-miss: a customer whose mobile is from another country, written internationally.
      phone = rng.chance(0.02)
        ? formatPhone(phoneOf(rng.pick(COUNTRIES), person.number), 'international')
        : formatPhone(person.e164, phoneStyle(rng, country !== null ? person.country : null));
    }
    return {
      ref: ref ?? { id: '' },
      email: required.includes('email') || rng.chance(0.9) ? person.email : null,
      phone,
      country,
      age: required.includes('age') || rng.chance(0.2) ? person.age : null,
    };
  }

  /** An honest customer, sometimes one seen before where that is legitimate. */
  #honestCustomer(campaign: Campaign): Draft {
    const rng = this.#rng;
    // Near-miss: a returning buyer (same customer, a second sale) is not a duplicate lead.
    if (campaign.event === 'sale' && rng.chance(0.05)) {
      const known = this.#recentFor((k) => k.campaign === campaign);
      if (known) return this.#customer(campaign, known.person, known.ref);
    }
    // Near-miss: the same person as a lead in another campaign (duplicates count per campaign).
    if (campaign.event === 'lead' && rng.chance(0.03)) {
      const known = this.#recentFor((k) => k.campaign !== campaign && k.campaign.event === 'lead' && fits(campaign, k.person), true);
      if (known) return this.#customer(campaign, known.person);
    }
    const person = this.#person(campaign);
    const customer = this.#customer(campaign, person);
    if (campaign.event === 'lead' && customer.email !== null) {
      // Near-misses for email checks: a work address (B2B), a personal address that starts with a role word.
      const roll = rng.next();
      if (roll < 0.06) customer.email = workEmail(rng, person);
      else if (roll < 0.065) customer.email = roleLikePersonalEmail(rng, person);
    }
    this.#remember({ person, ref: customer.ref, campaign });
    return customer;
  }

  #remember(known: Known): void {
    if (this.#recent.length < 500) this.#recent.push(known);
    else this.#recent[this.#rng.int(0, 499)] = known;
  }

  /** A remembered customer that `accept`s; `once` forgets it, so a person is reused at most once that way. */
  #recentFor(accept: (k: Known) => boolean, once = false): Known | undefined {
    for (let attempt = 0; attempt < 8 && this.#recent.length > 0; attempt++) {
      const i = this.#rng.int(0, this.#recent.length - 1);
      const k = this.#recent[i] as Known;
      if (!accept(k)) continue;
      if (once) this.#recent.splice(i, 1);
      return k;
    }
    return undefined;
  }

  // ---- visitors, links, timing -------------------------------------------------------------------

  #browserVisitor(): Visitor {
    const rng = this.#rng;
    if (rng.chance(0.6)) return { ip: (rng.chance(0.45) ? this.#world.mobile : this.#world.residential).draw(rng), ua: mobileAgent(rng) };
    return { ip: this.#world.residential.draw(rng), ua: desktopAgent(rng) };
  }

  /** Where a converting visitor is when they convert: mostly the same device and network. */
  #laterVisitor(visitor: Visitor): Visitor {
    const rng = this.#rng;
    if (rng.chance(0.75)) return visitor;
    return {
      ip: (rng.chance(0.5) ? this.#world.residential : this.#world.mobile).draw(rng),
      ua: rng.chance(0.5) ? visitor.ua : rng.chance(0.6) ? mobileAgent(rng) : desktopAgent(rng),
    };
  }

  #link(campaign: Campaign, creator: Creator, source: Source, paid?: string): { url: string; referrer: string | null } {
    const rng = this.#rng;
    let url = `${campaign.landing}?utm_source=${source}&utm_medium=influencer&utm_campaign=${campaign.slug}&ref=${creator.handle}`;
    let referrer = organicReferrer(rng, source, creator);
    if (paid !== undefined) {
      const [param, paidReferrer] = PAID_CLICK_IDS.find(([p]) => p === paid) ?? (PAID_CLICK_IDS[0] as (typeof PAID_CLICK_IDS)[number]);
      url += `&${param}=${this.#token(param === 'li_fat_id' ? 36 : rng.int(20, 90))}`;
      referrer = rng.chance(0.8) ? paidReferrer : null;
    }
    return { url, referrer };
  }

  #token(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += TOKEN_CHARS[Math.floor(this.#rng.next() * TOKEN_CHARS.length)];
    return out;
  }

  /**
   * Honest click-to-conversion time: a few fast deciders at 20–60 s, most within the hour (log-uniform
   * from a minute), the rest over days but inside the attribution window.
   */
  #honestCtit(campaign: Campaign): number {
    const rng = this.#rng;
    const p = this.#params;
    const u = rng.next();
    if (u < p.honestFastShare) return between(rng, 20, 60) * SECOND;
    if (u < p.honestWithinHour) return logUniform(rng, 60, 3600) * SECOND;
    return logUniform(rng, HOUR, Math.max(2 * HOUR, Math.min(campaign.windowMs, 14 * DAY) - HOUR));
  }

  // ---- honest patterns ---------------------------------------------------------------------------

  /**
   * One honest visit: a click, and with the campaign's conversion rate (times the creator's) a
   * conversion. On campaigns that allow paid traffic some clicks carry an ad click id (honest there).
   */
  #visit(start: number, campaign: Campaign, creator: Creator, visitor: Visitor, source: Source, pattern: PatternName, conversionVisitor?: () => Visitor): void {
    const rng = this.#rng;
    const paid = campaign.line.paid_traffic === 'allowed' && rng.chance(0.1) ? rng.pick(PAID_CLICK_IDS)[0] : undefined;
    const { url, referrer } = this.#link(campaign, creator, source, paid);
    const click = this.#click(start, campaign, creator, visitor, referrer, url, pattern, true);
    if (campaign.event === null || !rng.chance(campaign.conversionRate * creator.factor)) return;
    const at = start + this.#honestCtit(campaign);
    this.#conversion(at, campaign, { click, visitor: conversionVisitor ? conversionVisitor() : this.#laterVisitor(visitor) }, this.#honestCustomer(campaign), pattern, true);
  }

  honestBrowser(start: number): void {
    const [campaign, creator] = this.#pick('honest_browser');
    const source = this.#rng.pick<Source>(['instagram', 'tiktok', 'youtube', 'youtube', 'x', 'blog', 'newsletter']);
    this.#visit(start, campaign, creator, this.#browserVisitor(), source, 'honest_browser');
  }

  honestInApp(start: number): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick('honest_in_app');
    const app = rng.pick<InApp>(['instagram', 'instagram', 'tiktok', 'tiktok', 'facebook']);
    const visitor = { ip: (rng.chance(0.6) ? this.#world.mobile : this.#world.residential).draw(rng), ua: inAppAgent(rng, app) };
    this.#visit(start, campaign, creator, visitor, app, 'honest_in_app');
  }

  /**
   * A workday at an office: 8 to 60 colleagues behind ONE IP, each with their own browser, following a
   * link shared internally; half or so click within the hour after it is shared.
   */
  honestOfficeNat(start: number): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick('honest_office_nat');
    const [lo, hi] = this.#params.officeSize;
    const people = rng.int(lo, hi);
    const ip = this.#world.residential.draw(rng);
    const agents = distinctAgents(rng, people, (r) => (r.chance(0.85) ? desktopAgent(r) : mobileAgent(r)));
    const shared = start + between(rng, 0.5, 7) * HOUR;
    const clustered = between(rng, 0.3, 0.7);
    agents.forEach((ua, i) => {
      const at = rng.chance(clustered) ? shared + rng.next() * HOUR : start + rng.next() * 10 * HOUR;
      const who = i > 0 && rng.chance(0.3) ? campaign.creators.pick(rng) : creator;
      this.#visit(at, campaign, who, { ip, ua }, rng.pick<Source>(['newsletter', 'blog', 'x']), 'honest_office_nat');
    });
  }

  /**
   * A creator's post reaching phones on one carrier: 10 to 80 people over half an hour to three hours,
   * sharing 2 to 8 carrier-NAT addresses, each on their own phone.
   */
  honestMobileCgnat(start: number): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick('honest_mobile_cgnat');
    const [uLo, uHi] = this.#params.cgnatUsers;
    const [iLo, iHi] = this.#params.cgnatIps;
    const ips = Array.from({ length: rng.int(iLo, iHi) }, () => this.#world.mobile.draw(rng));
    const app = rng.pick<InApp>(['instagram', 'tiktok', 'facebook']);
    const agents = distinctAgents(rng, rng.int(uLo, uHi), (r) => (r.chance(0.5) ? inAppAgent(r, app) : mobileAgent(r)));
    const duration = between(rng, 0.5, 3) * HOUR;
    for (const ua of agents) {
      const visitor = { ip: rng.pick(ips), ua };
      const later = (): Visitor => (rng.chance(0.7) ? { ip: rng.pick(ips), ua } : { ip: this.#world.residential.draw(rng), ua });
      this.#visit(start + rng.next() * duration, campaign, creator, visitor, app, 'honest_mobile_cgnat', later);
    }
  }

  /** Clicks now, converts one day to the whole window later; some within the window's last hours. */
  honestSlowDecider(start: number): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick('honest_slow_decider');
    const visitor = this.#browserVisitor();
    const { url, referrer } = this.#link(campaign, creator, rng.pick<Source>(['instagram', 'youtube', 'blog']));
    const click = this.#click(start, campaign, creator, visitor, referrer, url, 'honest_slow_decider', true);
    const ctit = rng.chance(0.15)
      ? campaign.windowMs - between(rng, MINUTE, 6 * HOUR)
      : between(rng, DAY, Math.max(DAY + HOUR, campaign.windowMs - 5 * MINUTE));
    this.#conversion(start + ctit, campaign, { click, visitor: this.#laterVisitor(visitor) }, this.#honestCustomer(campaign), 'honest_slow_decider', true);
  }

  /** Honest people who tag their address (ada+shop@…) or move Gmail's dots: each a different person. */
  honestPlusAddressing(start: number): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick('honest_plus_addressing');
    const visitor = this.#browserVisitor();
    const { url, referrer } = this.#link(campaign, creator, rng.pick<Source>(['instagram', 'tiktok', 'youtube']));
    const click = this.#click(start, campaign, creator, visitor, referrer, url, 'honest_plus_addressing', true);
    const person = this.#person(campaign);
    const plusPerson = { ...person, email: emailAt(rng, person, PLUS_PROVIDERS) };
    const customer = this.#customer(campaign, plusPerson);
    customer.email = plusAddressed(rng, plusPerson.email);
    this.#conversion(start + this.#honestCtit(campaign), campaign, { click, visitor: this.#laterVisitor(visitor) }, customer, 'honest_plus_addressing', true);
  }

  /** A sale by the creator's promo code: no click; the shop may or may not pass the buyer's IP and agent. */
  honestPromoCode(start: number): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick('honest_promo_code');
    const visitor = rng.chance(0.7) ? this.#browserVisitor() : null;
    this.#conversion(start, campaign, { click: null, creator, visitor }, this.#honestCustomer(campaign), 'honest_promo_code', true);
  }

  /**
   * A visitor who clicks, comes back through the same link 5–50 minutes later and converts then. The
   * second click is a repeat (never paid per click: the first one was); the conversion is honest and
   * must be paid, whichever click it names.
   */
  honestRepeatVisitor(start: number): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick('honest_repeat_visitor');
    const visitor = this.#browserVisitor();
    const { url, referrer } = this.#link(campaign, creator, rng.pick<Source>(['instagram', 'tiktok', 'youtube', 'newsletter']));
    this.#click(start, campaign, creator, visitor, referrer, url, 'honest_repeat_visitor', true);
    const again = start + between(rng, 5, 50) * MINUTE;
    const second = this.#click(again, campaign, creator, visitor, referrer, url, 'honest_repeat_visitor', false);
    // Someone who comes back meant to: they convert three times as often as a first visit.
    if (campaign.event === null || !rng.chance(Math.min(0.9, 3 * campaign.conversionRate * creator.factor))) return;
    this.#conversion(again + this.#honestCtit(campaign), campaign, { click: campaign.event === 'sale' && rng.chance(0.3) ? null : second, creator, visitor }, this.#honestCustomer(campaign), 'honest_repeat_visitor', true);
  }

  /**
   * A household on IPv6: two to four devices in one /64, each address changing from visit to visit
   * (privacy extensions rotate the interface id), each device clicking once; some convert, from yet
   * another address of the /64 or from the phone network.
   */
  honestIpv6Privacy(start: number): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick('honest_ipv6_privacy');
    const home = this.#ipv6Network(this.#world.residential);
    const agents = distinctAgents(rng, rng.int(2, 4), (r) => (r.chance(0.6) ? mobileAgent(r) : desktopAgent(r)));
    for (const ua of agents) {
      const at = start + rng.next() * 3 * HOUR;
      const source = rng.pick<Source>(['instagram', 'tiktok', 'youtube']);
      this.#visit(at, campaign, creator, { ip: home(), ua }, source, 'honest_ipv6_privacy', () =>
        rng.chance(0.8) ? { ip: home(), ua } : { ip: this.#ipv6Network(this.#world.mobile)(), ua },
      );
    }
  }

  /** Addresses of one IPv6 /64 drawn from a pool, a new interface id each call. */
  #ipv6Network(pool: AddressPool): () => string {
    const rng = this.#rng;
    let drawn = pool.draw(rng);
    for (let i = 0; i < 100 && !drawn.includes(':'); i++) drawn = pool.draw(rng);
    if (!drawn.includes(':')) return () => drawn;
    const prefix = ipaddr.IPv6.parse(drawn).parts.slice(0, 4);
    return () => new ipaddr.IPv6([...prefix, ...Array.from({ length: 4 }, () => rng.int(0, 0xffff))]).toString();
  }

  /**
   * A star: one creator per campaign whose audience converts several times better than the
   * campaign's average (a niche that fits the product, a trusted voice). Their traffic is a large part
   * of a few campaigns, which raises the campaign's average conversion rate for every other creator.
   */
  honestHighConverter(start: number): void {
    const rng = this.#rng;
    const campaign = this.#starCampaigns().pick(rng);
    const star = this.#starOf(campaign);
    const visitor = rng.chance(0.5) ? this.#browserVisitor() : { ip: this.#world.mobile.draw(rng), ua: inAppAgent(rng, 'instagram') };
    const { url, referrer } = this.#link(campaign, star, rng.pick<Source>(['instagram', 'youtube', 'newsletter']));
    const click = this.#click(start, campaign, star, visitor, referrer, url, 'honest_high_converter', true);
    if (campaign.event === null || !rng.chance(Math.min(0.6, campaign.conversionRate * this.#params.starFactor))) return;
    this.#conversion(start + this.#honestCtit(campaign), campaign, { click, visitor: this.#laterVisitor(visitor) }, this.#honestCustomer(campaign), 'honest_high_converter', true);
  }

  /** Two converting campaigns (fixed per run) where stars bring much of the traffic. */
  #starCampaigns(): WeightedPicker<Campaign> {
    if (!this.#stars) {
      const eligibleOnes = this.#campaigns('honest_high_converter').items.filter((c) => c.event !== null && c.creators.items.length >= 3);
      const chosen = eligibleOnes.length > 0 ? eligibleOnes.slice(0, 2) : this.#campaigns('honest_high_converter').items.slice(0, 1);
      this.#stars = { campaigns: new WeightedPicker(chosen, () => 1), creators: new Map() };
    }
    return this.#stars.campaigns;
  }

  #starOf(campaign: Campaign): Creator {
    const stars = this.#stars?.creators ?? new Map<Campaign, Creator>();
    let star = stars.get(campaign);
    if (!star) {
      star = campaign.creators.pick(this.#rng);
      stars.set(campaign, star);
    }
    return star;
  }

  /**
   * A lead or sale that gives only what the campaign requires: no optional email, phone, country or
   * age; a phone, when required without a country, as people type it at home (national format).
   */
  honestMinimalFields(start: number): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick('honest_minimal_fields');
    const visitor = this.#browserVisitor();
    const { url, referrer } = this.#link(campaign, creator, rng.pick<Source>(['instagram', 'tiktok', 'youtube', 'blog']));
    const click = this.#click(start, campaign, creator, visitor, referrer, url, 'honest_minimal_fields', true);
    const person = this.#person(campaign);
    const required = campaign.line.required_fields;
    const country = required.includes('country') ? person.country.code : null;
    const phone = required.includes('phone')
      ? formatPhone(person.e164, country === null && rng.chance(0.5) ? 'national' : phoneStyle(rng, country === null ? null : person.country))
      : null;
    const customer: Draft = {
      ref: { id: '' },
      email: required.includes('email') ? person.email : null,
      phone,
      country,
      age: required.includes('age') ? person.age : null,
    };
    this.#remember({ person, ref: customer.ref, campaign });
    this.#conversion(start + this.#honestCtit(campaign), campaign, { click, visitor: this.#laterVisitor(visitor) }, customer, 'honest_minimal_fields', true);
  }

  // ---- invalid traffic ---------------------------------------------------------------------------

  /** Crawlers, link-preview fetchers and HTTP libraries; a few fill in a lead form too. */
  declaredBot(start: number): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick('declared_bot');
    const visitor = { ip: (rng.chance(0.7) ? this.#crawlers : this.#world.residential).draw(rng), ua: declaredBotAgent(rng) };
    const url = this.#link(campaign, creator, rng.pick<Source>(['instagram', 'x', 'blog'])).url;
    const click = this.#click(start, campaign, creator, visitor, null, url, 'declared_bot', false);
    if (campaign.event !== null && rng.chance(0.04)) {
      this.#conversion(start + between(rng, 2, 90) * SECOND, campaign, { click, visitor }, this.#customer(campaign, this.#person(campaign)), 'declared_bot', false);
    }
  }

  /** Headless and scripted browsers through residential proxies; some fill in the form. */
  headlessBrowser(start: number): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick('headless_browser');
    const visitor = { ip: (rng.chance(0.7) ? this.#world.residential : this.#world.mobile).draw(rng), ua: headlessAgent(rng) };
    const { url } = this.#link(campaign, creator, 'instagram');
    const click = this.#click(start, campaign, creator, visitor, null, url, 'headless_browser', false);
    if (campaign.event !== null && rng.chance(this.#params.headlessFormFill)) {
      this.#conversion(start + between(rng, 3, 180) * SECOND, campaign, { click, visitor }, this.#customer(campaign, this.#person(campaign)), 'headless_browser', false);
    }
  }

  /** Ordinary browser agents from cloud hosts (a few busy servers and scattered addresses). */
  datacenterIp(start: number): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick('datacenter_ip');
    const visitor = { ip: this.#world.datacenter.draw(rng), ua: rng.chance(0.8) ? desktopAgent(rng) : mobileAgent(rng) };
    const { url, referrer } = this.#link(campaign, creator, rng.pick<Source>(['instagram', 'youtube', 'x']));
    const click = this.#click(start, campaign, creator, visitor, referrer, url, 'datacenter_ip', false);
    if (campaign.event !== null && rng.chance(campaign.conversionRate * between(rng, 0.5, 2))) {
      const customer = this.#customer(campaign, this.#person(campaign));
      this.#conversion(start + this.#honestCtit(campaign), campaign, { click, visitor }, customer, 'datacenter_ip', false);
    }
  }

  /**
   * The same IP, agent and link clicking again within the hour: the first click is a real visit (and may
   * convert, attributed to it); the repeats are not.
   */
  repeatClick(start: number): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick('repeat_click');
    const visitor = this.#browserVisitor();
    const source = rng.pick<Source>(['instagram', 'tiktok', 'youtube']);
    const { url, referrer } = this.#link(campaign, creator, source);
    const first = this.#click(start, campaign, creator, visitor, referrer, url, 'repeat_click', true);
    const repeats = rng.int(1, this.#params.repeatMax);
    let at = start;
    for (let i = 0; i < repeats; i++) {
      at += logUniform(rng, 2, 15 * 60) * SECOND;
      if (at >= start + 59 * MINUTE) break;
      this.#click(at, campaign, creator, visitor, referrer, url, 'repeat_click', false);
    }
    if (campaign.event !== null && rng.chance(campaign.conversionRate)) {
      const when = Math.max(at + SECOND, start + this.#honestCtit(campaign));
      this.#conversion(when, campaign, { click: first, visitor }, this.#honestCustomer(campaign), 'repeat_click', true);
    }
  }

  /** One IP firing dozens of clicks a minute for a few minutes, rotating its agent string. */
  ipVelocity(start: number): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick('ip_velocity');
    const [rLo, rHi] = this.#params.velocityPerMinute;
    const [mLo, mHi] = this.#params.velocityMinutes;
    const minutes = rng.int(mLo, mHi);
    const clicks = rng.int(rLo, rHi) * minutes;
    const ip = (rng.chance(0.7) ? this.#world.residential : this.#world.mobile).draw(rng);
    const { url } = this.#link(campaign, creator, 'instagram');
    for (let i = 0; i < clicks; i++) {
      const ua = rng.chance(0.5) ? mobileAgent(rng) : desktopAgent(rng);
      this.#click(start + rng.next() * minutes * MINUTE, campaign, creator, { ip, ua }, rng.chance(0.3) ? 'https://l.instagram.com/' : null, url, 'ip_velocity', false);
    }
  }

  /** A click fired from the buyer's own phone 1 to ~12 s before an organic conversion, to claim it. */
  clickInjection(start: number): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick('click_injection');
    const visitor = { ip: this.#world.mobile.draw(rng), ua: rng.chance(0.5) ? mobileAgent(rng) : inAppAgent(rng, rng.pick<InApp>(['instagram', 'tiktok'])) };
    const { url } = this.#link(campaign, creator, 'instagram');
    const click = this.#click(start, campaign, creator, visitor, null, url, 'click_injection', false);
    const ctit = between(rng, 1, this.#params.injectionMaxSeconds) * SECOND;
    this.#conversion(start + ctit, campaign, { click, visitor }, this.#customer(campaign, this.#person(campaign)), 'click_injection', false);
  }

  /**
   * One hour of a flooding creator: clicks from scattered residential and mobile addresses with real
   * browser agents, converting far below the campaign's rate, 1 h to 2–4 days later (flat): organic
   * buyers whose purchase the flood happens to claim.
   */
  clickFlood(start: number, creator: Creator, clicks: number, ratio: number): void {
    const rng = this.#rng;
    const campaign = creator.campaigns[0] as Campaign;
    const [lo, hi] = this.#params.floodCtitHours;
    for (let i = 0; i < clicks; i++) {
      const at = start + rng.next() * HOUR;
      const visitor = this.#browserVisitor();
      const { url, referrer } = this.#link(campaign, creator, rng.pick<Source>(['instagram', 'tiktok', 'youtube']));
      const click = this.#click(at, campaign, creator, visitor, rng.chance(0.5) ? referrer : null, url, 'click_flooding', false);
      if (rng.chance(campaign.conversionRate * ratio)) {
        const buyer = this.#browserVisitor();
        this.#conversion(at + between(rng, lo, hi) * HOUR, campaign, { click, visitor: buyer }, this.#customer(campaign, this.#person(campaign)), 'click_flooding', false);
      }
    }
  }

  /** A creator running search or social ads on a campaign that forbids paid traffic. */
  paidTraffic(start: number): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick('paid_traffic');
    const visitor = this.#browserVisitor();
    const { url, referrer } = this.#link(campaign, creator, rng.pick<Source>(['instagram', 'youtube']), rng.pick(PAID_CLICK_IDS)[0]);
    const click = this.#click(start, campaign, creator, visitor, referrer, url, 'paid_traffic', false);
    if (campaign.event !== null && rng.chance(campaign.conversionRate * creator.factor)) {
      this.#conversion(start + this.#honestCtit(campaign), campaign, { click, visitor: this.#laterVisitor(visitor) }, this.#customer(campaign, this.#person(campaign)), 'paid_traffic', false);
    }
  }

  /** A real click, and a conversion 10 minutes to 15 days after the attribution window closed. */
  outsideWindow(start: number): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick('outside_window');
    const visitor = this.#browserVisitor();
    const { url, referrer } = this.#link(campaign, creator, rng.pick<Source>(['instagram', 'youtube', 'blog']));
    const click = this.#click(start, campaign, creator, visitor, referrer, url, 'outside_window', true);
    const at = start + campaign.windowMs + logUniform(rng, 10 * MINUTE, 15 * DAY);
    this.#conversion(at, campaign, { click, visitor: this.#laterVisitor(visitor) }, this.#customer(campaign, this.#person(campaign)), 'outside_window', false);
  }

  /**
   * The creator converting through their own link or code: their email in another form (case, +tag,
   * Gmail dots) or their phone in another format (national vs international).
   */
  selfReferral(start: number): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick('self_referral');
    // The creator's own phone or computer, at home or out (a fresh carrier address); never their home
    // address twice within the hour, which would make the second click a repeat click.
    const lastHome = this.#selfClicksAtHome.get(creator.id);
    const atHome = rng.chance(0.4) && (lastHome === undefined || Math.abs(start - lastHome) >= HOUR);
    if (atHome) this.#selfClicksAtHome.set(creator.id, start);
    const home = { ip: atHome ? creator.homeIp : this.#world.mobile.draw(rng), ua: creator.homeAgent };
    const country = campaign.targets === null || campaign.targets.includes(creator.country) ? creator.country : rng.pick(campaign.targets);
    const person = this.#person(campaign, country);
    const customer = this.#customer(campaign, person);
    const byPhone = creator.e164 !== null && rng.chance(0.4);
    if (byPhone) {
      customer.phone = formatPhone(creator.e164 as string, phoneStyle(rng, country === creator.country ? creator.country : null));
      customer.country = country.code;
    } else {
      customer.email = emailVariant(rng, creator.email);
    }
    const promo = campaign.event === 'sale' && rng.chance(0.4);
    if (promo) {
      this.#conversion(start, campaign, { click: null, creator, visitor: home }, customer, 'self_referral', false);
      return;
    }
    const { url, referrer } = this.#link(campaign, creator, 'instagram');
    const click = this.#click(start, campaign, creator, home, referrer, url, 'self_referral', true);
    this.#conversion(start + this.#honestCtit(campaign), campaign, { click, visitor: home }, customer, 'self_referral', false);
  }

  /** Five to thirty conversions from one IP (usually one device) within minutes, each a different "customer". */
  conversionBurst(start: number): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick('conversion_burst');
    const [lo, hi] = this.#params.burstSize;
    const count = rng.int(lo, hi);
    const ip = (rng.chance(0.7) ? this.#world.residential : this.#world.mobile).draw(rng);
    const device = rng.chance(0.7) ? mobileAgent(rng) : null;
    const span = this.#params.burstMinutes * MINUTE;
    const promo = campaign.event === 'sale' && rng.chance(0.5);
    const { url } = this.#link(campaign, creator, 'instagram');
    for (let i = 0; i < count; i++) {
      const visitor = { ip, ua: device ?? mobileAgent(rng) };
      const at = start + rng.next() * span;
      const customer = this.#customer(campaign, this.#person(campaign));
      if (promo) {
        this.#conversion(at, campaign, { click: null, creator, visitor }, customer, 'conversion_burst', false);
      } else {
        const ctit = between(rng, 20, 300) * SECOND;
        const click = this.#click(at, campaign, creator, visitor, null, url, 'conversion_burst', false);
        this.#conversion(at + ctit, campaign, { click, visitor }, customer, 'conversion_burst', false);
      }
    }
  }

  // ---- lead quality ------------------------------------------------------------------------------

  /**
   * A real visit whose lead (or sale) is unusable: `spoil` alters an otherwise valid customer. The click
   * is honest: nothing about it could tell.
   */
  #badLead(start: number, pattern: PatternName, spoil: (customer: Draft, person: Person, campaign: Campaign) => void): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick(pattern);
    const visitor = this.#browserVisitor();
    const { url, referrer } = this.#link(campaign, creator, rng.pick<Source>(['instagram', 'tiktok', 'youtube', 'blog']));
    const click = this.#click(start, campaign, creator, visitor, referrer, url, pattern, true);
    const person = this.#person(campaign);
    const customer = this.#customer(campaign, person);
    spoil(customer, person, campaign);
    this.#conversion(start + this.#honestCtit(campaign), campaign, { click, visitor: this.#laterVisitor(visitor) }, customer, pattern, false);
  }

  disposableEmail(start: number): void {
    this.#badLead(start, 'disposable_email', (c, p) => {
      c.email = emailAt(this.#rng, p, DISPOSABLE_DOMAINS);
    });
  }

  roleEmail(start: number): void {
    this.#badLead(start, 'role_email', (c, p) => {
      c.email = roleEmail(this.#rng, p);
    });
  }

  typoEmail(start: number): void {
    this.#badLead(start, 'typo_email', (c, p) => {
      c.email = emailAt(this.#rng, p, TYPO_DOMAINS);
    });
  }

  invalidPhone(start: number): void {
    this.#badLead(start, 'invalid_phone', (c, p) => {
      c.phone = invalidPhone(this.#rng, p);
      c.country ??= p.country.code;
    });
  }

  missingField(start: number): void {
    this.#badLead(start, 'missing_field', (c, _p, campaign) => {
      const field = this.#rng.pick(campaign.line.required_fields);
      c[field] = null;
    });
  }

  /** A lead from a country the campaign does not target (phone and all from there). */
  wrongCountry(start: number): void {
    this.#badLead(start, 'wrong_country', (c, p, campaign) => {
      const outside = COUNTRIES.filter((x) => !(campaign.targets ?? []).includes(x));
      const country = this.#rng.pick(outside);
      c.country = country.code;
      if (c.phone !== null) c.phone = formatPhone(phoneOf(country, p.number), phoneStyle(this.#rng, country));
    });
  }

  /** An age outside the campaign's range: often just one year out. */
  wrongAge(start: number): void {
    this.#badLead(start, 'wrong_age', (c, _p, campaign) => {
      const rng = this.#rng;
      const { age_min: min, age_max: max } = campaign.line;
      const below = max === null || rng.chance(0.5);
      const near = rng.chance(0.3);
      if (below) c.age = near ? (min as number) - 1 : rng.int(13, (min as number) - 1);
      else c.age = near ? (max as number) + 1 : rng.int((max as number) + 1, (max as number) + 25);
    });
  }

  /**
   * A person signing up again: the first lead is honest; later ones (a resubmission minutes later with
   * the same click, or a new visit days later) use the same email in another form, or the same phone in
   * another format with another address.
   */
  duplicateLead(start: number): void {
    const rng = this.#rng;
    const [campaign, creator] = this.#pick('duplicate_lead');
    const visitor = this.#browserVisitor();
    const source = rng.pick<Source>(['instagram', 'tiktok', 'youtube']);
    const first = this.#link(campaign, creator, source);
    const click = this.#click(start, campaign, creator, visitor, first.referrer, first.url, 'duplicate_lead', true);
    const person = this.#person(campaign);
    const original = this.#customer(campaign, person);
    // The person's own number (not the foreign-mobile near-miss), so a later lead can repeat it.
    if (original.phone !== null) original.phone = formatPhone(person.e164, phoneStyle(rng, original.country !== null ? person.country : null));
    let at = start + this.#honestCtit(campaign);
    this.#conversion(at, campaign, { click, visitor: this.#laterVisitor(visitor) }, original, 'duplicate_lead', true);
    const duplicates = rng.int(1, this.#params.duplicatesMax);
    for (let i = 0; i < duplicates; i++) {
      const again = this.#customer(campaign, person, rng.chance(0.3) ? original.ref : undefined);
      if (rng.chance(0.6) || original.phone === null) {
        again.email = emailVariant(rng, person.email);
      } else {
        again.email = emailAt(rng, person, ['gmail.com', 'outlook.com', 'yahoo.com', 'icloud.com'].filter((d) => !person.email.endsWith(d)));
        again.phone = otherFormat(rng, person.e164, original.phone, again.country !== null ? person.country : null);
      }
      if (rng.chance(0.35)) {
        at += between(rng, 1, 30) * MINUTE;
        this.#conversion(at, campaign, { click, visitor }, again, 'duplicate_lead', false);
      } else {
        const later = at + between(rng, 2 * HOUR, 10 * DAY);
        const v2 = rng.chance(0.5) ? visitor : this.#browserVisitor();
        const link = this.#link(campaign, creator, source);
        const secondClick = this.#click(later, campaign, creator, v2, link.referrer, link.url, 'duplicate_lead', true);
        at = later + this.#honestCtit(campaign);
        this.#conversion(at, campaign, { click: secondClick, visitor: v2 }, again, 'duplicate_lead', false);
      }
    }
  }
}

function organicReferrer(rng: Random, source: Source, creator: Creator): string | null {
  switch (source) {
    case 'instagram':
      return rng.pick(['https://l.instagram.com/', 'https://www.instagram.com/', null]);
    case 'tiktok':
      return rng.pick(['https://www.tiktok.com/', null]);
    case 'facebook':
      return rng.pick(['https://l.facebook.com/', 'https://m.facebook.com/', null]);
    case 'youtube':
      return rng.pick(['https://www.youtube.com/', null]);
    case 'x':
      return rng.pick(['https://t.co/', null]);
    case 'blog':
      return `https://${creator.handle.replace(/[._]/g, '')}.substack.com/`;
    case 'newsletter':
      return null;
  }
}

/** A basket of 12 to 400 in the campaign's currency, as an exact decimal string. */
function orderAmount(rng: Random): string {
  return (Math.round(logUniform(rng, 12, 400) * 100) / 100).toFixed(2);
}

/** The same number written differently from how it was written before. */
function otherFormat(rng: Random, e164: string, before: string, knownCountry: Country | null): string {
  for (let attempt = 0; attempt < 10; attempt++) {
    const written = formatPhone(e164, phoneStyle(rng, knownCountry));
    if (written !== before) return written;
  }
  return before === e164 ? formatPhone(e164, 'international') : e164;
}

/** Whether a known person also fits another campaign's targeting. */
function fits(campaign: Campaign, person: Person): boolean {
  const { age_min: min, age_max: max } = campaign.line;
  return (campaign.targets === null || campaign.targets.includes(person.country)) && (min === null || person.age >= min) && (max === null || person.age <= max);
}

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import { isbot } from 'isbot';
import { isValidPhoneNumber, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import MailChecker from 'mailchecker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import { isAppError } from '../errors/index.js';
import { normaliseEmail } from '../validation/index.js';
import {
  type CampaignLine,
  type ClickLine,
  type CreatorLine,
  type ConversionLine,
  FRAUD_PATTERNS,
  HONEST_PATTERNS,
  type Label,
  defaultDatacenterCidrs,
  FALLBACK_DATACENTER_CIDRS,
  PATTERNS,
  parseRangesText,
  RANGES_FILE,
  type SimulatedLine,
  simulate,
} from './index.js';
import { COUNTRIES, phoneOf } from './people.js';
import { EventQueue } from './queue.js';

// ---- the issue's §4 format, written out independently of the generator's types -------------------

const nullableString = z.string().min(1).nullable();
const ipString = z.string().refine((s) => ipaddr.isValid(s), 'an IP address');
const isoUtc = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

const campaignSchema = z.strictObject({
  type: z.literal('campaign'),
  id: z.string().min(1),
  objective: z.enum(['cpl', 'cpa_fixed', 'cpa_percent', 'cpc']),
  attribution_window_days: z.union([z.literal(7), z.literal(30), z.literal(60)]),
  target_countries: z.array(z.string().regex(/^[A-Z]{2}$/)).min(1).nullable(),
  age_min: z.number().int().nullable(),
  age_max: z.number().int().nullable(),
  paid_traffic: z.enum(['allowed', 'forbidden']),
  required_fields: z.array(z.enum(['email', 'phone', 'country', 'age'])),
});
const creatorSchema = z.strictObject({ type: z.literal('creator'), id: z.string().min(1), email: z.string().email(), phone: nullableString });
const clickSchema = z.strictObject({
  type: z.literal('click'),
  id: z.string().min(1),
  ts: isoUtc,
  campaign: z.string(),
  creator: z.string(),
  ip: ipString,
  ua: z.string().min(1),
  referrer: z.string().url().nullable(),
  landing_url: z.string().url(),
});
const conversionSchema = z.strictObject({
  type: z.literal('conversion'),
  id: z.string().min(1),
  ts: isoUtc,
  campaign: z.string(),
  event: z.enum(['lead', 'sale']),
  click_id: nullableString,
  promo_code: nullableString,
  creator: nullableString,
  ip: ipString.nullable(),
  ua: nullableString,
  customer: z.strictObject({
    id: z.string().min(1),
    email: nullableString,
    phone: nullableString,
    country: z.string().regex(/^[A-Z]{2}$/).nullable(),
    age: z.number().int().nullable(),
  }),
  amount: z.string().regex(/^\d+\.\d{2}$/).nullable(),
  currency: z.string().regex(/^[A-Z]{3}$/).nullable(),
});
const labelSchema = z.strictObject({
  id: z.string().min(1),
  kind: z.enum(['click', 'conversion']),
  pattern: z.enum(PATTERNS),
  honest: z.boolean(),
});

type Campaign = CampaignLine;
type Creator = CreatorLine;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A run indexed for the checks below. */
interface Run {
  lines: SimulatedLine[];
  campaigns: Map<string, Campaign>;
  creators: Map<string, Creator>;
  clicks: Map<string, ClickLine & { t: number; label: Label }>;
  conversions: Array<ConversionLine & { t: number; label: Label }>;
}

function index(lines: SimulatedLine[]): Run {
  const run: Run = { lines, campaigns: new Map(), creators: new Map(), clicks: new Map(), conversions: [] };
  for (const { event, label } of lines) {
    if (event.type === 'campaign') run.campaigns.set(event.id, event);
    else if (event.type === 'creator') run.creators.set(event.id, event);
    else if (event.type === 'click') run.clicks.set(event.id, { ...event, t: Date.parse(event.ts), label: label as Label });
    else run.conversions.push({ ...event, t: Date.parse(event.ts), label: label as Label });
  }
  return run;
}

const clicksOf = (run: Run, pattern: string) => [...run.clicks.values()].filter((c) => c.label.pattern === pattern);
const conversionsOf = (run: Run, pattern: string) => run.conversions.filter((c) => c.label.pattern === pattern);
const honestClicks = (run: Run) => [...run.clicks.values()].filter((c) => c.label.honest);
const honestConversions = (run: Run) => run.conversions.filter((c) => c.label.honest);
const ctit = (run: Run, c: { click_id: string | null; t: number }) => c.t - (run.clicks.get(c.click_id as string) as { t: number }).t;
const e164 = (phone: string, country: string | null) =>
  parsePhoneNumberFromString(phone, { defaultCountry: (country ?? undefined) as never })?.number ?? null;

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length] as number;
}

/** Runs every line through its schema and the cross-references; returns the problems (none expected). */
function formatProblems(run: Run): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  let last = '';
  let trafficStarted = false;
  for (const [n, { event, label }] of run.lines.entries()) {
    const schema: z.ZodType = { campaign: campaignSchema, creator: creatorSchema, click: clickSchema, conversion: conversionSchema }[event.type];
    const parsed = schema.safeParse(event);
    if (!parsed.success) problems.push(`line ${n + 1}: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
    if (event.type === 'campaign' || event.type === 'creator') {
      if (label !== undefined) problems.push(`line ${n + 1}: setup line with a label`);
      if (trafficStarted) problems.push(`line ${n + 1}: setup line after traffic`);
      continue;
    }
    trafficStarted = true;
    if (ids.has(event.id)) problems.push(`line ${n + 1}: duplicate id ${event.id}`);
    ids.add(event.id);
    if (event.ts < last) problems.push(`line ${n + 1}: out of time order`);
    last = event.ts;
    if (!labelSchema.safeParse(label).success || label?.id !== event.id || label.kind !== event.type) problems.push(`line ${n + 1}: bad label`);
    if (!run.campaigns.has(event.campaign)) problems.push(`line ${n + 1}: unknown campaign`);
    if (event.type === 'click' && !run.creators.has(event.creator)) problems.push(`line ${n + 1}: unknown creator`);
    if (event.type === 'conversion') {
      const click = event.click_id === null ? null : run.clicks.get(event.click_id);
      if (event.click_id !== null && (!click || Date.parse(click.ts) > Date.parse(event.ts) || click.campaign !== event.campaign)) problems.push(`line ${n + 1}: bad click_id`);
      if (event.click_id === null && (event.promo_code === null || event.creator === null || !run.creators.has(event.creator))) problems.push(`line ${n + 1}: no click, no promo code and creator`);
      if (event.click_id !== null && (event.promo_code !== null || event.creator !== null)) problems.push(`line ${n + 1}: click and promo code`);
      const campaign = run.campaigns.get(event.campaign);
      if (campaign && (campaign.objective === 'cpl') !== (event.event === 'lead')) problems.push(`line ${n + 1}: event does not match objective`);
      if ((event.event === 'sale') !== (event.amount !== null && event.currency !== null)) problems.push(`line ${n + 1}: amount`);
    }
  }
  return problems;
}

function collect(options: Parameters<typeof simulate>[0]): SimulatedLine[] {
  return [...simulate(options)].map(({ event, label }) => ({ event: { ...event }, ...(label ? { label: { ...label } } : {}) }));
}

let run: Run;

beforeAll(() => {
  run = index(collect({ seed: 11 }));
});

describe('simulate: determinism and format', () => {
  it('the same seed gives the same lines; another seed gives other lines', () => {
    const a = collect({ seed: 5, size: 3000 }).map((l) => JSON.stringify(l));
    const b = collect({ seed: 5, size: 3000 }).map((l) => JSON.stringify(l));
    const c = collect({ seed: 6, size: 3000 }).map((l) => JSON.stringify(l));
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
    const shared = new Set(a);
    expect(c.filter((line) => shared.has(line)).length).toBeLessThan(c.length / 10);
  });

  it('every line matches the §4 format, in time order, labels on every click and conversion referencing real ids', () => {
    expect(formatProblems(run)).toEqual([]);
    const setup = run.lines.filter((l) => l.label === undefined).length;
    expect(setup).toBe(run.campaigns.size + run.creators.size);
    expect(run.lines.length - setup).toBe(run.clicks.size + run.conversions.length);
  });

  it('the default size is about 50,000 lines, and --size scales it', () => {
    expect(run.lines.length).toBeGreaterThan(45_000);
    expect(run.lines.length).toBeLessThan(55_000);
    const small = collect({ seed: 11, size: 5000 }).length;
    expect(small).toBeGreaterThan(4000);
    expect(small).toBeLessThan(6000);
  });

  it('campaigns vary: every objective, windows 7/30/60, targeted and open, paid traffic allowed and forbidden', () => {
    for (const seed of [1, 2, 3]) {
      const campaigns = collect({ seed, size: 1000 }).flatMap((l) => (l.event.type === 'campaign' ? [l.event] : []));
      expect(new Set(campaigns.map((c) => c.objective))).toEqual(new Set(['cpl', 'cpa_fixed', 'cpa_percent', 'cpc']));
      expect(new Set(campaigns.map((c) => c.attribution_window_days))).toEqual(new Set([7, 30, 60]));
      expect(campaigns.some((c) => c.objective === 'cpl' && c.target_countries !== null && c.age_min !== null)).toBe(true);
      expect(campaigns.some((c) => c.objective === 'cpl' && c.target_countries === null && c.age_min === null)).toBe(true);
      expect(campaigns.some((c) => c.objective !== 'cpc' && c.paid_traffic === 'allowed')).toBe(true);
      expect(campaigns.some((c) => c.objective !== 'cpc' && c.paid_traffic === 'forbidden')).toBe(true);
    }
  });

  it('refuses a bad seed, size or CIDR with a reason', () => {
    const reason = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isAppError(e) ? e.message : 'not an AppError';
      }
      return 'accepted';
    };
    expect(reason(() => simulate({ seed: -1 }).next())).toMatch(/seed/);
    expect(reason(() => simulate({ seed: 1.5 }).next())).toMatch(/seed/);
    expect(reason(() => simulate({ seed: 1, size: 999 }).next())).toMatch(/size/);
    expect(reason(() => simulate({ seed: 1, datacenterCidrs: ['10.0.0.0/33'] }).next())).toMatch(/CIDR/);
  });
});

describe('simulate: patterns at the default size', () => {
  it('every pattern appears with a sensible count, and honest traffic is the large majority', () => {
    const count = new Map<string, { honest: number; dishonest: number }>();
    for (const { label } of run.lines) {
      if (!label) continue;
      const c = count.get(label.pattern) ?? { honest: 0, dishonest: 0 };
      c[label.honest ? 'honest' : 'dishonest']++;
      count.set(label.pattern, c);
    }
    for (const pattern of HONEST_PATTERNS) {
      expect(count.get(pattern)?.honest, pattern).toBeGreaterThanOrEqual(200);
      // An honest visitor's second click through the same link is a repeat, not paid per click.
      if (pattern === 'honest_repeat_visitor') expect(count.get(pattern)?.dishonest, pattern).toBeLessThan(count.get(pattern)?.honest as number);
      else expect(count.get(pattern)?.dishonest ?? 0, pattern).toBe(0);
    }
    for (const pattern of FRAUD_PATTERNS) expect(count.get(pattern)?.dishonest, pattern).toBeGreaterThanOrEqual(30);
    const labels = [...count.values()].reduce((s, c) => s + c.honest + c.dishonest, 0);
    const honest = [...count.values()].reduce((s, c) => s + c.honest, 0);
    expect(honest / labels).toBeGreaterThan(0.8);
  });

  it('honest agents are browsers and apps isbot passes; declared bots are bots; headless agents carry automation markers', () => {
    for (const c of honestClicks(run)) expect(isbot(c.ua), c.ua).toBe(false);
    for (const c of clicksOf(run, 'declared_bot')) expect(isbot(c.ua), c.ua).toBe(true);
    for (const c of clicksOf(run, 'headless_browser')) expect(c.ua).toMatch(/HeadlessChrome|PhantomJS|jsdom|Electron|SlimerJS/);
    const apps = honestClicks(run).filter((c) => c.label.pattern === 'honest_in_app').map((c) => c.ua);
    for (const marker of ['Instagram', 'FBAN/FBIOS', 'FB_IAB', 'musical_ly', 'trill_']) expect(apps.some((ua) => ua.includes(marker)), marker).toBe(true);
  });

  it('click injection converts 1–12 s after its click; honest conversions never before 20 s, some between 20 and 60 s', () => {
    const injected = conversionsOf(run, 'click_injection').map((c) => ctit(run, c));
    expect(Math.min(...injected)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...injected)).toBeLessThanOrEqual(12_000);
    for (const c of conversionsOf(run, 'click_injection')) expect(run.clicks.get(c.click_id as string)?.label.honest).toBe(false);
    const honest = honestConversions(run).filter((c) => c.click_id !== null).map((c) => ctit(run, c));
    expect(Math.min(...honest)).toBeGreaterThanOrEqual(20_000);
    expect(honest.some((t) => t <= 60_000)).toBe(true);
    const withinHour = honestConversions(run).filter((c) => c.label.pattern === 'honest_browser').map((c) => ctit(run, c));
    expect(withinHour.filter((t) => t <= HOUR).length / withinHour.length).toBeGreaterThan(0.6);
  });

  it('attribution windows: honest conversions within (slow deciders a day or more later, some in the last hours), outside_window after', () => {
    const window = (c: ConversionLine) => (run.campaigns.get(c.campaign) as Campaign).attribution_window_days * DAY;
    for (const c of honestConversions(run).filter((x) => x.click_id !== null)) expect(ctit(run, c)).toBeLessThanOrEqual(window(c));
    const slow = conversionsOf(run, 'honest_slow_decider');
    for (const c of slow) expect(ctit(run, c)).toBeGreaterThanOrEqual(DAY);
    expect(slow.some((c) => window(c) - ctit(run, c) < 6 * HOUR)).toBe(true);
    for (const c of conversionsOf(run, 'outside_window')) {
      expect(c.label.honest).toBe(false);
      expect(ctit(run, c)).toBeGreaterThan(window(c));
      expect(run.clicks.get(c.click_id as string)?.label.honest).toBe(true);
    }
  });

  it('repeat clicks: the first click of an IP+agent+link within the hour is honest, the repeats are not', () => {
    const lastHonest = new Map<string, number>();
    const repeats = clicksOf(run, 'repeat_click');
    expect(repeats.some((c) => c.label.honest)).toBe(true);
    for (const c of [...run.clicks.values()]) {
      const key = `${c.ip}|${c.ua}|${c.landing_url}`;
      const before = lastHonest.get(key);
      if (c.label.pattern === 'repeat_click' && !c.label.honest) {
        expect(before, c.id).toBeDefined();
        expect(c.t - (before as number)).toBeLessThan(HOUR);
      }
      // No honest click anywhere is a repeat of another within the hour.
      if (c.label.honest) {
        if (before !== undefined) expect(c.t - before, `${c.id} ${c.label.pattern}`).toBeGreaterThanOrEqual(HOUR);
        lastHonest.set(key, c.t);
      }
    }
  });

  it('duplicate leads: the first lead of a person is honest, later ones match it by normalised email or by phone in another format', () => {
    const seen = new Map<string, Label>();
    let byPhone = 0;
    for (const c of run.conversions.filter((x) => x.event === 'lead')) {
      const emailKey = c.customer.email ? `${c.campaign}|e|${normaliseEmail(c.customer.email)}` : null;
      const phone = c.customer.phone ? e164(c.customer.phone, c.customer.country) : null;
      const phoneKey = phone ? `${c.campaign}|p|${phone}` : null;
      const earlier = [emailKey, phoneKey].flatMap((k) => (k && seen.has(k) ? [seen.get(k) as Label] : []));
      if (c.label.pattern === 'duplicate_lead') {
        if (c.label.honest) expect(earlier, c.id).toEqual([]);
        else {
          expect(earlier.length, c.id).toBeGreaterThan(0);
          if (!(emailKey && seen.has(emailKey))) byPhone++;
        }
      } else if (c.label.honest) {
        expect(earlier, `${c.id} ${c.label.pattern}`).toEqual([]);
      }
      for (const k of [emailKey, phoneKey]) if (k && !seen.has(k)) seen.set(k, c.label);
    }
    expect(byPhone).toBeGreaterThan(0);
  });

  it('self-referral: the customer is the creator, written differently (email variants, national vs international phone)', () => {
    const conversions = conversionsOf(run, 'self_referral');
    let rewritten = 0;
    for (const c of conversions) {
      expect(c.label.honest).toBe(false);
      const creator = run.creators.get(c.creator ?? (run.clicks.get(c.click_id as string)?.creator as string)) as Creator;
      const sameEmail = c.customer.email !== null && normaliseEmail(c.customer.email) === normaliseEmail(creator.email);
      const samePhone = c.customer.phone !== null && creator.phone !== null && e164(c.customer.phone, c.customer.country) === e164(creator.phone, null);
      expect(sameEmail || samePhone, c.id).toBe(true);
      if ((sameEmail && c.customer.email !== creator.email) || (samePhone && c.customer.phone !== creator.phone)) rewritten++;
    }
    expect(rewritten).toBeGreaterThan(conversions.length / 2);
    for (const c of honestConversions(run)) {
      const creatorId = c.creator ?? run.clicks.get(c.click_id as string)?.creator;
      const creator = run.creators.get(creatorId as string) as Creator;
      if (c.customer.email) expect(normaliseEmail(c.customer.email)).not.toBe(normaliseEmail(creator.email));
    }
  });

  it('data-centre traffic comes from the given CIDRs; nothing honest does, even where a CIDR covers an ISP block', () => {
    const cidrs = ['73.0.0.0/9', '203.0.113.0/24', '2001:db8::/32'];
    const own = index(collect({ seed: 3, size: 20_000, datacenterCidrs: cidrs }));
    const parsed = cidrs.map((c) => ipaddr.parseCIDR(c));
    const inside = (ip: string) => {
      const a = ipaddr.parse(ip);
      return parsed.some(([net, bits]) => net.kind() === a.kind() && a.match([net, bits] as never));
    };
    const dc = clicksOf(own, 'datacenter_ip');
    expect(dc.length).toBeGreaterThan(20);
    for (const c of dc) expect(inside(c.ip), c.ip).toBe(true);
    for (const c of honestClicks(own)) expect(inside(c.ip), c.ip).toBe(false);
    for (const c of honestConversions(own)) if (c.ip) expect(inside(c.ip), c.ip).toBe(false);
    expect(honestClicks(own).some((c) => c.ip.startsWith('73.'))).toBe(true);
  });

  it('paid-ad click ids only on campaigns that forbid them for paid_traffic; honest ones only where allowed', () => {
    const paid = /[?&](gclid|fbclid|msclkid|ttclid|twclid|li_fat_id|rdclid)=/;
    for (const c of clicksOf(run, 'paid_traffic')) {
      expect(c.landing_url).toMatch(paid);
      expect(run.campaigns.get(c.campaign)?.paid_traffic).toBe('forbidden');
    }
    const honestPaid = honestClicks(run).filter((c) => paid.test(c.landing_url));
    expect(honestPaid.length).toBeGreaterThan(0);
    for (const c of honestPaid) expect(run.campaigns.get(c.campaign)?.paid_traffic).toBe('allowed');
  });

  it('lead quality: bad leads are bad as labelled, honest leads pass each check', () => {
    const domain = (email: string) => email.slice(email.lastIndexOf('@') + 1).toLowerCase();
    for (const c of conversionsOf(run, 'disposable_email')) expect(MailChecker.isValid(c.customer.email as string)).toBe(false);
    for (const c of honestConversions(run)) if (c.customer.email) expect(MailChecker.isValid(c.customer.email), c.customer.email).toBe(true);

    const honestDomains = new Set(honestConversions(run).flatMap((c) => (c.customer.email ? [domain(c.customer.email)] : [])));
    const big = ['gmail.com', 'hotmail.com', 'yahoo.com', 'outlook.com', 'icloud.com'];
    for (const c of conversionsOf(run, 'typo_email')) {
      const d = domain(c.customer.email as string);
      expect(honestDomains.has(d), d).toBe(false);
      expect(Math.min(...big.map((b) => editDistance(d, b))), d).toBeLessThanOrEqual(2);
    }

    const roles = /^(info|admin|sales|contact|support|office|marketing|webmaster|no-?reply|billing|hr|enquiries|team|postmaster)$/i;
    for (const c of conversionsOf(run, 'role_email')) expect(c.customer.email?.split('@')[0]).toMatch(roles);
    for (const c of honestConversions(run)) if (c.customer.email) expect(c.customer.email.split('@')[0]?.split('+')[0]).not.toMatch(roles);
    // Near-miss: personal addresses that start with a role word.
    expect(honestConversions(run).some((c) => /^(info|sales|admin|contact|support)\./.test(c.customer.email ?? ''))).toBe(true);

    for (const c of conversionsOf(run, 'invalid_phone')) expect(isValidPhoneNumber(c.customer.phone as string, (c.customer.country ?? undefined) as never)).toBe(false);
    for (const c of honestConversions(run)) {
      if (c.customer.phone) expect(isValidPhoneNumber(c.customer.phone, (c.customer.country ?? undefined) as never), `${c.customer.phone} ${c.customer.country}`).toBe(true);
    }
  });

  it('demographics and required fields: honest leads fit the campaign (bounds included), the labelled ones do not', () => {
    const campaignOf = (c: ConversionLine) => run.campaigns.get(c.campaign) as Campaign;
    const outsideAge = (c: ConversionLine) => {
      const { age_min: min, age_max: max } = campaignOf(c);
      return c.customer.age !== null && ((min !== null && c.customer.age < min) || (max !== null && c.customer.age > max));
    };
    const missing = (c: ConversionLine) => campaignOf(c).required_fields.some((f) => c.customer[f] === null);
    const wrongCountry = (c: ConversionLine) => {
      const targets = campaignOf(c).target_countries;
      return targets !== null && c.customer.country !== null && !targets.includes(c.customer.country);
    };
    for (const c of honestConversions(run)) {
      expect(missing(c), c.id).toBe(false);
      expect(wrongCountry(c), c.id).toBe(false);
      expect(outsideAge(c), c.id).toBe(false);
    }
    for (const c of conversionsOf(run, 'missing_field')) expect(missing(c)).toBe(true);
    for (const c of conversionsOf(run, 'wrong_country')) expect(wrongCountry(c)).toBe(true);
    for (const c of conversionsOf(run, 'wrong_age')) expect(outsideAge(c)).toBe(true);
    expect(honestConversions(run).some((c) => c.customer.age !== null && c.customer.age === campaignOf(c).age_min)).toBe(true);
  });

  it('plus-addressing: tagged or re-dotted addresses, each a different person', () => {
    const emails = conversionsOf(run, 'honest_plus_addressing').map((c) => c.customer.email as string);
    expect(emails.filter((e) => e.includes('+')).length).toBeGreaterThan(emails.length / 2);
    expect(new Set(emails.map(normaliseEmail)).size).toBe(emails.length);
  });

  it('repeat visitors: the same visitor clicks the same link again within the hour, and the second click is the one labelled not payable', () => {
    const clicks = clicksOf(run, 'honest_repeat_visitor');
    const byVisitor = new Map<string, typeof clicks>();
    for (const c of clicks) byVisitor.set(`${c.creator}|${c.ip}|${c.ua}`, [...(byVisitor.get(`${c.creator}|${c.ip}|${c.ua}`) ?? []), c]);
    const pairs = [...byVisitor.values()].filter((list) => list.length === 2);
    expect(pairs.length).toBeGreaterThan(byVisitor.size * 0.9);
    for (const [first, second] of pairs.map((l) => [...l].sort((a, b) => a.t - b.t))) {
      expect(second!.t - first!.t).toBeLessThan(3_600_000);
      expect([first!.label.honest, second!.label.honest]).toEqual([true, false]);
    }
    expect(conversionsOf(run, 'honest_repeat_visitor').every((c) => c.label.honest)).toBe(true);
  });

  it('IPv6 households: several devices in one /64, each visit from a new interface id', () => {
    const clicks = clicksOf(run, 'honest_ipv6_privacy').filter((c) => c.ip.includes(':'));
    expect(clicks.length).toBeGreaterThan(100);
    const networks = new Map<string, Set<string>>();
    for (const c of clicks) {
      const net = ipaddr.IPv6.parse(c.ip).parts.slice(0, 4).join(':');
      networks.set(net, (networks.get(net) ?? new Set()).add(c.ip));
    }
    expect(Math.max(...[...networks.values()].map((s) => s.size))).toBeGreaterThanOrEqual(2);
  });

  it('star creators convert several times better than the rest of their campaign', () => {
    const starClicks = clicksOf(run, 'honest_high_converter');
    const campaign = starClicks[0]!.campaign;
    const rate = (clicks: ClickLine[]) => {
      const ids = new Set(clicks.map((c) => c.id));
      return run.conversions.filter((c) => c.click_id !== null && ids.has(c.click_id)).length / clicks.length;
    };
    const others = [...run.clicks.values()].filter((c) => c.campaign === campaign && c.label.pattern === 'honest_browser');
    expect(rate(starClicks.filter((c) => c.campaign === campaign))).toBeGreaterThan(3 * rate(others));
  });

  it('minimal leads give only what their campaign requires', () => {
    const minimal = conversionsOf(run, 'honest_minimal_fields');
    expect(minimal.length).toBeGreaterThan(50);
    for (const c of minimal) {
      const required = (run.campaigns.get(c.campaign) as Campaign).required_fields as string[];
      for (const field of ['email', 'phone', 'country', 'age'] as const) expect(c.customer[field] !== null, `${c.id} ${field}`).toBe(required.includes(field));
    }
  });

  it('promo-code sales have no click and name their creator', () => {
    const promo = conversionsOf(run, 'honest_promo_code');
    for (const c of promo) expect([c.click_id, c.event, c.promo_code !== null, c.creator !== null]).toEqual([null, 'sale', true, true]);
  });

  it('NAT and velocity: an office IP with many honest agents, carrier IPs shared by users, one IP firing dozens of clicks a minute', () => {
    const agentsPerIp = (clicks: ClickLine[]) => {
      const by = new Map<string, Set<string>>();
      for (const c of clicks) by.set(c.ip, (by.get(c.ip) ?? new Set()).add(c.ua));
      return Math.max(...[...by.values()].map((s) => s.size));
    };
    expect(agentsPerIp(clicksOf(run, 'honest_office_nat'))).toBeGreaterThanOrEqual(8);
    expect(agentsPerIp(clicksOf(run, 'honest_mobile_cgnat'))).toBeGreaterThanOrEqual(4);
    const perMinute = (clicks: Array<{ ip: string; t: number }>) => {
      let best = 0;
      const byIp = new Map<string, number[]>();
      for (const c of clicks) byIp.set(c.ip, [...(byIp.get(c.ip) ?? []), c.t]);
      for (const times of byIp.values()) {
        times.sort((a, b) => a - b);
        for (let i = 0, j = 0; i < times.length; i++) {
          while ((times[i] as number) - (times[j] as number) > 60_000) j++;
          best = Math.max(best, i - j + 1);
        }
      }
      return best;
    };
    expect(perMinute(clicksOf(run, 'ip_velocity'))).toBeGreaterThanOrEqual(12);
    expect(perMinute(honestClicks(run))).toBeLessThan(12);
  });

  it('conversion bursts: five or more conversions from one IP within minutes', () => {
    const burst = conversionsOf(run, 'conversion_burst');
    for (const c of burst) {
      const near = burst.filter((o) => o.ip === c.ip && Math.abs(o.t - c.t) <= 20 * 60_000);
      expect(near.length, c.id).toBeGreaterThanOrEqual(5);
    }
  });

  it('click flooding: a creator whose every click and conversion is dishonest, converting far below the campaign, 1 h to days later', () => {
    const flooded = clicksOf(run, 'click_flooding');
    const flooders = new Set(flooded.map((c) => c.creator));
    expect(flooders.size).toBeGreaterThan(0);
    for (const creator of flooders) {
      const clicks = [...run.clicks.values()].filter((c) => c.creator === creator);
      expect(clicks.every((c) => c.label.pattern === 'click_flooding' && !c.label.honest)).toBe(true);
      const ids = new Set(clicks.map((c) => c.id));
      const conversions = run.conversions.filter((c) => c.click_id !== null && ids.has(c.click_id));
      expect(conversions.every((c) => c.label.pattern === 'click_flooding' && !c.label.honest)).toBe(true);
      const campaign = (clicks[0] as ClickLine).campaign;
      const honestIn = honestClicks(run).filter((c) => c.campaign === campaign);
      const honestIds = new Set(honestIn.map((c) => c.id));
      const campaignRate = run.conversions.filter((c) => c.click_id !== null && honestIds.has(c.click_id)).length / honestIn.length;
      expect(conversions.length / clicks.length).toBeLessThan(campaignRate / 2);
      for (const c of conversions) {
        expect(ctit(run, c)).toBeGreaterThanOrEqual(HOUR);
        expect(ctit(run, c)).toBeLessThanOrEqual(96 * HOUR);
      }
    }
    // Flat from 1 h to 2–4 days: the median lies far beyond the honest one (minutes).
    const floodConversions = conversionsOf(run, 'click_flooding').map((c) => ctit(run, c)).sort((a, b) => a - b);
    expect(floodConversions[Math.floor(floodConversions.length / 2)]).toBeGreaterThan(12 * HOUR);
    expect(floodConversions.some((t) => t > DAY)).toBe(true);
  });

  it('parameters differ by seed: injection times and flood volumes are not constants', () => {
    const stats = [21, 22, 23, 24].map((seed) => {
      const r = index(collect({ seed, size: 20_000 }));
      return {
        injectionMax: Math.max(...conversionsOf(r, 'click_injection').map((c) => ctit(r, c))),
        flood: clicksOf(r, 'click_flooding').length,
      };
    });
    expect(new Set(stats.map((s) => Math.round(s.injectionMax / 1000))).size).toBeGreaterThan(1);
    expect(new Set(stats.map((s) => s.flood)).size).toBe(stats.length);
  });
});

describe('data-centre ranges', () => {
  it('reads the CIDR of each `cidr provider` line and skips comments, blanks and garbage', () => {
    const text = '# header\n3.5.140.0/22 aws\n\n2600:1f18::/33 aws # us-east-1\nnot-a-cidr x\n  5.9.0.0/16   hetzner\n';
    expect(parseRangesText(text)).toEqual(['3.5.140.0/22', '2600:1f18::/33', '5.9.0.0/16']);
  });

  it("defaults to the datacenter module's ranges.txt when it exists, else to the built-in list", () => {
    const expected = existsSync(RANGES_FILE) ? parseRangesText(readFileSync(RANGES_FILE, 'utf8')) : [...FALLBACK_DATACENTER_CIDRS];
    expect(defaultDatacenterCidrs()).toEqual(expected);
    expect(expected.length).toBeGreaterThan(0);
  });
});

describe('building blocks', () => {
  it('the queue pops by time, and in push order at equal times', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (times) => {
        const queue = new EventQueue<number>();
        times.forEach((t, i) => queue.push(t, i));
        const popped: Array<[number, number]> = [];
        for (let item = queue.pop(); item; item = queue.pop()) popped.push([item.ts, item.value]);
        const expected = times.map((t, i) => [t, i] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(popped).toEqual(expected);
      }),
    );
  });

  it('phone numbers from person numbers are valid mobile numbers of their country, and distinct', () => {
    for (const country of COUNTRIES) {
      const numbers = Array.from({ length: 3000 }, (_, n) => phoneOf(country, n * 997 + 1));
      for (const number of numbers) expect(isValidPhoneNumber(number), `${country.code} ${number}`).toBe(true);
      expect(new Set(numbers).size).toBe(numbers.length);
    }
  });
});

// ---- the command, in its own process as `npm run earnest` runs it ---------------------------------

const CWD = new URL('../..', import.meta.url).pathname;
const TSX = join(CWD, 'node_modules/.bin/tsx');

function earnest(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, ['src/cli/main.ts', ...args], { cwd: CWD });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('earnest simulate', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'earnest-simulate-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the events and the labels: one label per click and conversion, the same lines as simulate()', async () => {
    const out = join(dir, 'events.jsonl');
    const labels = join(dir, 'labels.jsonl');
    const result = await earnest(['simulate', '--out', out, '--labels', labels, '--seed', '9', '--size', '2000']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Wrote \d+ lines to .*events\.jsonl \(\d+ clicks, \d+ conversions\)/);
    const events = readFileSync(out, 'utf8').trimEnd().split('\n');
    const labelLines = readFileSync(labels, 'utf8').trimEnd().split('\n');
    const expected = collect({ seed: 9, size: 2000 });
    expect(events).toEqual(expected.map((l) => JSON.stringify(l.event)));
    expect(labelLines).toEqual(expected.flatMap((l) => (l.label ? [JSON.stringify(l.label)] : [])));
  });

  it('refuses a missing --out with a one-line reason and exit 2, writing nothing', async () => {
    const labels = join(dir, 'only-labels.jsonl');
    const result = await earnest(['simulate', '--labels', labels]);
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split('\n')).toEqual(['earnest: --out FILE is required (where to write the events)']);
    expect(existsSync(labels)).toBe(false);
  });

  it('refuses an unwritable path and a bad --size, each with exit 2, leaving no partial file', async () => {
    const unwritable = await earnest(['simulate', '--out', join(dir, 'e0.jsonl'), '--labels', join(dir, 'no/such/dir.jsonl')]);
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toMatch(/^earnest: cannot write .*no\/such\/dir\.jsonl/);
    expect(existsSync(join(dir, 'e0.jsonl'))).toBe(false);
    const size = await earnest(['simulate', '--out', join(dir, 'e.jsonl'), '--labels', join(dir, 'l2.jsonl'), '--size', '12']);
    expect(size.code).toBe(2);
    expect(size.stderr).toMatch(/--size must be an integer from 1000/);
  });
});

import type { CampaignEvent, ClickEvent, ConversionEvent, CreatorEvent, EngineEvent } from './events.js';
import { type RuleSettingsInput, ruleSettingsSchema } from './settings.js';
import type { EngineDeps, LeadChecker, Verdict } from './types.js';
import { createEngine } from './engine.js';

/** Builders and fakes for the engine's tests: small events with sensible defaults, times in seconds from T0. */

export const T0 = Date.parse('2025-03-01T12:00:00.000Z');
export const MINUTE = 60;
export const HOUR = 3600;
export const DAY = 86_400;

export const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

/** A distinct, browser-looking agent per n: what many different people behind one IP send. */
export const agent = (n: number) => `Mozilla/5.0 (Linux; Android 14; Device-${n}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36`;

export const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

export function campaign(over: Partial<Omit<CampaignEvent, 'rules'>> & { rules?: RuleSettingsInput } = {}): CampaignEvent {
  const { rules, ...rest } = over;
  return {
    type: 'campaign',
    id: 'k1',
    objective: 'cpl',
    attribution_window_days: 30,
    target_countries: null,
    age_min: null,
    age_max: null,
    paid_traffic: 'allowed',
    required_fields: [],
    ...rest,
    rules: ruleSettingsSchema.parse(rules ?? {}),
  };
}

export function creator(id: string, over: Partial<CreatorEvent> = {}): CreatorEvent {
  return { type: 'creator', id, email: `${id}@creators.test`, phone: null, ...over };
}

export function click(id: string, seconds: number, over: Partial<ClickEvent> = {}): ClickEvent {
  return {
    type: 'click',
    id,
    ts: at(seconds),
    campaign: 'k1',
    creator: 'cr1',
    ip: '198.51.100.7',
    ua: CHROME,
    referrer: null,
    landing_url: 'https://shop.test/offer?utm_source=creator',
    method: 'GET',
    prefetch: false,
    ...over,
  };
}

export function conversion(id: string, seconds: number, over: Partial<ConversionEvent> = {}): ConversionEvent {
  return {
    type: 'conversion',
    id,
    ts: at(seconds),
    campaign: 'k1',
    event: 'lead',
    click_id: null,
    promo_code: null,
    creator: null,
    ip: null,
    ua: null,
    customer: { id: `cus_${id}`, email: `${id}@customers.test`, phone: null, country: 'US', age: 30 },
    amount: null,
    currency: null,
    ...over,
  };
}

/** A click-attributed lead `ctitSeconds` after its click, from a customer of its own. */
export function converted(clickEvent: ClickEvent, id: string, ctitSeconds: number, over: Partial<ConversionEvent> = {}): ConversionEvent {
  return conversion(id, (Date.parse(clickEvent.ts) - T0) / 1000 + ctitSeconds, { campaign: clickEvent.campaign, click_id: clickEvent.id, ...over });
}

/**
 * A fake lead checker with the real one's contract: keys are the email lower-cased without its
 * `+tag` and the phone's digits; `bad…` emails are invalid, `@trash.test` disposable, `info@` a role
 * account (20 off), a required field missing is hard (60 off).
 */
export const fakeCheckLead: LeadChecker = (input, settings) => {
  const reasons: string[] = [];
  let penalty = 0;
  const hard = (code: string) => {
    reasons.push(code);
    penalty += 60;
  };
  if (settings.required_fields.some((field) => input[field] === null)) hard('required_field_missing');
  const email = input.email?.trim().toLowerCase() ?? null;
  let emailKey: string | null = null;
  if (email !== null) {
    if (email.startsWith('bad')) hard('email_invalid');
    else emailKey = email.replace(/\+[^@]*@/, '@');
    if (email.endsWith('@trash.test')) hard('email_disposable');
    if (email.startsWith('info@')) {
      reasons.push('email_role_account');
      penalty += 20;
    }
  }
  const digits = input.phone?.replace(/\D/g, '') ?? '';
  const phoneKey = digits.length >= 7 ? `+${digits}` : null;
  if (input.phone !== null && phoneKey === null) hard('phone_invalid');
  const score = Math.max(0, 100 - penalty);
  if (score < settings.min_lead_score) reasons.push('lead_score_low');
  return { score, reasons, emailKey, phoneKey };
};

/** Data-centre IPs of the tests: 203.0.113.0/24 is "hosting". */
export const fakeDeps: EngineDeps = {
  datacenter: (ip) => (ip.startsWith('203.0.113.') ? 'TestCloud' : undefined),
  checkLead: fakeCheckLead,
};

/** Pushes the events in the given order and returns the final verdicts by id. */
export function scoreAll(events: readonly EngineEvent[], deps: EngineDeps = fakeDeps): Map<string, Verdict> {
  const engine = createEngine(deps);
  for (const event of events) engine.push(event);
  return new Map([...engine.finish()].map((v) => [v.id, v]));
}

/** Clicks and conversions sorted by time (stable), after the campaign and creator lines. */
export function inTimeOrder(events: readonly EngineEvent[]): EngineEvent[] {
  const timed = (e: EngineEvent) => (e.type === 'click' || e.type === 'conversion' ? Date.parse(e.ts) : Number.NEGATIVE_INFINITY);
  return [...events].sort((a, b) => timed(a) - timed(b));
}

/** The verdict and reasons of one id, the shape most assertions compare. */
export function judged(verdicts: Map<string, Verdict>, id: string): [string, string[]] {
  const v = verdicts.get(id);
  if (!v) throw new Error(`no verdict for ${id}`);
  return [v.verdict, v.reasons];
}

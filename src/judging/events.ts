import { ruleSettingsFor, type Terms, VALIDATION_DEFAULTS } from '../terms/index.js';
import { AssertionFailure } from '../errors/index.js';
import type { CampaignEvent, ClickEvent, ConversionEvent, CreatorEvent } from '../validation/index.js';
import type { ConversionCustomer, StoredClick } from './types.js';
import { pseudoAddress } from './address.js';

/**
 * The engine's input lines built from what the server stores, so live traffic is judged by exactly
 * the code `earnest score` runs over a file (issue #4 §4's format).
 */
type CampaignTerms = Pick<Terms, 'objective' | 'attribution_window_days' | 'validation'>;

const LINES_MAX = 1_000;
/** Parsed campaign lines by their settings: the rule schema is parsed once per distinct campaign, not per conversion. */
const lines = new Map<string, Omit<CampaignEvent, 'id'>>();

export function campaignLine(campaignId: string, terms: CampaignTerms): CampaignEvent {
  const key = `${terms.objective}\n${terms.attribution_window_days}\n${JSON.stringify(terms.validation)}`;
  let line = lines.get(key);
  if (!line) {
    const v = terms.validation;
    const rules = ruleSettingsFor(v);
    // Terms are checked with the same function when they are written (src/terms/terms.ts).
    if (!rules.success) throw new AssertionFailure(`stored validation settings do not parse: ${rules.error.message}`);
    line = {
      type: 'campaign',
      objective: terms.objective,
      attribution_window_days: terms.attribution_window_days,
      target_countries: v.target_countries ?? VALIDATION_DEFAULTS.target_countries,
      age_min: v.age_min ?? VALIDATION_DEFAULTS.age_min,
      age_max: v.age_max ?? VALIDATION_DEFAULTS.age_max,
      paid_traffic: v.paid_traffic ?? VALIDATION_DEFAULTS.paid_traffic,
      required_fields: v.required_fields ?? VALIDATION_DEFAULTS.required_fields,
      rules: rules.data,
    };
    if (lines.size >= LINES_MAX) lines.clear();
    lines.set(key, line);
  }
  return { ...line, id: campaignId };
}

export function creatorLine(creator: { id: string; email: string; phone: string | null }): CreatorEvent {
  return { type: 'creator', id: creator.id, email: creator.email, phone: creator.phone };
}

/**
 * A stored click. Its address is the pseudo-address of its hash; the method is HEAD when tracking
 * flagged it `head` (the only trace of the method it keeps); a missing agent is an empty one (a bot).
 */
export function clickEvent(campaignId: string, creatorId: string, c: StoredClick): ClickEvent {
  return {
    type: 'click',
    id: c.id,
    ts: c.occurredAt.toISOString(),
    campaign: campaignId,
    creator: creatorId,
    ip: pseudoAddress(c.ipHash),
    ua: c.userAgent ?? '',
    referrer: c.referrer,
    landing_url: c.landingUrl ?? '',
    method: c.status === 'head' ? 'HEAD' : 'GET',
    prefetch: false,
  };
}

export interface ConversionFacts {
  id: string;
  occurredAt: Date;
  kind: 'lead' | 'sale';
  campaignId: string;
  creatorId: string;
  clickId: string | null;
  promoCode: string | null;
  customer: ConversionCustomer;
  /** A real address at intake; a pseudo-address (see address.ts) when stored traffic is judged again. */
  ip: string | null;
  userAgent: string | null;
  amount: string | null;
  currency: string | null;
}

export function conversionEvent(c: ConversionFacts): ConversionEvent {
  return {
    type: 'conversion',
    id: c.id,
    ts: c.occurredAt.toISOString(),
    campaign: c.campaignId,
    event: c.kind,
    click_id: c.clickId,
    promo_code: c.promoCode,
    creator: c.creatorId,
    ip: c.ip,
    ua: c.userAgent,
    customer: { ...c.customer },
    amount: c.amount,
    currency: c.currency,
  };
}

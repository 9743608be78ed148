import { z } from 'zod';
import type { LeadSettings } from './types.js';

/**
 * Every rule of the engine, on/off and tunable per campaign (the campaign line's `rules` object).
 * Defaults come from the field (../shared/REFERENCE.md, "Fraud and invalid traffic"):
 * - injection: AppsFlyer sees click injection as a glut 3–10 s after the click, Everflow flags under
 *   15 s: under 10 s is invalid, 10 s up to 15 s is a grey zone sent to review;
 * - flooding: Everflow calls more than 30 % of a source's conversions after 24 h click spamming;
 *   AppsFlyer sees flooding as a flat CTIT distribution and says about 75 % of honest conversions come
 *   within an hour (we test against a conservative 50 %);
 * - repeat clicks: Dub de-duplicates per IP + browser + link per hour;
 * - paid-ad click ids: Dub's list (gclid, fbclid, msclkid, ttclid, twclid, li_fat_id, rdclid).
 * A limit set to null is off. Unknown keys are refused: a misspelt rule must not silently fall back to
 * its default.
 */

/** Click ids that ad networks append to the landing URL (Dub's paid-traffic rule). */
export const PAID_AD_PARAMS = ['gclid', 'fbclid', 'msclkid', 'ttclid', 'twclid', 'li_fat_id', 'rdclid'] as const;

const enabled = z.boolean().default(true);
/** At most this many events in the window; the one over it (and every event in that window) is flagged. */
const limit = (fallback: number) => z.number().int().min(1).nullable().default(fallback);
const severity = (fallback: 'review' | 'invalid') => z.enum(['review', 'invalid']).default(fallback);
const probability = (fallback: number) => z.number().gt(0).lt(1).default(fallback);

/** Two significance levels: p below `invalid_p` is invalid, below `review_p` review. */
function pLevels<T extends { review_p: number; invalid_p: number }>(value: T, ctx: z.RefinementCtx): void {
  if (value.invalid_p > value.review_p) {
    ctx.addIssue({ code: 'custom', path: ['invalid_p'], message: 'must not exceed review_p' });
  }
}

export const ruleSettingsSchema = z
  .strictObject({
    /** Declared bots (isbot), automation markers (headless, webdriver…), no agent, HEAD and prefetch requests. */
    agents: z
      .strictObject({
        enabled,
        /** Agents that do not even claim to be a browser (no leading "Mozilla/" or "Opera/"): HTTP libraries, SDKs. */
        require_browser: z.boolean().default(true),
      })
      .prefault({}),
    /**
     * The click's IP in a data-centre or hosting range: no person browses from there (MRC's general
     * invalid traffic), `verdict`. A conversion's own IP there (`conversion_verdict`) is reviewed, not
     * refused: it is the address the brand's server reports, and honest conversions arrive with one —
     * a shop backend that sends its own address, a buyer on a cloud desktop or a corporate VPN — while
     * a conversion through a data-centre click is already refused by that click.
     */
    datacenter: z.strictObject({ enabled, verdict: severity('invalid'), conversion_verdict: severity('review') }).prefault({}),
    /** Landing URL query parameters that reveal a paid ad, checked when the campaign forbids paid traffic. */
    paid_ads: z.strictObject({ params: z.array(z.string().min(1).max(64)).default([...PAID_AD_PARAMS]) }).prefault({}),
    /** Same IP + agent + link within the window of a valid click: the first one is paid, later ones are not. */
    repeat_clicks: z.strictObject({ enabled, window_seconds: z.number().int().min(1).max(86_400).default(3600) }).prefault({}),
    /**
     * Clicks per sliding window. A "visitor" is one IP with one user agent: identical behaviour, the
     * signature of a script. The per-IP limits count every agent and are high, because an office or a
     * carrier NAT puts many honest people behind one address: 60 a minute on any links, 20 a minute on
     * one creator's link (one click every 3 s on the same link from one address is a script rotating
     * agents, not a crowd). Per-creator limits catch a botnet spread over many addresses; a viral post
     * can pass them too, so they only send traffic to review. An IPv6 address counts as its /64.
     */
    click_velocity: z
      .strictObject({
        enabled,
        visitor_per_minute: limit(10),
        visitor_per_minute_verdict: severity('invalid'),
        visitor_per_hour: limit(60),
        ip_per_minute: limit(60),
        ip_link_per_minute: limit(20),
        creator_per_minute: limit(600),
        creator_per_hour: limit(10_000),
      })
      .prefault({}),
    /**
     * Conversions per sliding window. A "device" is one IP with one user agent; a device converting
     * more than 3 times an hour is a lead farm, not a customer. One IP with any agents is reviewed at
     * higher rates, because of NAT: more than 5 in 10 minutes (a burst: an office or a carrier NAT
     * spreads its customers' conversions over the day) or 20 in an hour. An IPv6 /64 is one subscriber's
     * network (a home, a phone and whoever it tethers), never a carrier NAT, so more than 3 conversions
     * from it in 10 minutes are reviewed whatever agents they claim.
     */
    conversion_velocity: z
      .strictObject({
        enabled,
        device_per_hour: limit(3),
        device_verdict: severity('invalid'),
        ip_per_10_minutes: limit(5),
        ip_per_hour: limit(20),
        ipv6_network_per_10_minutes: limit(3),
        creator_per_minute: limit(30),
        creator_per_hour: limit(500),
      })
      .prefault({}),
    /** Click-to-conversion time (CTIT) too short for a person: the click was injected just before the conversion. */
    injection: z
      .strictObject({
        enabled,
        invalid_below_seconds: z.number().min(0).max(86_400).default(10),
        review_below_seconds: z.number().min(0).max(86_400).default(15),
      })
      .refine((v) => v.invalid_below_seconds <= v.review_below_seconds, {
        path: ['review_below_seconds'],
        message: 'must not be below invalid_below_seconds',
      })
      .prefault({}),
    /** A conversion later than the campaign's attribution_window_days after its click. */
    attribution_window: z.strictObject({ enabled }).prefault({}),
    /**
     * Click flooding, from a creator's CTIT distribution (cohort rule). With at least `min_conversions`
     * click-attributed conversions:
     * - mostly late: one-sided binomial test that the share after `late_after_hours` exceeds `late_share_max`;
     * - flat: among conversions within `late_after_hours`, one-sided binomial test that the share within
     *   `early_within_hours` is below `early_share_min` (honest traffic decays fast; a flood is flat).
     */
    flooding: z
      .strictObject({
        enabled,
        min_conversions: z.number().int().min(1).default(10),
        late_after_hours: z.number().gt(0).max(24 * 90).default(24),
        late_share_max: probability(0.3),
        early_within_hours: z.number().gt(0).max(24).default(1),
        early_share_min: probability(0.5),
        review_p: probability(0.01),
        invalid_p: probability(0.0001),
      })
      .superRefine(pLevels)
      .refine((v) => v.early_within_hours < v.late_after_hours, {
        path: ['early_within_hours'],
        message: 'must be below late_after_hours',
      })
      .prefault({}),
    /**
     * A creator's click-to-conversion rate far below the rest of the campaign's (cohort rule), the mark
     * of click spamming (Adjust: sources at 0.05 % or less are almost certainly spam). Two conditions,
     * statistical and practical: a one-sided binomial test of the creator's conversions against the
     * pooled rate of the other creators (p below `review_p` or `invalid_p`), and a rate under
     * `max_rate_ratio` (a quarter) of that pooled rate. The test alone would, with enough clicks, condemn
     * every honest creator whose audience converts a little worse than average; the ratio alone would
     * condemn small creators for bad luck. Runs when the other creators have at least
     * `min_baseline_conversions` and the creator, at the pooled rate, would expect `min_expected_conversions`.
     */
    conversion_rate: z
      .strictObject({
        enabled,
        max_rate_ratio: z.number().gt(0).max(1).default(0.25),
        min_expected_conversions: z.number().gt(0).default(5),
        min_baseline_conversions: z.number().int().min(1).default(30),
        review_p: probability(0.001),
        invalid_p: probability(0.000001),
      })
      .superRefine(pLevels)
      .prefault({}),
    /** The customer's email or phone is the creator's own (normalised). */
    self_referral: z.strictObject({ enabled }).prefault({}),
    /** Lead quality through the lead checker: hard failures invalid, a score under `min_score` review, duplicates invalid. */
    leads: z
      .strictObject({
        enabled,
        min_score: z.number().min(0).max(100).default(50),
        dedupe: z.boolean().default(true),
      })
      .prefault({}),
  })
  .prefault({});

export type RuleSettings = z.output<typeof ruleSettingsSchema>;
export type RuleSettingsInput = z.input<typeof ruleSettingsSchema>;

/** The default settings of every rule. */
export const DEFAULT_RULE_SETTINGS: RuleSettings = ruleSettingsSchema.parse(undefined);

/** What the engine needs to know of a campaign: the campaign line's own fields and its rules. */
export interface CampaignFields {
  attribution_window_days: number;
  target_countries: readonly string[] | null;
  age_min: number | null;
  age_max: number | null;
  paid_traffic: 'allowed' | 'forbidden';
  required_fields: ReadonlyArray<'email' | 'phone' | 'country' | 'age'>;
  rules: RuleSettings;
}

/** A campaign's complete settings, derived once per campaign line. */
export interface CampaignSettings {
  rules: RuleSettings;
  attributionWindowMs: number;
  /** Paid-ad parameters to look for, lower case; empty when the campaign allows paid traffic. */
  paidAdParams: ReadonlySet<string>;
  lead: LeadSettings;
}

const MS_PER_DAY = 86_400_000;

export function settingsFor(campaign: CampaignFields): CampaignSettings {
  const { rules } = campaign;
  return {
    rules,
    attributionWindowMs: campaign.attribution_window_days * MS_PER_DAY,
    paidAdParams: new Set(campaign.paid_traffic === 'forbidden' ? rules.paid_ads.params.map((p) => p.toLowerCase()) : []),
    lead: {
      required_fields: campaign.required_fields,
      target_countries: campaign.target_countries,
      age_min: campaign.age_min,
      age_max: campaign.age_max,
      min_lead_score: rules.leads.min_score,
    },
  };
}

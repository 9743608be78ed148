import type { z } from 'zod';
import { DEFAULT_RULE_SETTINGS, type RuleSettings, type RuleSettingsInput, ruleSettingsSchema, type ViewRuleSettings, type ViewRuleSettingsInput, viewRuleSettingsSchema } from '../validation/index.js';

/**
 * A campaign's validation settings as its terms carry them (`terms.validation`), and the engine's
 * campaign line they make. Only the engine's settings module is imported here: campaigns/terms.ts
 * checks a campaign's settings with these functions when the terms are written.
 */
export const LEAD_FIELDS = ['email', 'phone', 'country', 'age'] as const;
export type LeadField = (typeof LEAD_FIELDS)[number];

/**
 * `terms.validation`. The first three fields predate the engine; the others were added with it and
 * are absent from campaigns made before (and whenever the brand did not set them): absent means the
 * default in VALIDATION_DEFAULTS, so those campaigns keep working as they did.
 */
export interface ValidationTerms {
  /** Click-to-conversion time under this is invalid (injection); from there up to 15 s it is reviewed. */
  min_ctit_seconds: number;
  dedupe_leads: boolean;
  self_referral: boolean;
  /** ISO 3166-1 alpha-2 codes; null: any country. */
  target_countries?: string[] | null;
  age_min?: number | null;
  age_max?: number | null;
  /** `forbidden`: clicks whose landing URL carries an ad network's click id are invalid. */
  paid_traffic?: 'allowed' | 'forbidden';
  /** Lead fields the brand must send; a lead without one is invalid. */
  required_fields?: LeadField[];
  /** 0–100: a lead scoring under it is reviewed. */
  min_lead_score?: number;
  /** Per-rule overrides of the engine's settings (docs/validation.md), applied last. */
  rules?: RuleSettingsInput;
  /** Overrides of the view-report plausibility rules (CPM, src/validation/views); absent: their defaults. */
  views?: ViewRuleSettingsInput;
}

export const VALIDATION_DEFAULTS = {
  target_countries: null,
  age_min: null,
  age_max: null,
  paid_traffic: 'allowed',
  required_fields: [],
  min_lead_score: 50,
} as const satisfies Required<Omit<ValidationTerms, 'min_ctit_seconds' | 'dedupe_leads' | 'self_referral' | 'rules' | 'views'>>;

/** The view-report rules' settings for these terms (checked when the terms are written, so parsing here cannot fail). */
export function viewSettingsFor(v: ValidationTerms): z.ZodSafeParseResult<ViewRuleSettings> {
  return viewRuleSettingsSchema.safeParse(v.views ?? {});
}

/** The field's grey zone above the injection threshold: 10 s invalid, up to 15 s review. */
const REVIEW_ZONE_SECONDS =
  DEFAULT_RULE_SETTINGS.injection.review_below_seconds - DEFAULT_RULE_SETTINGS.injection.invalid_below_seconds;

/**
 * Where the review zone above a brand's `min_ctit_seconds` ends: at most 5 s above it (the field's
 * 10 → 15 s) and never past the field's 15 s. A brand that lowers the threshold (a one-field form
 * people fill in seconds) moves the zone down with it; one that raises it past 15 s drew a hard line
 * of its own and gets no zone above it (as before); 0 switches the injection rule off, zone included —
 * a brand that says no time is too short is not second-guessed.
 */
export function reviewZoneEnd(minCtitSeconds: number): number {
  if (minCtitSeconds === 0) return 0;
  const fieldEnd = DEFAULT_RULE_SETTINGS.injection.review_below_seconds;
  return Math.max(minCtitSeconds, Math.min(minCtitSeconds + REVIEW_ZONE_SECONDS, fieldEnd));
}

/**
 * The engine's rule settings for these terms: the terms' own fields set the rules they name
 * (`min_ctit_seconds` is the injection threshold, with a review zone of up to 5 s above it that never passes 15 s, none at 0; `self_referral`,
 * `dedupe_leads` and `min_lead_score` switch and tune their rules), then `rules` overrides any of them
 * key by key. Parsed with the engine's own schema, so an unknown or inconsistent key is refused.
 */
export function ruleSettingsFor(v: ValidationTerms): z.ZodSafeParseResult<RuleSettings> {
  const overrides = v.rules ?? {};
  const reviewBelow = reviewZoneEnd(v.min_ctit_seconds);
  return ruleSettingsSchema.safeParse({
    ...overrides,
    injection: { invalid_below_seconds: v.min_ctit_seconds, review_below_seconds: reviewBelow, ...overrides.injection },
    self_referral: { enabled: v.self_referral, ...overrides.self_referral },
    leads: { min_score: v.min_lead_score ?? VALIDATION_DEFAULTS.min_lead_score, dedupe: v.dedupe_leads, ...overrides.leads },
  });
}

/**
 * The engine's dependencies, declared here so the engine compiles and is tested on its own: the
 * data-centre lookup (src/validation/datacenter/) and the lead checker (src/validation/lead/) are
 * passed in, never imported. The shapes are the ones those modules export.
 */

/** The provider's name when `ip` belongs to a data-centre or hosting range, else undefined. */
export type DatacenterLookup = (ip: string) => string | undefined;

export interface LeadInput {
  email: string | null;
  phone: string | null;
  country: string | null;
  age: number | null;
}

export interface LeadSettings {
  required_fields: ReadonlyArray<'email' | 'phone' | 'country' | 'age'>;
  target_countries: readonly string[] | null;
  age_min: number | null;
  age_max: number | null;
  min_lead_score: number;
}

export interface LeadCheck {
  /** 0–100, 100 = a clean lead. */
  score: number;
  /** Lead reason codes (email_invalid, email_disposable, …); see LEAD_REASON_SEVERITY in engine.ts. */
  reasons: string[];
  /** The normalised email (case, plus-tags, Gmail dots), or null when there is no usable email. */
  emailKey: string | null;
  /** The phone number in E.164, or null when there is no usable phone. */
  phoneKey: string | null;
}

export type LeadChecker = (input: LeadInput, settings: LeadSettings) => LeadCheck;

export interface EngineDeps {
  datacenter: DatacenterLookup;
  checkLead: LeadChecker;
}

/** What the engine answers for every click and every conversion. */
export interface Verdict {
  id: string;
  kind: 'click' | 'conversion';
  verdict: 'valid' | 'review' | 'invalid';
  /** 0–100, 100 = clean. Orders events within a verdict; the verdict alone decides payment. */
  score: number;
  /** Reason codes from REASON_CODES, in that list's order, each at most once. */
  reasons: string[];
}

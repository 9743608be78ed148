import { isDisposableDomain, isRoleAccount, isTypoDomain, parseEmail } from './email.js';
import { toE164, unjudgeable } from './phone.js';

/**
 * Lead quality (issue #4 §2): what a brand receives as a lead is checked field by field, scored 0–100
 * and explained with reason codes. This module only reports; the engine turns reports into verdicts.
 */

export interface LeadInput {
  email: string | null;
  phone: string | null;
  /** ISO 3166-1 alpha-2 of the customer, any case. */
  country: string | null;
  age: number | null;
}

export interface LeadSettings {
  required_fields: ReadonlyArray<'email' | 'phone' | 'country' | 'age'>;
  /** ISO 3166-1 alpha-2 codes, any case; null = any country; an empty list targets no country. */
  target_countries: readonly string[] | null;
  /** Inclusive bounds; null = no bound. */
  age_min: number | null;
  age_max: number | null;
  /** 0–100; a score below it adds `lead_score_low`, a score equal to it passes. */
  min_lead_score: number;
}

/**
 * - `required_fields: ['email']`: a lead is a way to reach a person, email is the one channel every lead
 *   form collects, and it is what duplicates are found by. Phone is optional unless a campaign asks.
 * - no country or age targeting: demographics are the brand's choice, not a default.
 * - `min_lead_score: 50`: any single hard failure (weight 60) falls below it, the one soft signal
 *   (a role account, weight 20) stays above it.
 */
export const DEFAULT_LEAD_SETTINGS: LeadSettings = {
  required_fields: ['email'],
  target_countries: null,
  age_min: null,
  age_max: null,
  min_lead_score: 50,
};

/** Every reason code, in the order reasons are reported. */
export const LEAD_REASONS = [
  'required_field_missing',
  'email_invalid',
  'email_disposable',
  'email_typo_domain',
  'email_no_mx',
  'email_role_account',
  'phone_invalid',
  'country_not_targeted',
  'age_out_of_range',
  'lead_score_low',
] as const;
export type LeadReason = (typeof LEAD_REASONS)[number];

/**
 * What each reason takes off the score of 100 (floored at 0).
 * - 60, hard: the lead cannot be used as given, or is not what the campaign pays for. An address that
 *   is invalid, disposable, misspelt or without a mail server reaches nobody; a given phone that is not
 *   a number, a missing required field, a customer outside the targeted countries or ages. One of these
 *   alone scores 40, below the default threshold with a margin, so a brand must lower the threshold to
 *   40 or under before such a lead could pass.
 * - 20, soft: a role account (info@, sales@) is a shared inbox, not a person, but B2B leads legitimately
 *   come from such addresses; it lowers the score (80) without failing the default threshold, and a
 *   consumer campaign can set its threshold above 80 to refuse them.
 * - An absent optional field costs nothing: the brand did not ask for it. Plus-addressing costs
 *   nothing: honest users use it, and the duplicate key ignores it.
 */
export const LEAD_REASON_WEIGHTS: Readonly<Record<Exclude<LeadReason, 'lead_score_low'>, number>> = {
  required_field_missing: 60,
  email_invalid: 60,
  email_disposable: 60,
  email_typo_domain: 60,
  email_no_mx: 60,
  email_role_account: 20,
  phone_invalid: 60,
  country_not_targeted: 60,
  age_out_of_range: 60,
};

export interface LeadCheck {
  /** Integer 0–100; 100 for a lead with no reason. */
  score: number;
  /** Reason codes in LEAD_REASONS order, no duplicates. */
  reasons: string[];
  /** Normalised email for duplicate detection (case, plus-tags, Gmail dots, IDN); null if no valid email. */
  emailKey: string | null;
  /** E.164; null if no valid phone. */
  phoneKey: string | null;
}

/** Online checks, behind an interface so that scoring never needs the network. */
export interface OnlineLeadChecks {
  /** Whether the domain accepts mail; undefined when unknown (no network, timeout, not asked). */
  hasMx(domain: string): Promise<boolean | undefined>;
}

/** The default: never asks the network, knows nothing. */
export const NO_ONLINE_CHECKS: OnlineLeadChecks = { hasMx: async () => undefined };

/** The youngest and oldest plausible human ages: 0 is what an unfilled numeric field sends; 122 years is the oldest verified human. */
const MIN_PLAUSIBLE_AGE = 1;
const MAX_PLAUSIBLE_AGE = 122;

/**
 * Whether a known, plausible age is within the campaign's inclusive bounds. An implausible age (0 — what
 * an unfilled numeric field sends —, negative, 200) says nothing about the person, so it is read as no
 * age at all (see findOffline): absent data is not evidence.
 */
function ageFits(age: number, { age_min, age_max }: LeadSettings): boolean {
  return (age_min === null || age >= age_min) && (age_max === null || age <= age_max);
}

function plausibleAge(age: number | null): number | null {
  return age !== null && age >= MIN_PLAUSIBLE_AGE && age <= MAX_PLAUSIBLE_AGE ? age : null;
}

interface Findings {
  reasons: Set<LeadReason>;
  /** ASCII domain of a valid email, for online checks. */
  emailDomain: string | null;
  emailKey: string | null;
  phoneKey: string | null;
}

/** Trimmed text, or null when there is none: "  " is as absent as null. */
function present(value: string | null): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}

/** Upper-cased target lists, computed once per settings object (the engine reuses a campaign's settings). */
const targetSets = new WeakMap<readonly string[], ReadonlySet<string>>();
function targetSet(targets: readonly string[]): ReadonlySet<string> {
  let set = targetSets.get(targets);
  if (!set) {
    set = new Set(targets.map((c) => c.trim().toUpperCase()));
    targetSets.set(targets, set);
  }
  return set;
}

function findOffline(input: LeadInput, settings: LeadSettings): Findings {
  const reasons = new Set<LeadReason>();
  const email = present(input.email);
  const phone = present(input.phone);
  const country = present(input.country)?.toUpperCase() ?? null;
  const age = plausibleAge(input.age);

  const given = { email: email !== null, phone: phone !== null, country: country !== null, age: age !== null };
  if (settings.required_fields.some((field) => !given[field])) reasons.add('required_field_missing');

  let emailKey: string | null = null;
  let emailDomain: string | null = null;
  if (email !== null) {
    const parsed = parseEmail(email);
    if (!parsed) {
      reasons.add('email_invalid');
    } else {
      emailKey = parsed.key;
      emailDomain = parsed.domain;
      // Independent: mailchecker also lists many typo domains (gmial.com…), and both facts are worth telling.
      if (isDisposableDomain(parsed.domain)) reasons.add('email_disposable');
      if (isTypoDomain(parsed.domain)) reasons.add('email_typo_domain');
      if (isRoleAccount(parsed.local)) reasons.add('email_role_account');
    }
  }

  let phoneKey: string | null = null;
  if (phone !== null) {
    phoneKey = toE164(phone, country);
    // A national number of a customer whose country is unknown cannot be checked: no evidence either way.
    if (phoneKey === null && !unjudgeable(phone, country)) reasons.add('phone_invalid');
  }

  // Targeting is judged on what is known: an unknown country or age passes it (absent data is not
  // evidence). A brand that needs the value to judge fit lists it in required_fields, and then its
  // absence is required_field_missing.
  if (settings.target_countries !== null && country !== null && !targetSet(settings.target_countries).has(country)) {
    reasons.add('country_not_targeted');
  }
  if (age !== null && !ageFits(age, settings)) reasons.add('age_out_of_range');

  return { reasons, emailDomain, emailKey, phoneKey };
}

function finish({ reasons, emailKey, phoneKey }: Findings, settings: LeadSettings): LeadCheck {
  let penalty = 0;
  for (const reason of reasons) if (reason !== 'lead_score_low') penalty += LEAD_REASON_WEIGHTS[reason];
  const score = Math.max(0, 100 - penalty);
  // Written as a negated "passes" so that a NaN threshold fails closed.
  if (!(score >= settings.min_lead_score)) reasons.add('lead_score_low');
  return { score, reasons: LEAD_REASONS.filter((r) => reasons.has(r)), emailKey, phoneKey };
}

/** The offline checks: pure, synchronous, no network. */
export function checkLead(input: LeadInput, settings: LeadSettings): LeadCheck {
  return finish(findOffline(input, settings), settings);
}

/**
 * checkLead plus the online checks: `email_no_mx` when the valid email's domain (in ASCII form) is
 * reported to have no mail server. An unknown answer, or a failing lookup, changes nothing: online
 * checks may add evidence but are never required.
 */
export async function checkLeadOnline(
  input: LeadInput,
  settings: LeadSettings,
  online: OnlineLeadChecks,
): Promise<LeadCheck> {
  const findings = findOffline(input, settings);
  if (findings.emailDomain !== null) {
    const hasMx = await online.hasMx(findings.emailDomain).catch(() => undefined);
    if (hasMx === false) findings.reasons.add('email_no_mx');
  }
  return finish(findings, settings);
}

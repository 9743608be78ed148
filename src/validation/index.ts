import type { Terms } from '../campaigns/index.js';

/**
 * Validation of conversions behind ONE interface, so a full engine (issue #4: IP reputation,
 * disposable domains, CTIT distributions…) can replace the basic rules without touching the callers.
 * A validator answers reason codes, never exceptions: no code means the conversion may be paid (it is
 * still held for the campaign's hold period); any code makes its result rejected with no hold.
 */
export const REASONS = {
  duplicateLead: 'duplicate_lead',
  ctitTooShort: 'ctit_too_short',
  outsideAttributionWindow: 'outside_attribution_window',
  selfReferral: 'self_referral',
  botClick: 'bot_click',
  repeatClick: 'repeat_click',
  headClick: 'head_click',
} as const;
export type ReasonCode = (typeof REASONS)[keyof typeof REASONS];

export type ClickStatus = 'valid' | 'bot' | 'repeat' | 'head';

/** What the caller knows how to look up in its own tables (validation owns no tables). */
export interface ConversionHistory {
  /** Whether an earlier lead on this campaign came from this customer (same id or same normalised email). */
  hasEarlierLead(campaignId: string, customer: { id: string; email: string | null }): Promise<boolean>;
}

export interface ConversionToValidate {
  kind: 'lead' | 'sale';
  campaignId: string;
  occurredAt: Date;
  terms: Pick<Terms, 'attribution_window_days' | 'validation'>;
  /** `email` normalised with `normaliseEmail`, or null when the brand sent none. */
  customer: { id: string; email: string | null };
  /** The creator's email, normalised. */
  creatorEmail: string | null;
  /** The click the conversion is attributed to; null for a promo-code conversion. */
  click: { occurredAt: Date; status: ClickStatus } | null;
  history: ConversionHistory;
}

export interface Validator {
  /** Reason codes in a fixed order; empty when the conversion passes. */
  validateConversion(input: ConversionToValidate): Promise<string[]>;
}

export type Rule = (input: ConversionToValidate) => ReasonCode | null | Promise<ReasonCode | null>;

const MS_PER_DAY = 86_400_000;

/** A click flagged by tracking earns nothing: bots, repeats (same visitor within the hour), HEAD requests. */
export const clickQuality: Rule = ({ click }) => {
  if (!click || click.status === 'valid') return null;
  return ({ bot: REASONS.botClick, repeat: REASONS.repeatClick, head: REASONS.headClick } as const)[click.status];
};

/**
 * Click-to-conversion time under the campaign's minimum (default 10 s) looks like click injection.
 * Exactly the minimum passes. A conversion before its click (negative time) always fails.
 */
export const clickToConversionTime: Rule = ({ click, occurredAt, terms }) => {
  if (!click) return null;
  const elapsedMs = occurredAt.getTime() - click.occurredAt.getTime();
  return elapsedMs < terms.validation.min_ctit_seconds * 1000 ? REASONS.ctitTooShort : null;
};

/** A conversion more than attribution_window_days after its click; exactly the window passes. */
export const attributionWindow: Rule = ({ click, occurredAt, terms }) => {
  if (!click) return null;
  const elapsedMs = occurredAt.getTime() - click.occurredAt.getTime();
  return elapsedMs > terms.attribution_window_days * MS_PER_DAY ? REASONS.outsideAttributionWindow : null;
};

/** The creator buying through their own link or code. */
export const selfReferral: Rule = ({ customer, creatorEmail, terms }) => {
  if (!terms.validation.self_referral || !customer.email || !creatorEmail) return null;
  return customer.email === creatorEmail ? REASONS.selfReferral : null;
};

/** A campaign pays once per customer for a lead (Dub: lead de-duplication per customer and event). */
export const duplicateLead: Rule = async ({ kind, terms, campaignId, customer, history }) => {
  if (kind !== 'lead' || !terms.validation.dedupe_leads) return null;
  return (await history.hasEarlierLead(campaignId, customer)) ? REASONS.duplicateLead : null;
};

/** The rules in the order their codes are reported. */
export const BASIC_RULES: readonly Rule[] = [clickQuality, clickToConversionTime, attributionWindow, selfReferral, duplicateLead];

export function basicValidator(rules: readonly Rule[] = BASIC_RULES): Validator {
  return {
    async validateConversion(input) {
      const reasons: string[] = [];
      for (const rule of rules) {
        const reason = await rule(input);
        if (reason) reasons.push(reason);
      }
      return reasons;
    },
  };
}

const GMAIL_DOMAINS = new Set(['gmail.com', 'googlemail.com']);

/**
 * The form two emails are compared in: trimmed, lower case, without a `+tag`; Gmail ignores dots in
 * the local part and answers on googlemail.com too. "Ada.L+shop@GoogleMail.com" → "adal@gmail.com".
 */
export function normaliseEmail(email: string): string {
  const lower = email.trim().toLowerCase();
  const at = lower.lastIndexOf('@');
  if (at <= 0) return lower;
  let local = lower.slice(0, at);
  let domain = lower.slice(at + 1);
  const plus = local.indexOf('+');
  if (plus > 0) local = local.slice(0, plus);
  if (GMAIL_DOMAINS.has(domain)) {
    domain = 'gmail.com';
    local = local.replaceAll('.', '');
  }
  return `${local}@${domain}`;
}

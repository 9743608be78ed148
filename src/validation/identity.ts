import { checkLead } from './lead/index.js';

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

/**
 * Whether a customer is the creator themself: the same email or phone, compared as the engine's
 * self-referral rule compares them (normalised keys from the lead checker). Used for the other
 * creators credited on a journey, whom the engine — judging the conversion once, on its last-click
 * creator — does not see.
 */
export function isSelfReferral(
  customer: { email: string | null; phone: string | null; country: string | null },
  creator: { email: string; phone: string | null },
): boolean {
  const keysOnly = { required_fields: [], target_countries: null, age_min: null, age_max: null, min_lead_score: 0 };
  const c = checkLead({ email: customer.email, phone: customer.phone, country: customer.country, age: null }, keysOnly);
  const own = checkLead({ email: creator.email, phone: creator.phone, country: customer.country, age: null }, keysOnly);
  return (own.emailKey !== null && own.emailKey === c.emailKey) || (own.phoneKey !== null && own.phoneKey === c.phoneKey);
}

import type { Terms } from '../terms/index.js';
import type { ClickStatus } from '../validation/index.js';

/**
 * Validation of conversions behind ONE interface: the conversion path (single and batched, through
 * `judge()`) asks a Validator for a verdict and never knows which rules stand behind it. Earnest's
 * validator is the engine (src/validation/engine, the same code `earnest score` runs), fed with what
 * the server stored about the conversion, its click and its creator (src/judging).
 *
 * A validator answers a verdict with reason codes, never exceptions:
 * - `valid`: the result is held for the campaign's hold period, then paid unless someone rejects it;
 * - `review`: the result is held (the money stays reserved) but is never released without a person;
 * - `invalid`: the result is rejected with its reasons and nothing is held.
 */
export type { ClickStatus };
export type VerdictLevel = 'valid' | 'review' | 'invalid';

export interface Judgement {
  verdict: VerdictLevel;
  /** Reason codes in a fixed order; empty for a `valid` verdict. */
  reasons: string[];
}

/** What the caller knows how to look up in its own tables (validation owns no tables). */
export interface ConversionHistory {
  /** Whether an earlier lead on this campaign came from this customer (same id or same normalised email). */
  hasEarlierLead(campaignId: string, customer: { id: string; email: string | null }): Promise<boolean>;
}

/** A click as the tracking server stored it: the IP only as a salted hash, its flags decided when written. */
export interface StoredClick {
  id: string;
  occurredAt: Date;
  ipHash: string;
  userAgent: string | null;
  referrer: string | null;
  landingUrl: string | null;
  status: ClickStatus;
}

export interface ConversionCustomer {
  id: string;
  /** As the brand sent them (the lead checks look at the address itself, not its normalised form). */
  email: string | null;
  phone: string | null;
  country: string | null;
  age: number | null;
}

export interface ConversionToValidate {
  /** The conversion's own id (the engine's event id). */
  id: string;
  kind: 'lead' | 'sale';
  campaignId: string;
  occurredAt: Date;
  /** The terms the creator accepted (their `validation` object carries the campaign's rule settings). */
  terms: Pick<Terms, 'objective' | 'attribution_window_days' | 'validation'>;
  customer: ConversionCustomer;
  /** The customer's device, when the brand sent it: the raw IP is judged here and never stored. */
  device: { ip: string | null; userAgent: string | null };
  creator: { id: string; email: string; phone: string | null };
  /** The click the conversion is attributed to; null for a promo-code conversion. */
  click: StoredClick | null;
  promoCode: string | null;
  amount: string | null;
  currency: string | null;
  history: ConversionHistory;
}

export interface Validator {
  validateConversion(input: ConversionToValidate): Promise<Judgement>;
}


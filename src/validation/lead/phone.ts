import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * A phone number in E.164 ("+33612345678"), or null when it is not a valid number. A national number
 * is read in the customer's country; an international one ("+44…", "00 44…", with or without a
 * country) stands on its own, so a
 * French customer with a British mobile is fine. Without a country, a national number is ambiguous and
 * therefore not usable (see unjudgeable). The `max` metadata checks the digits against each country's numbering plan, not
 * only the length; the whole string must be the number (no "call me on …").
 */
export function toE164(raw: string, country: string | null): string | null {
  const defaultCountry = country !== null && isSupportedCountry(country) ? country : undefined;
  // "00" is the international prefix of most of the world; libphonenumber only reads it as one when it
  // knows the country, so without a country "0033 6…" is read as "+33 6…".
  const text = defaultCountry === undefined ? raw.trim().replace(/^00/, '+') : raw;
  const parsed = parsePhoneNumberFromString(text, { defaultCountry, extract: false });
  return parsed?.isValid() ? parsed.number : null;
}

/**
 * A number that looks like a national phone number (6 to 15 digits and the usual separators, no "+" or
 * "00" prefix) of a customer whose country is unknown: it cannot be checked against any numbering plan,
 * which is no evidence that it is wrong — absent data is not evidence. It is neither refused nor used
 * as a duplicate key.
 */
export function unjudgeable(raw: string, country: string | null): boolean {
  if (country !== null && isSupportedCountry(country)) return false;
  const text = raw.trim();
  if (text.startsWith('+') || text.startsWith('00') || !/^[0-9 ().-]+$/.test(text)) return false;
  const digits = text.replace(/[^0-9]/g, '').length;
  return digits >= 6 && digits <= 15;
}

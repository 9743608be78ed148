import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * A phone number in E.164 ("+33612345678"), or null when it is not a valid number. A national number
 * is read in the customer's country; an international one ("+44…", "00 44…") stands on its own, so a
 * French customer with a British mobile is fine. Without a country, a national number is ambiguous and
 * therefore not usable. The `max` metadata checks the digits against each country's numbering plan, not
 * only the length; the whole string must be the number (no "call me on …").
 */
export function toE164(raw: string, country: string | null): string | null {
  const defaultCountry = country !== null && isSupportedCountry(country) ? country : undefined;
  const parsed = parsePhoneNumberFromString(raw, { defaultCountry, extract: false });
  return parsed?.isValid() ? parsed.number : null;
}

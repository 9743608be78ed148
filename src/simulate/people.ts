import { type CountryCode, isValidPhoneNumber, parsePhoneNumberWithError } from 'libphonenumber-js/max';
import type { Random } from '../random/index.js';
import { sample } from './draw.js';

/**
 * Simulated people: names, emails, phone numbers, countries and ages. Every honest person has an
 * email and a phone that no other person has (both derive from a unique person number), so two leads
 * with the same normalised email or phone are the same person by construction.
 */

export interface Country {
  readonly code: string;
  readonly callingCode: string;
  /** National mobile prefixes after which any `digits` digits make a valid number (checked in tests). */
  readonly prefixes: readonly string[];
  readonly digits: number;
  readonly weight: number;
  /** Local mail providers, besides the global ones. */
  readonly mail: readonly string[];
}

export const COUNTRIES: readonly Country[] = [
  { code: 'US', callingCode: '1', prefixes: ['212', '310', '415', '512', '617', '646', '702', '718', '773', '305', '404', '206'], digits: 7, weight: 30, mail: ['comcast.net', 'aol.com', 'att.net'] },
  { code: 'GB', callingCode: '44', prefixes: ['74', '75', '78'], digits: 8, weight: 12, mail: ['btinternet.com', 'hotmail.co.uk', 'yahoo.co.uk', 'sky.com'] },
  { code: 'DE', callingCode: '49', prefixes: ['151', '152', '160', '170', '171', '176', '177'], digits: 8, weight: 10, mail: ['gmx.de', 'web.de', 't-online.de', 'gmx.net'] },
  { code: 'FR', callingCode: '33', prefixes: ['60', '61', '62', '64', '65', '66', '67', '68', '75', '76', '77', '78'], digits: 7, weight: 9, mail: ['orange.fr', 'free.fr', 'laposte.net', 'hotmail.fr'] },
  { code: 'ES', callingCode: '34', prefixes: ['6'], digits: 8, weight: 6, mail: ['hotmail.es', 'yahoo.es', 'telefonica.net'] },
  { code: 'IT', callingCode: '39', prefixes: ['320', '328', '333', '338', '340', '347', '348', '349', '366', '392'], digits: 7, weight: 6, mail: ['libero.it', 'virgilio.it'] },
  { code: 'NL', callingCode: '31', prefixes: ['61', '62', '63', '64', '65'], digits: 7, weight: 4, mail: ['ziggo.nl', 'kpnmail.nl'] },
  { code: 'CA', callingCode: '1', prefixes: ['416', '604', '514', '403', '613', '647'], digits: 7, weight: 5, mail: ['shaw.ca'] },
  { code: 'AU', callingCode: '61', prefixes: ['40', '41', '42', '43', '46'], digits: 7, weight: 4, mail: ['bigpond.com'] },
  { code: 'BR', callingCode: '55', prefixes: ['119', '219', '319', '479', '619'], digits: 8, weight: 6, mail: ['uol.com.br', 'bol.com.br'] },
  { code: 'IN', callingCode: '91', prefixes: ['98', '99', '97', '96', '94', '90', '88', '70'], digits: 8, weight: 4, mail: ['rediffmail.com'] },
  { code: 'MX', callingCode: '52', prefixes: ['55', '33', '81'], digits: 8, weight: 3, mail: ['prodigy.net.mx'] },
  { code: 'PL', callingCode: '48', prefixes: ['50', '51', '53', '57', '60', '66', '69', '72', '73', '78', '79', '88'], digits: 7, weight: 3, mail: ['wp.pl', 'o2.pl', 'onet.pl'] },
  { code: 'SE', callingCode: '46', prefixes: ['70', '72', '73', '76', '79'], digits: 7, weight: 2, mail: ['telia.com'] },
];

/**
 * Global providers. Some are one letter from a big provider's name and real all the same (ymail.com,
 * mail.com, gmx.com, me.com): honest near-misses for a typo-domain check.
 */
const GLOBAL_MAIL: ReadonlyArray<readonly [string, number]> = [
  ['gmail.com', 40], ['yahoo.com', 8], ['outlook.com', 8], ['hotmail.com', 8], ['icloud.com', 7], ['proton.me', 2],
  ['aol.com', 1], ['live.com', 2], ['me.com', 1], ['ymail.com', 1], ['mail.com', 1], ['gmx.com', 1], ['fastmail.com', 1],
  ['googlemail.com', 1],
];

/** Providers that deliver `local+tag@` to `local@` (plus-addressing). */
export const PLUS_PROVIDERS = ['gmail.com', 'gmail.com', 'outlook.com', 'hotmail.com', 'icloud.com', 'proton.me', 'fastmail.com'];

/** Company domains for work addresses (B2B leads): plausible names, none near a free-mail provider's. */
const COMPANY_DOMAINS = [
  'brightlane-studio.com', 'northwindtraders.io', 'kestrel-analytics.com', 'harbourline.co.uk', 'bluefjord.se',
  'atelier-mercier.fr', 'tannenhof-logistik.de', 'vela-design.it', 'solaris-energia.es', 'canopy-health.com',
  'quartzlabs.dev', 'maplewood-realty.ca', 'redgum-consulting.com.au', 'pinecrest-dental.com', 'orbitalfreight.nl',
];

const FIRST_NAMES = [
  'ada', 'alan', 'amelia', 'anna', 'ben', 'carla', 'chloe', 'daniel', 'david', 'elena', 'emma', 'felix', 'grace',
  'hannah', 'hugo', 'isabel', 'jack', 'james', 'julia', 'karim', 'laura', 'leo', 'lucas', 'lucia', 'maria', 'marta',
  'max', 'mia', 'nina', 'noah', 'olivia', 'omar', 'paul', 'priya', 'rafael', 'rosa', 'sam', 'sara', 'sofia', 'tom',
  'victor', 'yuki', 'zoe', 'lena', 'jonas', 'ines', 'marco', 'aisha', 'pedro', 'camille', 'kofi', 'mei', 'arjun',
  'freya', 'oscar', 'eva', 'ivan', 'nora', 'ravi', 'tessa',
];
const LAST_NAMES = [
  'smith', 'jones', 'garcia', 'muller', 'rossi', 'dubois', 'kowalski', 'silva', 'nguyen', 'patel', 'kim', 'brown',
  'taylor', 'martin', 'bernard', 'schmidt', 'fischer', 'weber', 'lopez', 'martinez', 'santos', 'costa', 'ferrari',
  'romano', 'janssen', 'devries', 'larsen', 'nielsen', 'andersson', 'johansson', 'novak', 'horvat', 'walsh',
  'murphy', 'okafor', 'mensah', 'haddad', 'cohen', 'tanaka', 'sato', 'singh', 'khan', 'ali', 'reyes', 'torres',
  'moreau', 'lefevre', 'hoffmann', 'wagner', 'becker', 'clarke', 'hughes', 'evans', 'wilson', 'lee', 'chen',
];

export interface Person {
  readonly number: number;
  readonly first: string;
  readonly last: string;
  readonly country: Country;
  /** The person's own address, lower case, no tag. */
  readonly email: string;
  readonly e164: string;
  readonly age: number;
}

/** A person numbered `n`: the number makes the email's local part and the phone's digits unique. */
export function makePerson(rng: Random, n: number, country: Country, age: number): Person {
  const first = rng.pick(FIRST_NAMES);
  const last = rng.pick(LAST_NAMES);
  const domain = rng.next() < 0.3 && country.mail.length > 0 ? rng.pick(country.mail) : pickWeighted(rng, GLOBAL_MAIL);
  return { number: n, first, last, country, email: `${localPart(rng, first, last, n)}@${domain}`, e164: phoneOf(country, n), age };
}

/** A work address at a company domain, for B2B leads. */
export function workEmail(rng: Random, person: Person): string {
  return `${person.first}.${person.last}${person.number}@${rng.pick(COMPANY_DOMAINS)}`;
}

function pickWeighted(rng: Random, xs: ReadonlyArray<readonly [string, number]>): string {
  let total = 0;
  for (const [, w] of xs) total += w;
  let target = rng.next() * total;
  for (const [value, w] of xs) {
    target -= w;
    if (target < 0) return value;
  }
  return (xs.at(-1) as readonly [string, number])[0];
}

function localPart(rng: Random, first: string, last: string, n: number): string {
  const tag = n.toString();
  switch (rng.int(0, 4)) {
    case 0:
      return `${first}.${last}${tag}`;
    case 1:
      return `${first}${last.slice(0, 1)}${tag}`;
    case 2:
      return `${first.slice(0, 1)}${last}${tag}`;
    case 3:
      return `${first}_${last}${tag}`;
    default:
      return `${last}.${first}${tag}`;
  }
}

/**
 * Subscriber digits from the person number through a bijection (multiplying by a number coprime with
 * the modulus): distinct person numbers give distinct phones, yet the digits look random. North
 * American exchanges cannot start with 0 or 1, so there the digits run from 2000000 up.
 */
export function phoneOf(country: Country, n: number): string {
  const nanp = country.callingCode === '1';
  const modulus = (nanp ? 8 : 10) * 10 ** (country.digits - 1);
  const scrambled = ((n % modulus) * 7_919_371 + 4_321_987) % modulus;
  const digits = String(nanp ? scrambled + 2 * 10 ** (country.digits - 1) : scrambled).padStart(country.digits, '0');
  return `+${country.callingCode}${country.prefixes[n % country.prefixes.length]}${digits}`;
}

export type PhoneStyle = 'e164' | 'international' | 'national' | 'dashed' | 'double_zero';

/** The same number as people type it: E.164, spaced international, national, with dashes, or 00-prefixed. */
export function formatPhone(e164: string, style: PhoneStyle): string {
  if (style === 'e164') return e164;
  if (style === 'double_zero') return `00${e164.slice(1)}`;
  const parsed = parsePhoneNumberWithError(e164);
  if (style === 'international') return parsed.formatInternational();
  const national = parsed.formatNational();
  return style === 'dashed' ? national.replace(/[ ()]+/g, '-').replace(/^-|-$/g, '') : national;
}

/** Countries whose international prefix is not 00 (011 in North America, 0011 in Australia, 00 plus a carrier in Brazil). */
const NO_DOUBLE_ZERO = new Set(['US', 'CA', 'AU', 'BR']);

/**
 * A way a person writes their own number. National forms only when the lead carries the country (a
 * national number means nothing without it), "00…" only where 00 is the country's international prefix.
 */
export function phoneStyle(rng: Random, knownCountry: Country | null): PhoneStyle {
  if (knownCountry === null) return rng.pick<PhoneStyle>(['e164', 'international']);
  const styles: PhoneStyle[] = ['e164', 'international', 'national', 'national', 'dashed'];
  if (!NO_DOUBLE_ZERO.has(knownCountry.code)) styles.push('double_zero');
  return rng.pick(styles);
}

/**
 * Numbers no numbering plan accepts: too short, too long, letters, placeholder digits. Each candidate is
 * checked against the full metadata (a truncated "+1 310 4967" happens to be a valid Canadian number).
 */
export function invalidPhone(rng: Random, person: Person): string {
  const national = person.e164.slice(1 + person.country.callingCode.length);
  for (;;) {
    const candidate = invalidCandidate(rng, person.country.callingCode, national);
    if (!isValidPhoneNumber(candidate, person.country.code as CountryCode)) return candidate;
  }
}

function invalidCandidate(rng: Random, callingCode: string, national: string): string {
  switch (rng.int(0, 5)) {
    case 0:
      return `+${callingCode}${national.slice(0, national.length - rng.int(3, 4))}`;
    case 1:
      return `+${callingCode}${national}${rng.int(100, 999)}`;
    case 2:
      return '0000000000';
    case 3:
      return '123456';
    case 4:
      return `${national.slice(0, 4)}-CALL-ME`;
    default:
      return 'n/a';
  }
}

/**
 * The same mailbox written differently: case, a `+tag`, Gmail's ignored dots or googlemail.com. Each
 * normalises (lower case, no tag, Gmail dots dropped) back to the person's own address.
 */
export function emailVariant(rng: Random, email: string): string {
  const at = email.lastIndexOf('@');
  let local = email.slice(0, at);
  let domain = email.slice(at + 1);
  const gmail = domain === 'gmail.com' || domain === 'googlemail.com';
  const changes = sample(rng, ['case', 'tag', 'dots', 'domain'], rng.int(1, 2));
  for (const change of changes) {
    if (change === 'case') local = capitalise(local);
    else if (change === 'tag') local = `${local}+${rng.pick(TAGS)}`;
    else if (change === 'dots' && gmail) local = withDots(rng, local);
    else if (change === 'domain' && gmail) domain = domain === 'gmail.com' ? 'googlemail.com' : 'gmail.com';
    else local = local.toUpperCase();
  }
  if (rng.next() < 0.3) domain = domain.toUpperCase();
  return `${local}@${domain}`;
}

const TAGS = ['shop', 'promo', 'news', 'deals', 'signup', 'offers', 'insta', 'tiktok', '2025', 'w', 'brand', 'spam'];

/** An address with a `+tag` and, at Gmail, dots moved: honest people filtering their own inbox. */
export function plusAddressed(rng: Random, email: string): string {
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  const dotted = domain === 'gmail.com' && rng.next() < 0.5 ? withDots(rng, local) : local;
  return rng.next() < 0.85 || domain !== 'gmail.com' ? `${dotted}+${rng.pick(TAGS)}@${domain}` : `${dotted}@${domain}`;
}

function capitalise(local: string): string {
  return local.replace(/(^|[._])([a-z])/g, (_, sep: string, c: string) => sep + c.toUpperCase());
}

/** Gmail ignores dots: move them around the letters (never leading, trailing or doubled). */
function withDots(rng: Random, local: string): string {
  const letters = local.replaceAll('.', '');
  let out = letters[0] ?? '';
  for (let i = 1; i < letters.length; i++) out += (rng.next() < 0.25 && out.at(-1) !== '.' ? '.' : '') + letters[i];
  return out;
}

/** Domains mailchecker lists as disposable (checked in tests). */
export const DISPOSABLE_DOMAINS = [
  'mailinator.com', 'yopmail.com', '10minutemail.com', 'guerrillamail.com', 'trashmail.com', 'sharklasers.com',
  'temp-mail.org', 'throwawaymail.com', 'maildrop.cc', 'getnada.com', 'dispostable.com', 'mailnesia.com',
  'tempmail.net', 'fakeinbox.com', 'mohmal.com', 'emailondeck.com', 'discard.email', 'mytemp.email', 'yopmail.fr',
  'grr.la', 'burnermail.io', 'trash-mail.com',
];

/** Misspellings of the big free-mail domains. */
export const TYPO_DOMAINS = [
  'gmial.com', 'gmai.com', 'gmail.co', 'gamil.com', 'gnail.com', 'gmaill.com', 'gmail.con', 'hotmial.com', 'hotmal.com',
  'hotmail.con', 'hotmai.com', 'yaho.com', 'yahooo.com', 'yahoo.con', 'outlok.com', 'outloo.com', 'iclod.com',
  'icloud.co', 'gmali.com', 'outlook.cm',
];

/** Shared inboxes, not people. */
const ROLE_LOCAL_PARTS = [
  'info', 'admin', 'sales', 'contact', 'support', 'office', 'marketing', 'webmaster', 'noreply', 'no-reply',
  'billing', 'hr', 'enquiries', 'team', 'postmaster',
];

export function roleEmail(rng: Random, person: Person): string {
  const domain = rng.next() < 0.7 ? workEmail(rng, person).split('@')[1] : rng.pick(['gmail.com', 'outlook.com', 'yahoo.com']);
  const local = rng.pick(ROLE_LOCAL_PARTS);
  return `${rng.next() < 0.15 ? local.toUpperCase() : local}@${domain}`;
}

/**
 * Personal addresses that merely start with a role word ("info.ada.smith", "sales.mia"): a role-account
 * check must compare the whole local part, not a prefix.
 */
export function roleLikePersonalEmail(rng: Random, person: Person): string {
  const word = rng.pick(['info', 'sales', 'admin', 'contact', 'support']);
  return `${word}.${person.first}.${person.last}${person.number}@${rng.pick(['gmail.com', 'outlook.com', 'icloud.com'])}`;
}

export function emailAt(rng: Random, person: Person, domains: readonly string[]): string {
  return `${person.email.slice(0, person.email.lastIndexOf('@'))}@${rng.pick(domains)}`;
}

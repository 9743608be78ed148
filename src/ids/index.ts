import { randomBytes } from 'node:crypto';

/**
 * Prefixed, time-sortable ids (`cmp_01jd…`): a prefix naming the kind, then 10 characters of
 * millisecond time and 16 of randomness in Crockford's base32 (a ULID). Sorting ids sorts by creation
 * time; the prefix makes a pasted id self-explaining and lets the API refuse an id of the wrong kind.
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export const ID_PREFIXES = [
  'org', 'cr', 'op', 'key', 'cmp', 'enr', 'clk', 'cnv', 'res', 'dep', 'wd', 'po', 'vr', 'req',
] as const;
export type IdPrefix = (typeof ID_PREFIXES)[number];

export function newId(prefix: IdPrefix, now = Date.now()): string {
  return `${prefix}_${encodeTime(now)}${encodeRandom(16)}`;
}

export function hasPrefix(id: string, prefix: IdPrefix): boolean {
  return new RegExp(`^${prefix}_[0-9a-hjkmnp-tv-z]{26}$`).test(id);
}

function encodeTime(ms: number): string {
  let out = '';
  let rest = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function encodeRandom(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % 32];
  return out;
}

/** Short random codes for links and promo codes: no look-alike characters (0/o, 1/l/i). */
const CODE_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

export function randomCode(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += CODE_ALPHABET[b % CODE_ALPHABET.length];
  return out;
}

/** A secret token of `length` base32 characters (5 bits each): 43 characters carry 215 bits. */
export function randomToken(length: number): string {
  return encodeRandom(length);
}

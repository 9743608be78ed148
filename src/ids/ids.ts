import { randomBytes } from 'node:crypto';

/**
 * Prefixed, time-sortable ids (`cmp_01jd…`): a prefix naming the kind, then 10 characters of
 * millisecond time and 16 of randomness in Crockford's base32 (a ULID). Sorting ids sorts by creation
 * time; the prefix makes a pasted id self-explaining and lets the API refuse an id of the wrong kind.
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export const ID_PREFIXES = [
  'org', 'cr', 'op', 'key', 'cmp', 'enr', 'clk', 'cnv', 'res', 'dep', 'wd', 'po', 'vr', 'req', 'vis', 'ins', 'vw', 'vb',
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

/**
 * Random bytes are drawn from the CSPRNG a pool at a time (as node's randomUUID does): one system
 * call per 256 ids instead of one per id, which shows on the click redirect. Each byte is used once.
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

function takeRandom(length: number): Buffer {
  if (length > POOL_BYTES) return randomBytes(length);
  if (poolOffset + length > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  const bytes = pool.subarray(poolOffset, poolOffset + length);
  poolOffset += length;
  return bytes;
}

function encodeRandom(length: number): string {
  const bytes = takeRandom(length);
  let out = '';
  // 256 is a multiple of 32: every character is equally likely.
  for (let i = 0; i < length; i++) out += ALPHABET[(bytes[i] as number) % 32];
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

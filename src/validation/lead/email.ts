import { domainToASCII } from 'node:url';
import MailChecker from 'mailchecker';
import validator from 'validator';
import { normaliseEmail } from '../index.js';

/** A syntactically valid email, split the way every later check needs it. */
export interface ParsedEmail {
  /** Local part as in the key: lower case, without its `+tag`. */
  local: string;
  /** Domain in ASCII (IDNA/punycode) form, lower case: what lists and DNS know it by. */
  domain: string;
  /** The key two leads are compared by for duplicates. */
  key: string;
}

/**
 * Parses a raw email: null when it is not an address (validator's RFC 5322 check, TLD required, no
 * IP-literal domains, no display names). The domain is converted to ASCII so that "bücher.de" and
 * "xn--bcher-kva.de" are one domain for the lists and one key for duplicates, and the whole address is
 * Unicode-normalised (NFC) so that an "é" typed composed or decomposed is one mailbox.
 */
export function parseEmail(raw: string): ParsedEmail | null {
  const email = raw.trim().normalize('NFC');
  if (!validator.isEmail(email)) return null;
  const at = email.lastIndexOf('@');
  const domain = domainToASCII(email.slice(at + 1));
  // validator accepts some Unicode labels that IDNA refuses; an address with no ASCII form cannot be mailed.
  if (domain === '') return null;
  const key = normaliseEmail(`${email.slice(0, at)}@${domain}`);
  return { local: key.slice(0, key.lastIndexOf('@')), domain, key };
}

/** mailchecker's list (~56k domains), a module-level Set: looking a domain up is one hash probe per label. */
const DISPOSABLE_DOMAINS: ReadonlySet<string> = MailChecker.blacklist();

/** A disposable domain or any subdomain of one (how mailchecker itself matches). */
export function isDisposableDomain(domain: string): boolean {
  for (let d = domain; ; ) {
    if (DISPOSABLE_DOMAINS.has(d)) return true;
    const dot = d.indexOf('.');
    if (dot === -1) return false;
    d = d.slice(dot + 1);
  }
}

/**
 * Mailboxes that belong to a function, not a person: the RFC 2142 names (postmaster, hostmaster,
 * webmaster, abuse, noc, security, info, marketing, sales, support), system accounts, and the usual
 * company inboxes. Compared with dots, hyphens and underscores removed, so "no-reply", "no_reply" and
 * "noreply" are one entry.
 */
const ROLE_LOCAL_PARTS: ReadonlySet<string> = new Set([
  'abuse', 'accounting', 'accounts', 'admin', 'administrator', 'all', 'billing', 'careers', 'compliance',
  'contact', 'customercare', 'customerservice', 'donotreply', 'enquiries', 'enquiry', 'everyone', 'feedback',
  'finance', 'hello', 'help', 'helpdesk', 'hostmaster', 'hr', 'info', 'information', 'inquiries', 'inquiry',
  'it', 'jobs', 'legal', 'mailerdaemon', 'marketing', 'media', 'newsletter', 'noc', 'noreply', 'office',
  'orders', 'postmaster', 'press', 'privacy', 'recruitment', 'root', 'sales', 'security', 'service',
  'staff', 'support', 'sysadmin', 'team', 'tech', 'webmaster',
]);

export function isRoleAccount(local: string): boolean {
  return ROLE_LOCAL_PARTS.has(local.replace(/[._-]/g, ''));
}

/**
 * The big free-mail domains whose misspellings are worth catching. Misspelling one of these loses the
 * customer: the address silently reaches nobody (or a typo-squatter).
 */
const TYPO_TARGETS = [
  'gmail.com', 'googlemail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'icloud.com', 'aol.com',
  'live.com', 'msn.com', 'protonmail.com', 'yandex.ru', 'comcast.net', 'hotmail.co.uk', 'yahoo.co.uk',
] as const;

/**
 * Real mail domains that are never typos, among them those one or two edits from a target: mail.com and
 * email.com (mail.com's own service), ymail.com (Yahoo), gmx.*, me.com/mac.com (Apple), cloud.com (a
 * company), and the providers' country domains.
 */
const KNOWN_DOMAINS: ReadonlySet<string> = new Set([
  ...TYPO_TARGETS,
  'mail.com', 'email.com', 'ymail.com', 'rocketmail.com', 'gmx.com', 'gmx.net', 'gmx.de', 'gmx.at', 'gmx.ch',
  'me.com', 'mac.com', 'cloud.com', 'aim.com', 'web.de', 'proton.me', 'pm.me', 'yandex.com', 'ya.ru',
  'mail.ru', 'hotmail.fr', 'hotmail.de', 'hotmail.it', 'hotmail.es', 'live.co.uk', 'live.fr', 'outlook.fr',
  'yahoo.fr', 'yahoo.de', 'yahoo.ca', 'yahoo.co.jp',
]);

interface TypoTarget { label: string; suffix: string; labelEdits: number; suffixEdits: number }

/**
 * How far a domain may stray from a target and still be called a typo. The first label ("gmail") may take
 * 1 edit from 5 letters and 2 from 8 up ("googlemail"); a label of 4 letters or fewer ("aol", "live")
 * none, because every short label is one edit from some real domain, and 7 letters only 1, because
 * two edits already turn "hotmail" into real services (yopmail, mozmail). The suffix ("com") may take 1 edit when it has 3
 * characters or more, so gmail.co / gmail.cm / gmail.con are typos, while a 2-letter country code takes
 * none: gmx.de → gmx.dk is one edit between two real countries.
 */
const TARGETS: readonly TypoTarget[] = TYPO_TARGETS.map((domain) => {
  const dot = domain.indexOf('.');
  const label = domain.slice(0, dot);
  const suffix = domain.slice(dot + 1);
  return {
    label,
    suffix,
    labelEdits: label.length >= 8 ? 2 : label.length >= 5 ? 1 : 0,
    suffixEdits: suffix.length >= 3 ? 1 : 0,
  };
});

/** An obvious misspelling of a big free-mail domain (gmial.com, gmail.co, hotmial.com, yaho.com…). */
export function isTypoDomain(domain: string): boolean {
  if (KNOWN_DOMAINS.has(domain)) return false;
  const dot = domain.indexOf('.');
  if (dot === -1) return false;
  const label = domain.slice(0, dot);
  const suffix = domain.slice(dot + 1);
  return TARGETS.some(
    (t) =>
      editDistanceWithin(suffix, t.suffix, t.suffixEdits) && editDistanceWithin(label, t.label, t.labelEdits),
  );
}

/**
 * Whether the optimal-string-alignment distance (insertions, deletions, substitutions and swaps of two
 * neighbouring letters, "gmial" → "gmail" being one) between a and b is at most max.
 */
export function editDistanceWithin(a: string, b: string, max: number): boolean {
  if (Math.abs(a.length - b.length) > max) return false;
  if (a === b) return true;
  if (max === 0) return false;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      row.push(d);
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > max) return false;
    prev2 = prev;
    prev = row;
  }
  return prev[b.length]! <= max;
}

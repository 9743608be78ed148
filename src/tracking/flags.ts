import { type ClickStatus, isAutomatedAgent } from '../validation/index.js';

export { CLICK_STATUSES, type ClickStatus, isAutomatedAgent } from '../validation/index.js';

/** A click's flags (which clicks are paid) are validation's rules: src/validation/clicks.ts. */
export const REPEAT_WINDOW_MS = 60 * 60 * 1000;

/** A click's flag when it is accepted: `head` for HEAD, `bot` for automation, else `valid` until written. */
export function statusAtAccept(method: string, userAgent: string | null): ClickStatus {
  if (method === 'HEAD') return 'head';
  return isAutomatedAgent(userAgent) ? 'bot' : 'valid';
}

/**
 * The visitor's country from a trusted CDN header: two letters, upper-cased. `XX` (Cloudflare's
 * "unknown") and anything else (`T1` for Tor, garbage) are null.
 */
export function countryFrom(value: string | string[] | undefined): string | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return null;
  const code = raw.trim().toUpperCase();
  return /^[A-Z]{2}$/.test(code) && code !== 'XX' ? code : null;
}

/** One visitor on one link: what repeat detection compares. */
export function visitorKey(enrolmentId: string, ipHash: string, userAgent: string | null): string {
  return `${enrolmentId}\n${ipHash}\n${userAgent ?? ''}`;
}

export interface RepeatCandidate {
  key: string;
  occurredMs: number;
  status: ClickStatus;
}

/**
 * Marks as `repeat` every would-be-valid click within REPEAT_WINDOW_MS of a valid click of the same
 * visitor: one already written (`written`, valid clicks' times by key, before or after — another
 * process may have written a later one first) or an earlier one of this batch. Clicks are taken in
 * time order, so the first of a burst is the valid one. Mutates `status`.
 */
export function markRepeats(clicks: RepeatCandidate[], written: ReadonlyMap<string, readonly number[]>): void {
  const valid = new Map<string, number[]>();
  for (const [key, times] of written) valid.set(key, [...times]);
  const ordered = clicks.filter((c) => c.status === 'valid').sort((a, b) => a.occurredMs - b.occurredMs);
  for (const click of ordered) {
    const times = valid.get(click.key) ?? [];
    if (times.some((t) => Math.abs(t - click.occurredMs) < REPEAT_WINDOW_MS)) {
      click.status = 'repeat';
    } else {
      times.push(click.occurredMs);
      valid.set(click.key, times);
    }
  }
}

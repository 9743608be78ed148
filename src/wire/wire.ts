import { z } from 'zod';
import { AppError } from '../errors/index.js';

/**
 * The shared schema layer: what every string and time the API accepts must be, checked once at the
 * edge so that nothing a client sends can fail later inside the database (PostgreSQL refuses NUL in
 * text, lone surrogates in json, and years it cannot store) — and nothing is rewritten silently.
 *
 * - Strings are valid Unicode scalar values: no lone surrogate; no control character but tab, line
 *   feed and carriage return (NUL and the other C0 controls, and DEL, are refused).
 * - Times are RFC 3339 with an offset, between TIME_MIN and 100 years ahead.
 * - Nesting is bounded (a 64 KiB body can nest thousands of levels; no schema needs more than a few).
 */
export const WIRE_LIMITS = {
  /** Levels of arrays and objects in a body. */
  depth_max: 16,
  /** Years ahead of now a time may be. */
  years_ahead_max: 100,
} as const;

export const TIME_MIN = Date.UTC(2000, 0, 1);

/** The first character of `s` that the API refuses, with its position; undefined when none. */
export function badCharacter(s: string): { index: number; what: string } | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) continue; // the common case: printable ASCII
    if (c === 0x09 || c === 0x0a || c === 0x0d) continue;
    if (c < 0x20 || c === 0x7f) return { index: i, what: c === 0 ? 'NUL (U+0000)' : `control character U+${hex(c)}` };
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return { index: i, what: `lone surrogate U+${hex(c)}` };
    }
    if (c >= 0xdc00 && c <= 0xdfff) return { index: i, what: `lone surrogate U+${hex(c)}` };
  }
  return undefined;
}

function hex(c: number): string {
  return c.toString(16).toUpperCase().padStart(4, '0');
}

/**
 * Walks a parsed JSON value (a body, a query, path parameters) and refuses the first string — value or
 * object key — that breaks the rules above, or nesting deeper than depth_max, naming where it is.
 */
export function requireCleanStrings(value: unknown, where: string): void {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { value: v, path, depth } = stack.pop() as { value: unknown; path: string; depth: number };
    if (typeof v === 'string') {
      requireClean(v, path || where);
    } else if (Array.isArray(v)) {
      nested(depth, path, where);
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: `${path}${path ? '.' : ''}${i}`, depth: depth + 1 });
    } else if (typeof v === 'object' && v !== null) {
      nested(depth, path, where);
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, item] = entries[i] as [string, unknown];
        const at = `${path}${path ? '.' : ''}${key}`;
        if (badCharacter(key)) throw refused(path || where, `a field name contains ${badCharacter(key)?.what}`);
        stack.push({ value: item, path: at, depth: depth + 1 });
      }
    }
  }
}

function nested(depth: number, path: string, where: string): void {
  if (depth >= WIRE_LIMITS.depth_max) throw refused(path || where, `nests deeper than ${WIRE_LIMITS.depth_max} levels`);
}

function requireClean(s: string, field: string): void {
  const bad = badCharacter(s);
  if (bad) throw refused(field, `contains ${bad.what} at position ${bad.index}; send valid Unicode text without control characters`);
}

function refused(field: string, message: string): AppError {
  return new AppError('invalid_request', `${field}: ${message}`, { details: { field } });
}

/** Whether `ms` is a time Earnest stores: from the year 2000 to 100 years ahead of now. */
export function isSaneTime(ms: number, nowMs = Date.now()): boolean {
  const latest = new Date(nowMs);
  latest.setUTCFullYear(latest.getUTCFullYear() + WIRE_LIMITS.years_ahead_max);
  return Number.isFinite(ms) && ms >= TIME_MIN && ms <= latest.getTime();
}

/** An RFC 3339 time with an offset, in the window Earnest stores (`isSaneTime`). */
export function timestamp() {
  return z.iso
    .datetime({ offset: true, error: 'must be an RFC 3339 time with an offset, e.g. 2026-12-04T14:25:17Z' })
    .max(40)
    .refine((s) => isSaneTime(Date.parse(s)), `must be between ${new Date(TIME_MIN).toISOString().slice(0, 4)} and ${WIRE_LIMITS.years_ahead_max} years ahead`);
}

import { assert } from '../errors/index.js';

/**
 * Calendar dates and wall clocks in an IANA time zone, with nothing but Intl: the offset of a zone at
 * an instant is read back from `Intl.DateTimeFormat`, so DST rules, half-hour zones and historical
 * changes all come from the runtime's tz database.
 */
export interface LocalDate {
  year: number;
  /** 1–12 */
  month: number;
  /** 1–31 */
  day: number;
}

const DAY_MS = 86_400_000;
const SECOND_MS = 1000;

/** True when Intl knows the zone. Offsets such as "+05:30" are not IANA names and are refused by the caller's shape check. */
export function isKnownTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

// One formatter per zone: building one is far dearer than formatting with it. Only names Intl
// accepted are cached, so the map is bounded by the tz database.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      calendar: 'gregory',
      numberingSystem: 'latn',
      // h23, not hour12: false, which some engines render as "24" at midnight.
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** `Date.UTC` without its two-digit-year quirk (years 0–99 would become 1900–1999). */
function utcMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

/** The zone's wall clock at `t`, read as if it were UTC (whole seconds). */
function wallClockMs(t: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(t))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return utcMs(parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!);
}

/** Local time minus UTC at instant `t`, in milliseconds (Kolkata: +5h30; New York in July: −4h). */
function offsetAt(t: number, timeZone: string): number {
  const wholeSecond = t - (((t % SECOND_MS) + SECOND_MS) % SECOND_MS);
  return wallClockMs(wholeSecond, timeZone) - wholeSecond;
}

export function localDateOf(t: number, timeZone: string): LocalDate {
  const wall = new Date(wallClockMs(t, timeZone));
  return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate() };
}

/** Calendar arithmetic, independent of any zone (months and years roll over). */
export function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(utcMs(date.year, date.month, date.day) + days * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** ISO weekday: 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: LocalDate): number {
  const sundayZero = new Date(utcMs(date.year, date.month, date.day)).getUTCDay();
  return sundayZero === 0 ? 7 : sundayZero;
}

/** ISO 8601 week-numbering year and week of a date (the week belongs to the year of its Thursday). */
export function isoWeek(date: LocalDate): { year: number; week: number } {
  const thursday = addDays(date, 4 - isoWeekday(date));
  const dayOfYear = (utcMs(thursday.year, thursday.month, thursday.day) - utcMs(thursday.year, 1, 1)) / DAY_MS + 1;
  return { year: thursday.year, week: Math.floor((dayOfYear - 1) / 7) + 1 };
}

/**
 * The first instant (ms) of a local calendar day: local midnight, converted with the offset in force
 * then. Two cases need care:
 * - midnight repeated (a fall-back at 01:00 → 00:00, as in Amman until 2022): the day starts at the
 *   first midnight, the earlier instant;
 * - midnight skipped (a spring-forward at 00:00 → 01:00, as in Santiago): the day starts at the
 *   transition, when the clock jumps to 01:00; found by bisection between the two offsets.
 * The offsets a day before and after the wall time bracket every real transition (tz rules never put
 * two transitions within a day of each other).
 */
export function startOfLocalDay(date: LocalDate, timeZone: string): number {
  const key = `${timeZone} ${date.year}-${date.month}-${date.day}`;
  let start = dayStarts.get(key);
  if (start === undefined) {
    // Bounded: campaigns ask for a handful of period boundaries, each again and again.
    if (dayStarts.size >= MAX_REMEMBERED_DAYS) dayStarts.clear();
    start = computeStartOfLocalDay(date, timeZone);
    dayStarts.set(key, start);
  }
  return start;
}

// Period boundaries are asked for once per result: remembering them makes periodOf one Intl call
// instead of a dozen.
const dayStarts = new Map<string, number>();
const MAX_REMEMBERED_DAYS = 10_000;

function computeStartOfLocalDay(date: LocalDate, timeZone: string): number {
  const wall = utcMs(date.year, date.month, date.day);
  const candidates = [...new Set([-DAY_MS, 0, DAY_MS].map((d) => wall - offsetAt(wall + d, timeZone)))];
  const exact = candidates.filter((t) => t + offsetAt(t, timeZone) === wall);
  if (exact.length > 0) return Math.min(...exact);
  // Local midnight does not exist: find the earliest instant whose wall clock is past it.
  const reached = (t: number) => t + offsetAt(t, timeZone) >= wall;
  let lo = Math.min(...candidates);
  let hi = Math.max(...candidates);
  assert(!reached(lo) && reached(hi), `startOfLocalDay: cannot bracket midnight of ${JSON.stringify(date)} in ${timeZone}`);
  while (hi - lo > SECOND_MS) {
    const mid = lo + Math.floor((hi - lo) / 2 / SECOND_MS) * SECOND_MS;
    if (reached(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

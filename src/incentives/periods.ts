import { assert } from '../errors/index.js';
import { type Incentives, WEEKDAYS } from './schema.js';
import { addDays, isoWeek, isoWeekday, type LocalDate, localDateOf, startOfLocalDay } from './zoned.js';

/**
 * Incentive periods: the stretches of time a creator's results are counted over for tiers and caps.
 * A period is half-open, [start, end), like the campaign itself (a result recorded at ends_at is
 * refused): month and week boundaries are local midnight in the campaign's time zone, then clipped to
 * the campaign, so the first and last periods may be shorter than a calendar month or week.
 */
export interface Period {
  /**
   * The calendar period's name, unique within a campaign and sorting chronologically: "campaign";
   * "2026-11" for a month; "2026-W47" for an ISO week (weeks starting on Monday); for weeks starting
   * on another day, the local date the week starts on, "2026-11-15". A clipped period keeps the key of
   * the calendar period it is part of.
   */
  key: string;
  start: Date;
  end: Date;
}

export type PeriodRule = Pick<Incentives, 'period' | 'time_zone' | 'week_starts_on'>;

/** The campaign's window, [starts_at, ends_at). */
export interface CampaignWindow {
  starts_at: Date;
  ends_at: Date;
}

/**
 * The period containing `instant`. The instant must fall inside the campaign (a paid result's
 * recording time always does); anything else is a programmer error.
 */
export function periodOf(instant: Date, rule: PeriodRule, campaign: CampaignWindow): Period {
  const t = instant.getTime();
  const { from, to } = window(campaign);
  assert(t >= from && t < to, `periodOf: ${instant.toISOString()} is outside the campaign`);
  const calendar = calendarPeriod(t, rule);
  if (calendar === null) return { key: 'campaign', start: new Date(from), end: new Date(to) };
  return { key: calendar.key, start: new Date(Math.max(calendar.start, from)), end: new Date(Math.min(calendar.end, to)) };
}

/**
 * Every period that overlaps [start, end) within the campaign, in order; contiguous, so the last
 * one's end is the next one's start. Empty when the range misses the campaign.
 */
export function periodsBetween(start: Date, end: Date, rule: PeriodRule, campaign: CampaignWindow): Period[] {
  const { from, to } = window(campaign);
  const last = Math.min(end.getTime(), to);
  const periods: Period[] = [];
  for (let t = Math.max(start.getTime(), from); t < last; ) {
    const p = periodOf(new Date(t), rule, campaign);
    periods.push(p);
    t = p.end.getTime();
  }
  return periods;
}

/** Closed once its end has passed: nothing recorded later belongs to it. */
export function isClosed(period: Period, now: Date): boolean {
  return now.getTime() >= period.end.getTime();
}

function window(campaign: CampaignWindow): { from: number; to: number } {
  const from = campaign.starts_at.getTime();
  const to = campaign.ends_at.getTime();
  assert(from < to, 'a campaign must end after it starts');
  return { from, to };
}

function calendarPeriod(t: number, rule: PeriodRule): { key: string; start: number; end: number } | null {
  if (rule.period === 'campaign') return null;
  const zone = rule.time_zone;
  const today = localDateOf(t, zone);
  switch (rule.period) {
    case 'month': {
      const first: LocalDate = { year: today.year, month: today.month, day: 1 };
      const next: LocalDate = today.month === 12 ? { year: today.year + 1, month: 1, day: 1 } : { year: today.year, month: today.month + 1, day: 1 };
      return { key: `${pad(first.year, 4)}-${pad(first.month, 2)}`, start: startOfLocalDay(first, zone), end: startOfLocalDay(next, zone) };
    }
    case 'week': {
      const startsOn = WEEKDAYS.indexOf(rule.week_starts_on) + 1;
      const first = addDays(today, -((isoWeekday(today) - startsOn + 7) % 7));
      return { key: weekKey(first, startsOn), start: startOfLocalDay(first, zone), end: startOfLocalDay(addDays(first, 7), zone) };
    }
  }
}

function weekKey(first: LocalDate, startsOn: number): string {
  if (startsOn === 1) {
    const { year, week } = isoWeek(first);
    return `${pad(year, 4)}-W${pad(week, 2)}`;
  }
  return `${pad(first.year, 4)}-${pad(first.month, 2)}-${pad(first.day, 2)}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

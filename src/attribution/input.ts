import { z } from 'zod';
import { AppError } from '../errors/index.js';
import { journeyProblem } from './journeys.js';

/**
 * One line of `earnest attribute`'s input: `{"path":[…],"conversions":n,"nulls":m,"days_before":[…]?}`.
 * Fields this version does not know are ignored (as `earnest score` does), so a producer may add its
 * own; `days_before: null` reads as absent.
 */
export interface JourneyLine {
  path: string[];
  conversions: number;
  nulls: number;
  daysBefore: number[] | undefined;
}

const COUNT = 'must be a non-negative integer';
const count = z.int({ error: COUNT }).nonnegative({ error: COUNT });

const lineSchema = z.object({
  path: z.array(z.string({ error: 'must be a creator id (a string)' }).min(1, { error: 'must be a non-empty creator id' }), {
    error: 'must be an array of creator ids',
  }).min(1, { error: 'must list at least one creator' }),
  conversions: count,
  nulls: count,
  days_before: z
    .array(z.number({ error: 'must be a number of days' }).nonnegative({ error: 'must be a non-negative number of days' }), {
      error: 'must be an array of numbers of days, one per touch',
    })
    .nullish(),
});

/** Parses one line or throws a one-line AppError naming the line and the field at fault. */
export function parseJourneyLine(text: string, lineNumber: number): JourneyLine {
  const fail = (message: string) => new AppError('invalid_request', `line ${lineNumber}: ${message}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw fail('not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('not a JSON object');
  const parsed = lineSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path ?? [];
    const field = path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').slice(1);
    const given = path.reduce<unknown>((at, key) => (at as Record<PropertyKey, unknown> | undefined)?.[key], value);
    throw fail(`${field}: ${given === undefined ? 'missing' : (issue?.message ?? 'invalid')}`);
  }
  const line = { path: parsed.data.path, conversions: parsed.data.conversions, nulls: parsed.data.nulls, daysBefore: parsed.data.days_before ?? undefined };
  const problem = journeyProblem(line);
  if (problem !== undefined) throw fail(problem);
  return line;
}

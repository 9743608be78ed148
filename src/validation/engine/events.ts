import { z } from 'zod';
import { ruleSettingsSchema } from './settings.js';

/** What a campaign pays for: clicks, leads, sales (fixed or a share of the order) or verified views. */
export const OBJECTIVES = ['cpc', 'cpl', 'cpa_fixed', 'cpa_percent', 'cpm'] as const;
export type Objective = (typeof OBJECTIVES)[number];

/**
 * The input of `earnest score` (issue #4 §4): JSON Lines in time order, each with a `type`.
 * - A field the issue marks `|null` may also be left out; it reads as null.
 * - Fields this version does not know are ignored, so a newer producer's files still score (forward
 *   compatibility). Rule settings are the exception: an unknown key in `rules` is an error, because a
 *   misspelt rule would otherwise silently keep its default.
 * - Customer fields (email, phone, country, age) are taken as given: judging them is lead quality's job,
 *   so a bad email is a verdict, not a malformed line.
 * - Two optional click fields beyond the issue's format, for the tracking server's own traffic:
 *   `method` (HTTP method, default GET) and `prefetch` (true when the browser said it was prefetching).
 */

const id = z.string().min(1).max(200);
const nullable = <T extends z.ZodType>(schema: T) => schema.nullable().default(null);
const timestamp = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time with a zone, e.g. 2025-01-31T12:00:00Z' });
const ip = z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' });
const LEAD_FIELDS = ['email', 'phone', 'country', 'age'] as const;

export const campaignEventSchema = z
  .object({
    type: z.literal('campaign'),
    id,
    objective: z.enum(OBJECTIVES),
    attribution_window_days: z.number().int().min(1).max(365),
    target_countries: nullable(z.array(z.string().regex(/^[A-Za-z]{2}$/, 'must be ISO 3166-1 alpha-2 codes'))),
    age_min: nullable(z.number().int().min(0).max(150)),
    age_max: nullable(z.number().int().min(0).max(150)),
    paid_traffic: z.enum(['allowed', 'forbidden']),
    required_fields: z.array(z.enum(LEAD_FIELDS)),
    rules: ruleSettingsSchema,
    /**
     * The campaign's traffic that is not in this stream — valid clicks, and valid conversions through
     * them, of other creators — added to the stream's own when a creator's conversion rate is compared
     * with the campaign's (the server re-checks one creator's traffic at a time). Optional.
     */
    baseline: z
      .strictObject({
        clicks: z.number().int().min(0),
        conversions: z.number().int().min(0),
        /**
         * The best-converting of those creators (the most conversions above the pooled rate), counted in
         * the totals too: the comparison leaves it out, so a star does not raise everyone's bar. Optional.
         */
        top: z
          .strictObject({ clicks: z.number().int().min(0), conversions: z.number().int().min(0) })
          .refine((b) => b.conversions <= b.clicks, { path: ['conversions'], message: 'must not exceed clicks' })
          .nullable()
          .optional(),
        /** How many creators the counts cover (with `top`). */
        creators: z.number().int().min(1).nullable().optional(),
      })
      .refine((b) => b.conversions <= b.clicks, { path: ['conversions'], message: 'must not exceed clicks' })
      .refine((b) => !b.top || (b.top.clicks <= b.clicks && b.top.conversions <= b.conversions), { path: ['top'], message: 'must be part of the totals' })
      .nullable()
      .optional(),
  })
  .refine((c) => c.age_min === null || c.age_max === null || c.age_min <= c.age_max, {
    path: ['age_max'],
    message: 'must not be below age_min',
  });

export const creatorEventSchema = z.object({
  type: z.literal('creator'),
  id,
  email: z.string().max(320),
  phone: nullable(z.string().max(64)),
});

export const clickEventSchema = z.object({
  type: z.literal('click'),
  id,
  ts: timestamp,
  campaign: id,
  creator: id,
  ip,
  /** The User-Agent header; an empty string means the client sent none. */
  ua: z.string().max(2048),
  referrer: nullable(z.string().max(2048)),
  landing_url: z.string().min(1).max(8192),
  method: z.string().min(1).max(16).default('GET'),
  prefetch: z.boolean().default(false),
});

export const conversionEventSchema = z.object({
  type: z.literal('conversion'),
  id,
  ts: timestamp,
  campaign: id,
  event: z.enum(['lead', 'sale']),
  click_id: nullable(id),
  promo_code: nullable(z.string().min(1).max(64)),
  creator: nullable(id),
  ip: nullable(ip),
  ua: nullable(z.string().max(2048)),
  customer: z.object({
    id,
    email: nullable(z.string().max(320)),
    phone: nullable(z.string().max(64)),
    country: nullable(z.string().max(64)),
    age: nullable(z.number()),
  }),
  amount: nullable(z.union([z.string().max(40).regex(/^\d+(\.\d+)?$/, 'must be a decimal such as "12.50"'), z.number().nonnegative()])),
  currency: nullable(z.string().length(3).regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD')),
});

export type CampaignEvent = z.output<typeof campaignEventSchema>;
export type CreatorEvent = z.output<typeof creatorEventSchema>;
export type ClickEvent = z.output<typeof clickEventSchema>;
export type ConversionEvent = z.output<typeof conversionEventSchema>;
export type EngineEvent = CampaignEvent | CreatorEvent | ClickEvent | ConversionEvent;

const SCHEMAS = {
  campaign: campaignEventSchema,
  creator: creatorEventSchema,
  click: clickEventSchema,
  conversion: conversionEventSchema,
} as const;

export type ParsedLine = { ok: true; event: EngineEvent } | { ok: false; error: string };

/**
 * One input line as an event, or a one-line error naming the line number and the field at fault:
 * `line 7: click.ip: must be an IPv4 or IPv6 address`.
 */
export function parseEventLine(text: string, lineNumber: number): ParsedLine {
  const fail = (message: string): ParsedLine => ({ ok: false, error: `line ${lineNumber}: ${message}` });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('not a JSON object');
  const type = (value as { type?: unknown }).type;
  if (type === undefined) return fail('missing "type"');
  if (typeof type !== 'string' || !Object.hasOwn(SCHEMAS, type)) {
    return fail(`unknown type ${JSON.stringify(type)} (expected campaign, creator, click or conversion)`);
  }
  const parsed = SCHEMAS[type as keyof typeof SCHEMAS].safeParse(value);
  if (parsed.success) return { ok: true, event: parsed.data };
  const issue = parsed.error.issues[0];
  const field = [type, ...(issue?.path ?? []).map(String)].join('.');
  return fail(`${field}: ${describeIssue(issue)}`);
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'invalid';
  if (issue.code === 'invalid_type' && / received undefined$/.test(issue.message)) return 'missing';
  return issue.message.replace(/\s*\n\s*/g, ' ');
}

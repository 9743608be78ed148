import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors/index.js';
import { timestamp } from '../wire/index.js';
import { formatAmount, parseAmount } from '../money/index.js';

/**
 * A brand's conversion as it arrives, and the normalised request that is stored, hashed and compared
 * when the same external_id comes again (the idempotency key).
 */
/** Click ids one conversion may carry (a journey longer than this is a scraper's, not a customer's). */
export const MAX_CLICK_IDS = 50;

/** A conversion may be dated at most this far ahead of the database clock (clock skew). */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

/** When the conversion happened: as sent, or now; refused when it is further ahead than MAX_FUTURE_SKEW_MS. */
export function occurredAtOf(request: Pick<ConversionRequest, 'occurred_at'>, now: Date): Date {
  const occurredAt = request.occurred_at ? new Date(request.occurred_at) : now;
  if (occurredAt.getTime() > now.getTime() + MAX_FUTURE_SKEW_MS) {
    throw new AppError('invalid_request', `occurred_at is in the future (now is ${now.toISOString()})`, { details: { field: 'occurred_at' } });
  }
  return occurredAt;
}

export const CONVERSION_TYPES = ['lead', 'sale'] as const;
export type ConversionType = (typeof CONVERSION_TYPES)[number];

export const conversionInputSchema = z
  .strictObject({
    external_id: z.string().min(1).max(200).describe("The brand's own id for this conversion (order or sign-up id): the idempotency key"),
    type: z.enum(CONVERSION_TYPES),
    click_id: z.string().min(1).max(100).optional().describe('The Earnest click id: the ern_cid parameter the tracking redirect added to your landing page URL'),
    click_ids: z
      .array(z.string().min(1).max(100))
      .min(1)
      .max(MAX_CLICK_IDS)
      .optional()
      .describe("Every Earnest click id the customer came through (Earnest.clickIds() from /s.js): the journey multi-touch attribution splits"),
    promo_code: z.string().min(1).max(64).optional(),
    sku: z.string().min(1).max(64).optional().describe('The product sold, for campaigns whose rates depend on it'),
    customer: z.strictObject({
      id: z.string().min(1).max(200).describe("The brand's id for the customer"),
      email: z.email().max(320).optional(),
      phone: z.string().max(32).regex(/^\+?[0-9 ().-]{4,31}$/, 'a phone number such as +14155550100').optional(),
      country: z.string().length(2).regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code such as US').optional(),
      age: z.number().int().min(0).max(150).optional().describe("The customer's age, for campaigns that target ages"),
      ip: z
        .union([z.ipv4().max(15), z.ipv6().max(45)], { error: 'an IPv4 or IPv6 address' })
        .optional()
        .describe("The customer's IP address when they converted: judged, then kept only as a salted hash"),
      user_agent: z.string().min(1).max(2048).optional().describe("The customer's browser (User-Agent header) when they converted"),
    }),
    amount: z
      .string()
      .max(40)
      .regex(/^\d+(\.\d+)?$/, 'must be a positive decimal string such as "12.50"')
      .optional()
      .describe('Sales only: the order value in the major unit, exact'),
    currency: z.string().length(3).regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD').optional(),
    occurred_at: timestamp().optional().describe('When it happened; default: when it is received'),
  })
  .superRefine((v, ctx) => {
    for (const field of ['amount', 'currency'] as const) {
      if (v.type === 'sale' && v[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `a sale needs ${field}` });
      if (v.type === 'lead' && v[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: `a lead takes no ${field}` });
    }
  });
export type ConversionInput = z.infer<typeof conversionInputSchema>;

/** Every field present (null when absent), amounts formatted and times in UTC: one form per meaning. */
export interface ConversionRequest {
  external_id: string;
  type: ConversionType;
  click_id: string | null;
  /** Sorted, without duplicates; null when none were sent. */
  click_ids: string[] | null;
  promo_code: string | null;
  sku: string | null;
  customer: { id: string; email: string | null; phone: string | null; country: string | null; age: number | null };
  amount: string | null;
  currency: string | null;
  occurred_at: string | null;
}

/** The order in which a changed retry names the first field that differs (error.field). */
export const COMPARED_FIELDS = [
  'type',
  'click_id',
  'promo_code',
  'customer.id',
  'customer.email',
  'customer.phone',
  'customer.country',
  'amount',
  'currency',
  'occurred_at',
  'customer.age',
  'click_ids',
  'sku',
] as const;

/** Fields added after requests were first stored: part of a request's hash only when present, so stored hashes stay valid. */
const LATER_FIELDS: ReadonlySet<(typeof COMPARED_FIELDS)[number]> = new Set(['customer.age', 'click_ids', 'sku']);

/**
 * The customer's device, when the brand sent it: evidence for validation, not part of the request's
 * identity (a retry from another address is the same conversion), and never stored as sent — the IP
 * is kept only as a salted hash.
 */
export interface Device {
  ip: string | null;
  userAgent: string | null;
}

/**
 * Normalises the input and reads the order amount exactly: "12.345" USD is inexact_amount, an unknown
 * currency unknown_currency, zero invalid_amount — before anything is recorded.
 */
export function normaliseRequest(input: ConversionInput): { request: ConversionRequest; orderAmount: bigint | null; device: Device } {
  let orderAmount: bigint | null = null;
  if (input.amount !== undefined && input.currency !== undefined) {
    orderAmount = parseAmount(input.amount, input.currency);
    if (orderAmount <= 0n) throw new AppError('invalid_amount', 'a sale amount must be more than zero', { details: { field: 'amount' } });
  }
  const request: ConversionRequest = {
    external_id: input.external_id,
    type: input.type,
    click_id: input.click_id ?? null,
    click_ids: input.click_ids === undefined ? null : [...new Set(input.click_ids)].sort(),
    promo_code: input.promo_code ?? null,
    sku: input.sku ?? null,
    customer: {
      id: input.customer.id,
      email: input.customer.email ?? null,
      phone: input.customer.phone ?? null,
      country: input.customer.country ?? null,
      age: input.customer.age ?? null,
    },
    amount: orderAmount === null ? null : formatAmount(orderAmount, input.currency as string),
    currency: input.currency ?? null,
    occurred_at: input.occurred_at === undefined ? null : new Date(input.occurred_at).toISOString(),
  };
  return { request, orderAmount, device: { ip: input.customer.ip ?? null, userAgent: input.customer.user_agent ?? null } };
}

export function requestHash(r: ConversionRequest): string {
  const later = COMPARED_FIELDS.filter((f) => LATER_FIELDS.has(f) && fieldOf(r, f) !== null).map((f) => [f, fieldOf(r, f)]);
  const values = [r.external_id, ...COMPARED_FIELDS.filter((f) => !LATER_FIELDS.has(f)).map((f) => fieldOf(r, f)), ...later];
  return createHash('sha256').update(JSON.stringify(values)).digest('hex');
}

/** The first field (in COMPARED_FIELDS order) whose value differs, or null when the requests match. */
export function firstDifference(stored: ConversionRequest, given: ConversionRequest): string | null {
  return COMPARED_FIELDS.find((f) => fieldOf(stored, f) !== fieldOf(given, f)) ?? null;
}

function fieldOf(r: ConversionRequest, field: (typeof COMPARED_FIELDS)[number]): string | null {
  switch (field) {
    case 'customer.id':
      return r.customer.id;
    case 'customer.email':
      return r.customer.email ?? null;
    case 'customer.phone':
      return r.customer.phone ?? null;
    case 'customer.country':
      return r.customer.country ?? null;
    case 'click_ids':
      return r.click_ids?.join(',') ?? null;
    case 'sku':
      return r.sku ?? null;
    case 'customer.age':
      return r.customer.age === undefined || r.customer.age === null ? null : String(r.customer.age);
    default:
      return r[field] ?? null;
  }
}

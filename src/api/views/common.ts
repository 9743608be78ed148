import { z } from 'zod';

/**
 * The building blocks of the answers' schemas (docs/api-conventions.md, "Answers"). They describe the
 * JSON on the wire: the OpenAPI document is made from them, and the tests check every answer the
 * server sends against it (test/support/contract.ts). They never parse anything at run time.
 */

/** A time as answers give it: UTC with milliseconds (`Date` serialised). */
export const timestamp = z.iso.datetime().describe('UTC, RFC 3339 with milliseconds');

/** An amount in the currency's major unit as a decimal string, with its ISO 4217 currency. */
export const moneySchema = z
  .object({
    amount: z.string().regex(/^-?\d+(\.\d+)?$/).describe('Decimal string in the major unit, never a JSON number'),
    currency: z.string().regex(/^[A-Z]{3}$/).describe('ISO 4217'),
  })
  .meta({ id: 'Money', examples: [{ amount: '12.50', currency: 'USD' }] });

/** A prefixed, time-sortable id (`cmp_01jd…`). */
export function prefixedId(prefix: string) {
  return z.string().startsWith(`${prefix}_`).describe(`An id with the prefix ${prefix}_`);
}

/** Reason codes (`[a-z0-9_]`), as every rejected, reviewed or reversed thing carries them. */
/** The customer a conversion names (and its result shows): their id and what the brand sent of them. */
export const customerSchema = z.object({
  id: z.string(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  country: z.string().nullable(),
  age: z.number().int().nullable(),
});

export const reasonCodes = z.array(z.string()).describe('Stable reason codes, such as ctit_too_short');

/**
 * Every list's answer (docs/api-conventions.md, "Lists"): one page of rows, whether another page
 * follows, and the cursor to pass as `after` for it (null on the last page).
 */
export function listOf<T extends z.ZodType>(item: T, example?: unknown) {
  return z
    .object({
      data: z.array(item),
      has_more: z.boolean(),
      next_after: z.string().nullable().describe('The `after` of the next page; null on the last page'),
    })
    .meta(example === undefined ? {} : { examples: [{ data: [example], has_more: false, next_after: null }] });
}

/** The first example an answer's schema carries (for the OpenAPI media type's `example`). */
export function exampleOf(schema: z.ZodType): unknown {
  const examples = (z.globalRegistry.get(schema) as { examples?: unknown[] } | undefined)?.examples;
  return examples?.[0];
}

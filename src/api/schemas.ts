import { z } from 'zod';
import { formatAmount } from '../money/index.js';

/** Shared wire shapes. Amounts travel as decimal strings in the major unit ("12.50") with a currency. */
export const decimalAmount = z.string().max(40).regex(/^\d+(\.\d+)?$/, 'must be a positive decimal string such as "12.50"');

export const pageQuery = z.strictObject({
  after: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export const idParams = z.strictObject({ id: z.string().min(1).max(100) });

export const reference = z.string().max(100).regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'letters, digits and _ . : - (at most 100)');

export function money(minor: bigint, currency: string): { amount: string; currency: string } {
  return { amount: formatAmount(minor, currency), currency };
}

/** A page of a list: `next_after` is the cursor for the next page, null on the last. */
export function page<T extends { id: string }, V>(rows: T[], limit: number, view: (row: T) => V): { data: V[]; next_after: string | null } {
  return { data: rows.map(view), next_after: rows.length === limit ? (rows[rows.length - 1]?.id ?? null) : null };
}

export const errorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});

import { z } from 'zod';
import { formatAmount } from '../money/index.js';

/** Shared wire shapes. Amounts travel as decimal strings in the major unit ("12.50") with a currency. */
export const decimalAmount = z.string().max(40).regex(/^\d+(\.\d+)?$/, 'must be a positive decimal string such as "12.50"');

/** Lists: one pagination and ordering rule (./page.ts). */
export { type ListAnswer, page, pageQuery, pageRequest, whole } from './page.js';

export const idParams = z.strictObject({ id: z.string().min(1).max(100) });

export const reference = z.string().max(100).regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'letters, digits and _ . : - (at most 100)');

export function money(minor: bigint, currency: string): { amount: string; currency: string } {
  return { amount: formatAmount(minor, currency), currency };
}

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().describe('Stable: match on it (docs/api-conventions.md, "Errors")'),
      message: z.string().describe('For people'),
      field: z.string().optional().describe('The one field at fault, when there is one'),
    }),
  })
  .meta({ id: 'Error', examples: [{ error: { code: 'invalid_request', message: 'terms.rate: must be a positive decimal string such as "12.50"', field: 'terms.rate' } }] });

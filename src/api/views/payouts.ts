import { z } from 'zod';
import { PAYOUT_STATUSES } from '../../payouts/index.js';
import { listOf, moneySchema, prefixedId, timestamp } from './common.js';

const PAYOUT_EXAMPLE = {
  id: 'po_01jdx7a1b2c3d4e5f6g7h8j9k0',
  creator_id: 'cr_01jdx3m5a7b9c1d3e5f7g9h1j3',
  amount: '120.00',
  currency: 'USD',
  status: 'sent',
  provider: 'manual',
  provider_reference: 'payouts-2027-01-05T100000Z.csv',
  failure: null,
  created_at: '2027-01-05T10:00:00.000Z',
  sent_at: '2027-01-05T10:00:01.000Z',
  finished_at: null,
};

export const payoutSchema = z
  .object({
    id: prefixedId('po'),
    creator_id: prefixedId('cr'),
    amount: z.string(),
    currency: z.string(),
    status: z.enum(PAYOUT_STATUSES),
    provider: z.string(),
    provider_reference: z.string().nullable().describe("The provider's batch (for manual payouts, the CSV file's name)"),
    failure: z.string().nullable(),
    created_at: timestamp,
    sent_at: timestamp.nullable(),
    finished_at: timestamp.nullable(),
  })
  .meta({ id: 'Payout', examples: [PAYOUT_EXAMPLE] });

export const payoutListSchema = listOf(payoutSchema, PAYOUT_EXAMPLE);

export const payoutRunSchema = z
  .object({
    batches: z.array(z.string()),
    created: z.number().int(),
    pending: z.number().int(),
    sent: z.number().int(),
    completed: z.number().int(),
    failed: z.number().int(),
  })
  .meta({ id: 'PayoutRun', examples: [{ batches: ['payouts-2027-01-05T100000Z.csv'], created: 3, pending: 0, sent: 3, completed: 0, failed: 0 }] });

const usd = (amount: string) => ({ amount, currency: 'USD' });
export const balanceListSchema = listOf(
  z
    .object({ currency: z.string(), available: moneySchema, pending: moneySchema, in_transit: moneySchema, receivable: moneySchema })
    .meta({ id: 'CreatorBalance' }),
  { currency: 'USD', available: usd('42.00'), pending: usd('7.50'), in_transit: usd('120.00'), receivable: usd('0.00') },
);

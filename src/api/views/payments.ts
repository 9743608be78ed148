import { z } from 'zod';
import { FAILURE_CODES } from '../../payments/index.js';
import { listOf, moneySchema, prefixedId, timestamp } from './common.js';

const movementShape = z
  .object({
    id: z.string(),
    org_id: prefixedId('org'),
    kind: z.enum(['deposit', 'withdrawal']),
    reference: z.string().describe('The business key: unique per brand and kind'),
    campaign_id: prefixedId('cmp').nullable(),
    amount: z.string(),
    currency: z.string(),
    provider: z.string().nullable(),
    provider_reference: z.string().nullable(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    failure_code: z.enum(FAILURE_CODES).nullable().describe('Why a failed movement was refused'),
    failure: z.string().nullable(),
    created_at: timestamp,
  });

const MOVEMENT_EXAMPLE = {
  id: 'dep_01jdx3r1s2t3v4w5x6y7z8a9b0',
  org_id: 'org_01jdx3k2v8m4q6r7s9t0w1y2z3',
  kind: 'deposit',
  reference: 'topup-2026-12-04',
  campaign_id: null,
  amount: '1000.00',
  currency: 'USD',
  provider: 'test',
  provider_reference: 'test_01jdx3r1s2',
  status: 'succeeded',
  failure_code: null,
  failure: null,
  created_at: '2026-12-04T14:25:17.000Z',
};
export const movementSchema = movementShape.meta({ id: 'WalletMovement', examples: [MOVEMENT_EXAMPLE] });

export const movementListSchema = listOf(movementSchema, MOVEMENT_EXAMPLE);

export const walletSchema = listOf(
  z.object({ balance: moneySchema, held: moneySchema }).meta({ id: 'WalletBalance' }),
  { balance: { amount: '967.50', currency: 'USD' }, held: { amount: '0.00', currency: 'USD' } },
);

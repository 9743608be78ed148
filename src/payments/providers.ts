import { randomUUID } from 'node:crypto';
import type { Money } from '../money/index.js';

/**
 * Where brands' money comes from and goes back to. A provider charges a brand (deposit) or pays it
 * back (withdrawal); the ledger records the movement only once the provider has succeeded. Real
 * providers (Stripe, bank transfers) implement the same interface later.
 */
export interface ProviderOutcome {
  status: 'succeeded' | 'failed';
  provider_reference: string;
  failure?: string;
}

export interface PaymentProvider {
  readonly name: string;
  charge(p: { orgId: string; amount: Money; reference: string }): Promise<ProviderOutcome>;
  refund(p: { orgId: string; amount: Money; reference: string }): Promise<ProviderOutcome>;
}

/** Succeeds at once, for development, tests and the demo. */
export const testPaymentProvider: PaymentProvider = {
  name: 'test',
  async charge() {
    return { status: 'succeeded', provider_reference: `test_${randomUUID()}` };
  },
  async refund() {
    return { status: 'succeeded', provider_reference: `test_${randomUUID()}` };
  },
};

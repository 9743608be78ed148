import type { Money } from '../money/index.js';

/**
 * Where brands' money comes from and goes back to. A provider charges a brand (deposit) or pays it
 * back (withdrawal). `reference` is the movement id and the provider's idempotency key: asked again
 * under the same reference (a retry, or the recovery after a crash), a provider must not charge or pay
 * a second time and must answer the first outcome. A deposit reaches the ledger only once charged; a
 * withdrawal reaches the provider only once the ledger has reserved its money (src/payments/index.ts).
 * Real providers (Stripe, bank transfers) implement the same interface later.
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

/** Succeeds at once, for development, tests and the demo; the same reference answers the same provider reference. */
export const testPaymentProvider: PaymentProvider = {
  name: 'test',
  async charge({ reference }) {
    return { status: 'succeeded', provider_reference: `test_${reference}` };
  },
  async refund({ reference }) {
    return { status: 'succeeded', provider_reference: `test_${reference}` };
  },
};

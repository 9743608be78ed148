import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversionAnswer } from '../api/routes/conversions.js';
import { type ConversionSubmission, recordConversionBatch } from './index.js';
import { checkLedger } from '../ledger/index.js';
import { createBrand, createCreator, escrowHeld, launchCampaign, type Launched, type Party } from '../../test/support/conversions.js';
import { startTestApi, type TestApi } from '../../test/support/api.js';

/**
 * Conversions recorded together in one batch (group commit) decide exactly as they would one by one:
 * a later conversion sees the earlier ones of its own batch, and one conversion's mistake fails only it.
 */
let api: TestApi;
let brand: Party;
let campaign: Launched;

beforeAll(async () => {
  api = await startTestApi({ SETTLE_INTERVAL_MS: '86400000' });
  brand = await createBrand(api, 'Batch brand');
  const creator = await createCreator(api, 'batch@creators.example');
  campaign = await launchCampaign(api, brand, creator, { objective: 'cpl', rate: '3.00', budget: '30.00', promo_once_per_customer: true });
});
afterAll(async () => {
  await api?.close();
});

function lead(externalId: string, customer: string, extra: Record<string, unknown> = {}): ConversionSubmission {
  return {
    orgId: brand.id,
    input: { external_id: externalId, type: 'lead', promo_code: campaign.promoCode, customer: { id: customer }, ...extra } as never,
    present: conversionAnswer,
  };
}

describe('a batch of conversions', () => {
  it('sees its own earlier conversions: the second lead of one customer is a duplicate', async () => {
    const out = await recordConversionBatch(api.database.db, [lead('b-1', 'same'), lead('b-2', 'same'), lead('b-3', 'other')]);
    const answers = out.map((o) => ('answer' in o ? (o.answer as any) : o));
    expect(answers.map((a) => a.status)).toEqual(['attributed', 'rejected', 'attributed']);
    expect(answers[1].result.reasons).toContain('duplicate_lead');
    expect(await escrowHeld(api, brand, campaign.id)).toBe('6.00');
  });

  it('answers a repeated external id within the batch like a replay, and a changed one as a conflict', async () => {
    const out = await recordConversionBatch(api.database.db, [
      lead('r-1', 'c1'),
      lead('r-1', 'c1'),
      lead('r-1', 'c2'),
      lead('r-2', 'c3', { occurred_at: '2099-01-01T00:00:00Z' }),
    ]);
    expect(out[0]).toMatchObject({ created: true });
    expect(out[1]).toMatchObject({ created: false, answer: (out[0] as any).answer });
    expect((out[2] as any).error.code).toBe('idempotency_conflict');
    expect((out[3] as any).error.code).toBe('invalid_request');
    expect(await escrowHeld(api, brand, campaign.id)).toBe('9.00');
  });

  it('pauses the campaign when the escrow runs out in the middle of a batch; the rest wait for funds', async () => {
    const out = await recordConversionBatch(
      api.database.db,
      Array.from({ length: 10 }, (_, i) => lead(`o-${i}`, `o-customer-${i}`)),
    );
    // Every conversion is attributed; the results the escrow cannot cover wait for funds, with no hold.
    expect(out.map((o) => (o as any).answer.status)).toEqual(Array(10).fill('attributed'));
    const results = out.map((o) => (o as any).answer.result.status);
    expect(results.filter((s) => s === 'pending')).toHaveLength(7);
    expect(results.filter((s) => s === 'awaiting_funds')).toHaveLength(3);
    expect(await escrowHeld(api, brand, campaign.id)).toBe('30.00');
    expect((await checkLedger(api.database.db)).mismatches).toBe(0);
  });

  it('decides promo caps, once-per-customer uses, normalised emails and self-referral from what is stored and what the batch adds', async () => {
    const creator = await createCreator(api, 'capped@creators.example');
    const capped = await launchCampaign(api, brand, creator, {
      objective: 'cpl', rate: '1.00', budget: '50.00', promo_max_uses: 3, promo_once_per_customer: true,
    });
    const use = (externalId: string, customer: { id: string; email?: string }) => ({
      orgId: brand.id,
      input: { external_id: externalId, type: 'lead', promo_code: capped.promoCode.toLowerCase(), customer } as never,
      present: conversionAnswer,
    });
    // Stored before the batch: one accepted use by "first".
    const before = await recordConversionBatch(api.database.db, [use('cap-0', { id: 'first', email: 'First.Customer+x@GoogleMail.com' })]);
    expect((before[0] as any).answer.status).toBe('attributed');
    const out = await recordConversionBatch(api.database.db, [
      use('cap-1', { id: 'other-id', email: 'firstcustomer@gmail.com' }), // the same person by normalised email: a duplicate lead
      use('cap-2', { id: 'second' }),
      use('cap-3', { id: 'capped-creator', email: 'Capped@Creators.example' }), // the creator's own email
      use('cap-4', { id: 'third' }),
      use('cap-5', { id: 'fourth' }), // the fourth accepted use would exceed the cap of 3
    ]);
    const answers = out.map((o) => (o as any).answer);
    expect(answers.map((a) => a.status)).toEqual(['rejected', 'attributed', 'rejected', 'attributed', 'rejected']);
    expect(answers[0].result.reasons).toEqual(expect.arrayContaining(['promo_already_used', 'duplicate_lead']));
    expect(answers[2].result.reasons).toContain('self_referral');
    expect(answers[4].result.reasons).toContain('promo_max_uses_reached');
    expect((await checkLedger(api.database.db)).mismatches).toBe(0);
  });
});

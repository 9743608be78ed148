import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EnrolmentWithTerms } from '../campaigns/index.js';
import { grossPayout, normaliseTerms, termsInputSchema } from '../terms/index.js';
import { type Credit, splitDraft } from './index.js';

/** splitDraft: a source credited to several creators costs exactly what a single-creator result would. */
function enrolment(i: number, terms: Record<string, unknown>): EnrolmentWithTerms {
  const parsed = normaliseTerms(
    termsInputSchema.parse({
      currency: 'USD',
      budget: '1000.00',
      destination_url: 'https://shop.example/',
      starts_at: '2026-01-01T00:00:00Z',
      ends_at: '2030-01-01T00:00:00Z',
      kpi_target: 1,
      ...terms,
    }),
  );
  return { id: `enr_${i}`, creator_id: `cr_${i}`, campaign_id: 'cmp_1', terms: parsed } as unknown as EnrolmentWithTerms;
}

describe('splitDraft', () => {
  it('allocates the single-creator payout over the credits exactly, dropping parts that round to nothing', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000_00 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.array(fc.integer({ min: 0, max: 1_000_000_000 }), { minLength: 1, maxLength: 20 }).filter((w) => w.some((x) => x > 0)),
        (orderCents, rateBps, weights) => {
          const primary = enrolment(0, { objective: 'cpa_percent', rate_bps: rateBps });
          const order = BigInt(orderCents);
          const sum = weights.reduce((a, b) => a + b, 0);
          const credits: Credit[] = weights.map((weight, i) => ({ enrolment: i === 0 ? primary : enrolment(i, { objective: 'cpl', rate: '99.00' }), share: weight / sum, weight }));
          const draft = { kind: 'sale' as const, sourceId: 'cnv_1', enrolment: primary, occurredAt: new Date(), orderAmount: order };
          const single = grossPayout(primary.terms, { orderAmount: order });
          const parts = splitDraft(draft, credits, 'linear');
          if (single === 0n) {
            expect(parts).toEqual([draft]);
            return;
          }
          const total = parts.reduce((a, p) => a + (p.part?.gross ?? 0n), 0n);
          expect(total).toBe(single);
          for (const p of parts) {
            expect(p.part!.gross > 0n).toBe(true);
            expect(p.part!.sourceGross).toBe(single);
            // Priced on the primary's terms, whatever the credited creator's own terms say.
            expect(p.part!.terms).toBe(primary.terms);
          }
          expect(new Set(parts.map((p) => p.enrolment.id)).size).toBe(parts.length);
        },
      ),
    );
  });

  it('applies rate overrides once, to the whole source, before splitting', () => {
    const primary = enrolment(0, { objective: 'cpa_fixed', rate: '10.00', incentives: { rate_overrides: [{ match: { sku: ['PRO'] }, rate: '25.00' }] } });
    const other = enrolment(1, { objective: 'cpa_fixed', rate: '10.00' });
    const draft = { kind: 'sale' as const, sourceId: 'cnv_2', enrolment: primary, occurredAt: new Date(), orderAmount: 1n, attributes: { sku: 'PRO' } };
    const parts = splitDraft(draft, [{ enrolment: primary, share: 0.5, weight: 1 }, { enrolment: other, share: 0.5, weight: 1 }], 'linear');
    expect(parts.map((p) => p.part!.gross)).toEqual([1250n, 1250n]);
  });
});

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { objectiveReasons } from './attribution.js';
import { type ConversionInput, conversionInputSchema, firstDifference, normaliseRequest, requestHash } from './input.js';

const sale: ConversionInput = { external_id: 'o-1', type: 'sale', customer: { id: 'c-1' }, amount: '80.00', currency: 'USD' };

describe('normaliseRequest', () => {
  it('reads the amount exactly and formats it back', () => {
    const { request, orderAmount } = normaliseRequest({ ...sale, amount: '80' });
    expect(orderAmount).toBe(8000n);
    expect(request.amount).toBe('80.00');
    expect(normaliseRequest({ ...sale, amount: '5', currency: 'JPY' }).orderAmount).toBe(5n);
    expect(normaliseRequest({ ...sale, amount: '1.234', currency: 'KWD' }).orderAmount).toBe(1234n);
  });

  it.each([
    ['12.345', 'USD', 'inexact_amount'],
    ['0', 'USD', 'invalid_amount'],
    ['0.000', 'USD', 'invalid_amount'],
    ['1.5', 'JPY', 'inexact_amount'],
    ['10', 'XYZ', 'unknown_currency'],
  ])('refuses %s %s with %s', (amount, currency, code) => {
    expect(() => normaliseRequest({ ...sale, amount, currency })).toThrow(expect.objectContaining({ code }));
  });

  it('writes times in UTC and absent fields as null', () => {
    const { request } = normaliseRequest({ external_id: 'l', type: 'lead', customer: { id: 'c' }, occurred_at: '2026-11-20T11:00:00+01:00' });
    expect(request).toEqual({
      external_id: 'l',
      type: 'lead',
      click_id: null,
      click_ids: null,
      promo_code: null,
      sku: null,
      customer: { id: 'c', email: null, phone: null, country: null, age: null },
      amount: null,
      currency: null,
      occurred_at: '2026-11-20T10:00:00.000Z',
    });
  });
});

describe('idempotency comparison', () => {
  const base = normaliseRequest(sale).request;

  it('hashes equal meanings equally and different ones differently', () => {
    expect(requestHash(normaliseRequest({ ...sale, amount: '80' }).request)).toBe(requestHash(base));
    expect(requestHash(normaliseRequest({ ...sale, amount: '80.01' }).request)).not.toBe(requestHash(base));
    expect(requestHash(normaliseRequest({ ...sale, customer: { id: 'c-1', email: 'a@b.example' } }).request)).not.toBe(requestHash(base));
  });

  it.each([
    [{ type: 'lead', amount: undefined, currency: undefined }, 'type'],
    [{ click_id: 'clk_1' }, 'click_id'],
    [{ promo_code: 'X', customer: { id: 'c-2' } }, 'promo_code'],
    [{ customer: { id: 'c-2', email: 'a@b.example' } }, 'customer.id'],
    [{ customer: { id: 'c-1', country: 'US' } }, 'customer.country'],
    [{ amount: '80.5', currency: 'EUR' }, 'amount'],
    [{ currency: 'EUR' }, 'currency'],
    [{ occurred_at: '2026-01-01T00:00:00Z' }, 'occurred_at'],
    [{ click_ids: ['clk_2'] }, 'click_ids'],
    [{ sku: 'PRO-1' }, 'sku'],
    [{}, null],
  ] as const)('names the first differing field of %o: %s', (change, field) => {
    expect(firstDifference(base, normaliseRequest({ ...sale, ...change } as ConversionInput).request)).toBe(field);
  });
});

describe('fields added with the validation engine', () => {
  it('keeps the hash of a request without them as it was before they existed', () => {
    const { request } = normaliseRequest(sale);
    // The hash as computed before customer.age existed: external id, then the ten compared fields.
    const before = createHash('sha256')
      .update(JSON.stringify(['o-1', 'sale', null, null, 'c-1', null, null, null, '80.00', 'USD', null]))
      .digest('hex');
    expect(requestHash(request)).toBe(before);
    const aged = normaliseRequest({ ...sale, customer: { id: 'c-1', age: 30 } }).request;
    expect(requestHash(aged)).not.toBe(before);
    expect(firstDifference(request, aged)).toBe('customer.age');
    // A request stored before the field existed has no `age` at all: it reads as absent.
    const stored = { ...request, customer: { id: 'c-1', email: null, phone: null, country: null } } as typeof request;
    expect(requestHash(stored)).toBe(before);
  });

  it('keeps click ids as a set: order and repeats do not change the request, and without them the hash is as before', () => {
    const a = normaliseRequest({ ...sale, click_ids: ['clk_b', 'clk_a', 'clk_b'] }).request;
    const b = normaliseRequest({ ...sale, click_ids: ['clk_a', 'clk_b'] }).request;
    expect(a.click_ids).toEqual(['clk_a', 'clk_b']);
    expect(requestHash(a)).toBe(requestHash(b));
    expect(requestHash(a)).not.toBe(requestHash(normaliseRequest(sale).request));
    expect(requestHash(normaliseRequest({ ...sale, sku: 'X' }).request)).not.toBe(requestHash(normaliseRequest(sale).request));
  });

  it("takes the customer's device as evidence, outside the request's identity", () => {
    const withDevice = { ...sale, customer: { id: 'c-1', ip: '2a01:4f8::1', user_agent: 'Mozilla/5.0 (X11; Linux x86_64)' } };
    const parsed = conversionInputSchema.parse(withDevice);
    const { request, device } = normaliseRequest(parsed);
    expect(device).toEqual({ ip: '2a01:4f8::1', userAgent: 'Mozilla/5.0 (X11; Linux x86_64)' });
    expect(request.customer).toEqual({ id: 'c-1', email: null, phone: null, country: null, age: null });
    expect(requestHash(request)).toBe(requestHash(normaliseRequest(sale).request));
    for (const customer of [{ id: 'c', ip: '300.1.1.1' }, { id: 'c', age: -1 }, { id: 'c', age: 151 }, { id: 'c', age: 30.5 }, { id: 'c', user_agent: '' }]) {
      expect(conversionInputSchema.safeParse({ ...sale, customer }).success, JSON.stringify(customer)).toBe(false);
    }
  });
});

describe('the input schema', () => {
  it.each([
    [{ ...sale, amount: undefined }, 'amount'],
    [{ ...sale, currency: undefined }, 'currency'],
    [{ external_id: 'l', type: 'lead', customer: { id: 'c' }, amount: '1.00' }, 'amount'],
    [{ external_id: 'l', type: 'lead', customer: { id: 'c' }, currency: 'USD' }, 'currency'],
  ])('ties amounts to sales %#', (value, path) => {
    const r = conversionInputSchema.safeParse(value);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual([path]);
  });

  it('takes a lead without an amount and a sale with one', () => {
    expect(conversionInputSchema.safeParse({ external_id: 'l', type: 'lead', customer: { id: 'c' } }).success).toBe(true);
    expect(conversionInputSchema.safeParse(sale).success).toBe(true);
  });
});

describe('objective fit', () => {
  it.each([
    ['cpl', 'lead', []],
    ['cpl', 'sale', ['objective_mismatch']],
    ['cpa_fixed', 'sale', []],
    ['cpa_percent', 'sale', []],
    ['cpa_fixed', 'lead', ['objective_mismatch']],
    ['cpc', 'lead', ['objective_mismatch']],
    ['cpm', 'sale', ['objective_mismatch']],
  ] as const)('%s campaign, %s → %o', (objective, type, reasons) => {
    expect(objectiveReasons(objective, type)).toEqual(reasons);
  });
});

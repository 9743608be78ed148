import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/index.js';
import { canonicalJson, idempotencyKeyOf, isStoredStatus, requestFingerprint } from './rules.js';

describe('idempotencyKeyOf', () => {
  it.each([
    ['a', 'a'],
    ['8b0e5a1c-7f2d-4c1e-9a57-3c2b1d0e9f8a', '8b0e5a1c-7f2d-4c1e-9a57-3c2b1d0e9f8a'],
    ['order 42 / retry', 'order 42 / retry'],
    ['~'.repeat(255), '~'.repeat(255)],
  ])('takes %j', (value, key) => {
    expect(idempotencyKeyOf([value])).toBe(key);
  });

  it('is undefined without the header', () => {
    expect(idempotencyKeyOf(undefined)).toBeUndefined();
    expect(idempotencyKeyOf([])).toBeUndefined();
  });

  it.each([[''], ['x'.repeat(256)], ['tab\there'], ['é'], ['nul\u0000'], ['del\u007f']])('refuses %j with invalid_request naming the header', (value) => {
    const error = (() => {
      try {
        idempotencyKeyOf([value]);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('invalid_request');
    expect((error as AppError).details?.field).toBe('Idempotency-Key');
  });

  it('refuses the header sent twice', () => {
    expect(() => idempotencyKeyOf(['a', 'b'])).toThrow(/one Idempotency-Key header/);
  });
});

describe('requestFingerprint', () => {
  const base = { method: 'POST', path: '/v1/deposits', body: { amount: '5.00', currency: 'USD', reference: 'r1' } };

  it('is the same for the same body in another key order', () => {
    const reordered = { ...base, body: { reference: 'r1', currency: 'USD', amount: '5.00' } };
    expect(requestFingerprint(reordered).equals(requestFingerprint(base))).toBe(true);
  });

  it.each([
    [{ ...base, method: 'PUT' }],
    [{ ...base, path: '/v1/withdrawals' }],
    [{ ...base, body: { ...base.body, amount: '5.01' } }],
    [{ ...base, body: { ...base.body, note: 'x' } }],
    [{ ...base, body: undefined }],
  ])('differs when the method, path or body does %#', (other) => {
    expect(requestFingerprint(other).equals(requestFingerprint(base))).toBe(false);
  });
});

describe('canonicalJson', () => {
  it.each([
    [{ b: 1, a: [{ d: null, c: 'x' }] }, '{"a":[{"c":"x","d":null}],"b":1}'],
    [{ a: undefined, b: [undefined] }, '{"b":[null]}'],
    [{ n: 10n, t: new Date('2026-01-01T00:00:00Z') }, '{"n":{"$bigint":"10"},"t":"2026-01-01T00:00:00.000Z"}'],
    [undefined, 'null'],
    ['é"', '"é\\""'],
  ])('writes %o as %s', (value, json) => {
    expect(canonicalJson(value)).toBe(json);
  });
});

describe('isStoredStatus', () => {
  it.each([
    [200, true],
    [201, true],
    [400, false],
    [401, true],
    [404, true],
    [409, true],
    [429, false],
    [500, false],
    [503, false],
  ])('%i: %s', (status, stored) => {
    expect(isStoredStatus(status)).toBe(stored);
  });
});

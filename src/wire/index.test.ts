import { describe, expect, it } from 'vitest';
import { isAppError } from '../errors/index.js';
import { badCharacter, isSaneTime, requireCleanStrings, timestamp, WIRE_LIMITS } from './index.js';

function refusal(f: () => void): { code: string; field: unknown; message: string } | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (!isAppError(e)) throw e;
    return { code: e.code, field: e.details?.field, message: e.message };
  }
}

describe('badCharacter', () => {
  it.each([
    ['plain ascii', 'hello world', undefined],
    ['tab, line feed and carriage return', 'a\tb\nc\r', undefined],
    ['a pair of surrogates (an emoji)', 'ok 😀', undefined],
    ['accents and CJK', 'Zoë 東京', undefined],
    ['NUL', 'a\u0000b', { index: 1, what: 'NUL (U+0000)' }],
    ['another C0 control', 'a\u001bb', { index: 1, what: 'control character U+001B' }],
    ['DEL', '\u007f', { index: 0, what: 'control character U+007F' }],
    ['a lone high surrogate', 'x\ud800', { index: 1, what: 'lone surrogate U+D800' }],
    ['a lone low surrogate', '\udfff\ud800', { index: 0, what: 'lone surrogate U+DFFF' }],
    ['a high surrogate before a non-surrogate', '\ud83dA', { index: 0, what: 'lone surrogate U+D83D' }],
  ])('%s', (_name, text, expected) => {
    expect(badCharacter(text)).toEqual(expected);
  });
});

describe('requireCleanStrings', () => {
  it('names the nested field at fault', () => {
    expect(refusal(() => requireCleanStrings({ customer: { id: 'u\u0000' } }, 'body'))).toMatchObject({ code: 'invalid_request', field: 'customer.id' });
    expect(refusal(() => requireCleanStrings({ click_ids: ['ok', '\ud800'] }, 'body'))).toMatchObject({ field: 'click_ids.1' });
    expect(refusal(() => requireCleanStrings('\u0000', 'body'))).toMatchObject({ field: 'body' });
  });

  it('refuses bad characters in field names', () => {
    expect(refusal(() => requireCleanStrings({ a: { 'b\u0000': 1 } }, 'body'))).toMatchObject({ code: 'invalid_request', field: 'a' });
  });

  it('refuses nesting deeper than the limit, and takes the limit itself', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < WIRE_LIMITS.depth_max; i++) deep = [deep];
    expect(refusal(() => requireCleanStrings(deep, 'body'))).toBeUndefined();
    expect(refusal(() => requireCleanStrings([deep], 'body'))).toMatchObject({ code: 'invalid_request' });
  });

  it('passes numbers, booleans and null through', () => {
    expect(refusal(() => requireCleanStrings({ a: 1, b: [true, null], c: 'fine' }, 'body'))).toBeUndefined();
  });
});

describe('timestamp', () => {
  const now = Date.UTC(2026, 11, 4);
  it.each([
    ['2026-12-04T14:25:17Z', true],
    ['2026-12-04T15:25:17+01:00', true],
    ['2000-01-01T00:00:00Z', true],
    ['1999-12-31T23:59:59Z', false],
    ['0000-01-01T00:00:00Z', false],
    ['9999-12-31T23:59:59Z', false],
  ])('%s in the window: %s', (text, ok) => {
    expect(isSaneTime(Date.parse(text), now)).toBe(ok);
  });

  it('refuses times without an offset, impossible dates and years PostgreSQL cannot store', () => {
    for (const text of ['2026-12-04T14:25:17', '2026-02-30T00:00:00Z', '0000-01-01T00:00:00Z', '+275760-09-13T00:00:00Z']) {
      expect(timestamp().safeParse(text).success).toBe(false);
    }
    expect(timestamp().safeParse(new Date().toISOString()).success).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, pageQuery, pageTimeError } from './page.js';

describe('list cursors', () => {
  it('round-trip the exact time and every key, and are opaque base64url', () => {
    const c = { time: '2026-12-04T14:25:17.123456Z', keys: ['enr_01jd', '2026-W49'] };
    const s = encodeCursor(c);
    expect(s).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(s)).toEqual(c);
  });

  const b64 = (x: unknown) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');
  it.each([
    ['empty', ''],
    ['not base64url', 'abc!def'],
    ['padding', `${b64(['2026-12-04T14:25:17.123456Z', 'x'])}=`],
    ['not JSON', b64('{nope')],
    ['an object', b64({ time: '2026-12-04T14:25:17.123456Z', keys: ['x'] })],
    ['no key', b64(['2026-12-04T14:25:17.123456Z'])],
    ['too many keys', b64(['2026-12-04T14:25:17.123456Z', 'a', 'b', 'c', 'd'])],
    ['a number key', b64(['2026-12-04T14:25:17.123456Z', 5])],
    ['an empty key', b64(['2026-12-04T14:25:17.123456Z', ''])],
    ['a NUL in a key', b64(['2026-12-04T14:25:17.123456Z', 'res_\u0000'])],
    ['a key too long', b64(['2026-12-04T14:25:17.123456Z', 'x'.repeat(201)])],
    ['milliseconds only', b64(['2026-12-04T14:25:17.123Z', 'x'])],
    ['an offset', b64(['2026-12-04T14:25:17.123456+01:00', 'x'])],
    ['no such day', b64(['2026-02-30T14:25:17.123456Z', 'x'])],
    ['no such hour', b64(['2026-12-04T24:25:17.123456Z', 'x'])],
    ['too long', 'A'.repeat(1001)],
  ])('refuse %s', (_name, s) => {
    expect(decodeCursor(s)).toBeNull();
  });
});

describe('list time filters', () => {
  it.each([
    ['2026-12-04T14:25:17Z', null],
    ['2026-12-04T14:25:17.5Z', null],
    ['2026-12-04T14:25:17.123456Z', null],
    ['2026-12-04T15:25:17+01:00', null],
    ['2026-12-04T09:25:17-05:30', null],
    ['2000-01-01T00:00:00Z', null],
    ['1999-12-31T23:59:59Z', /year 2000/],
    ['2026-12-04T15:25:17+14:00', null],
    ['3026-12-04T14:25:17Z', /years ahead/],
    ['2026-12-04T14:25:17', /RFC 3339/],
    ['2026-12-04 14:25:17Z', /RFC 3339/],
    ['2026-12-04T14:25:17 01:00', /%2B/],
    ['2026-12-04', /RFC 3339/],
    ['2026-02-29T00:00:00Z', /not a real time/],
    ['2026-04-31T00:00:00Z', /not a real time/],
    ['2026-12-04T14:60:00Z', /not a real time/],
    ['2026-12-04T14:25:17+24:00', /not a real time/],
    ['1767225600', /RFC 3339/],
  ])('%s', (s, expected) => {
    const error = pageTimeError(s);
    if (expected === null) expect(error).toBeNull();
    else expect(error).toMatch(expected);
  });

  it('are part of every list query, with limit 1–100 defaulting to 50', () => {
    expect(pageQuery.parse({})).toEqual({ limit: 50 });
    expect(pageQuery.safeParse({ limit: '0' }).success).toBe(false);
    expect(pageQuery.safeParse({ limit: '101' }).success).toBe(false);
    expect(pageQuery.safeParse({ limit: '2.5' }).success).toBe(false);
    const bad = pageQuery.safeParse({ after: 'nope!' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['after']);
  });
});

import { describe, expect, it } from 'vitest';
import { TtlCache } from './link-cache.js';

function setup(values: Record<string, string>, maxEntries = 3) {
  let nowMs = 0;
  const loaded: string[] = [];
  let failing = false;
  const cache = new TtlCache<string>(
    async (key) => {
      loaded.push(key);
      if (failing) throw new Error('database down');
      return values[key];
    },
    { maxEntries, hitTtlMs: 60_000, missTtlMs: 5_000, now: () => nowMs },
  );
  return {
    cache,
    loaded,
    advance: (ms: number) => (nowMs += ms),
    fail: (f: boolean) => (failing = f),
  };
}

describe('TtlCache', () => {
  it('answers a hot key from memory until its time to live passes', async () => {
    const t = setup({ a: 'A' });
    expect(await t.cache.get('a')).toBe('A');
    t.advance(59_999);
    expect(await t.cache.get('a')).toBe('A');
    expect(t.loaded).toEqual(['a']);
    t.advance(1);
    expect(await t.cache.get('a')).toBe('A');
    expect(t.loaded).toEqual(['a', 'a']);
  });

  it('remembers misses for a shorter time', async () => {
    const t = setup({});
    expect(await t.cache.get('nope')).toBeUndefined();
    t.advance(4_999);
    expect(await t.cache.get('nope')).toBeUndefined();
    expect(t.loaded).toEqual(['nope']);
    t.advance(1);
    await t.cache.get('nope');
    expect(t.loaded).toEqual(['nope', 'nope']);
  });

  it('shares one load among concurrent lookups of a cold key', async () => {
    const t = setup({ a: 'A' });
    const answers = await Promise.all(Array.from({ length: 20 }, () => t.cache.get('a')));
    expect(answers).toEqual(Array(20).fill('A'));
    expect(t.cache.loads).toBe(1);
  });

  it('evicts the least recently used entry beyond its bound', async () => {
    const t = setup({ a: 'A', b: 'B', c: 'C', d: 'D' });
    for (const k of ['a', 'b', 'c']) await t.cache.get(k);
    await t.cache.get('a'); // a is now the most recent; b the least
    await t.cache.get('d');
    expect(t.cache.size).toBe(3);
    t.loaded.length = 0;
    for (const k of ['a', 'c', 'd']) await t.cache.get(k);
    expect(t.loaded).toEqual([]);
    await t.cache.get('b');
    expect(t.loaded).toEqual(['b']);
  });

  it('serves a stale hit when the reload fails, but never invents a value it never had', async () => {
    const t = setup({ a: 'A' });
    await t.cache.get('a');
    t.advance(60_000);
    t.fail(true);
    expect(await t.cache.get('a')).toBe('A');
    await expect(t.cache.get('b')).rejects.toThrow('database down');
    t.fail(false);
    expect(await t.cache.get('a')).toBe('A');
  });
});

import { describe, expect, it } from 'vitest';
import { ClickBuffer } from './click-buffer.js';

describe('ClickBuffer', () => {
  it('accepts at once while there is room, then makes callers wait in order without dropping any', async () => {
    const buffer = new ClickBuffer<number>(3);
    expect([1, 2, 3].map((n) => buffer.push(n))).toEqual([undefined, undefined, undefined]);
    const admitted: number[] = [];
    const waits = [4, 5, 6, 7].map((n) => buffer.push(n)?.then(() => admitted.push(n)));
    expect(waits.every((w) => w instanceof Promise)).toBe(true);
    expect(buffer.waiting).toBe(4);

    expect(buffer.peek(2)).toEqual([1, 2]);
    buffer.remove(2);
    await Promise.resolve();
    expect(admitted).toEqual([4, 5]);
    expect(buffer.peek(10)).toEqual([3, 4, 5]);

    // Room again, but a newcomer waits behind those already waiting.
    buffer.remove(1);
    const late = buffer.push(8);
    expect(late).toBeInstanceOf(Promise);
    expect(buffer.peek(10)).toEqual([4, 5, 6]);
    buffer.remove(3);
    await Promise.all([...waits, late]);
    expect(admitted).toEqual([4, 5, 6, 7]);
    expect(buffer.peek(10)).toEqual([7, 8]);
    expect(buffer.waiting).toBe(0);
  });

  it('leaves items in place until they are removed (a failed write loses nothing)', () => {
    const buffer = new ClickBuffer<string>(10);
    buffer.push('a');
    buffer.push('b');
    expect(buffer.peek(5)).toEqual(['a', 'b']);
    expect(buffer.size).toBe(2);
    expect(() => buffer.remove(3)).toThrow(/cannot remove/);
  });
});

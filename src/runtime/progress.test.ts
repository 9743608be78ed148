import { describe, expect, it } from 'vitest';
import { Progress } from './progress.js';

function written(tty: boolean): string {
  let text = '';
  const progress = new Progress(10, { tty, write: (t) => (text += t) });
  progress.step('first', 3);
  progress.step('second', 3);
  progress.finish();
  return text;
}

describe('Progress', () => {
  it('redraws one line in place on a terminal, ending at 100%', () => {
    const text = written(true);
    expect(text.startsWith('\r[')).toBe(true);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n').filter(Boolean)).toHaveLength(1);
    expect(text).toContain('100% second');
  });

  it('writes nothing when stderr is not a terminal (piped, a log, CI)', () => {
    expect(written(false)).toBe('');
  });
});

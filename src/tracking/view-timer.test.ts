import { describe, expect, it } from 'vitest';
import { VIEW_DURATION_MS, viewTimer } from './view-timer.js';

describe('viewTimer (MRC viewability)', () => {
  it('counts a video half in view on a visible page for 2 continuous seconds, once', () => {
    const t = viewTimer('video');
    expect(t.update(0.5, true, 1_000)).toBe(2_000);
    expect(t.due(2_999)).toBe(false);
    // The same state again keeps the run going: it does not restart the clock.
    expect(t.update(0.8, true, 2_500)).toBe(500);
    expect(t.due(3_000)).toBe(true);
    expect(t.visibleMs()).toBe(2_000);
    expect(t.due(4_000)).toBe(false);
    expect(t.update(1, true, 5_000)).toBe(-1);
  });

  it('needs 1 second for display', () => {
    const t = viewTimer('display');
    expect(VIEW_DURATION_MS.display).toBe(1_000);
    expect(t.update(0.6, true, 0)).toBe(1_000);
    expect(t.due(999)).toBe(false);
    expect(t.due(1_000)).toBe(true);
  });

  it('does not count under half of the pixels in view', () => {
    const t = viewTimer('display');
    expect(t.update(0.49, true, 0)).toBe(-1);
    expect(t.due(10_000)).toBe(false);
  });

  it('leaving view ends the run: the next one starts from zero', () => {
    const t = viewTimer('video');
    t.update(1, true, 0);
    expect(t.update(0.2, true, 1_900)).toBe(-1);
    expect(t.due(2_000)).toBe(false);
    expect(t.update(1, true, 2_100)).toBe(2_000);
    expect(t.due(4_000)).toBe(false);
    expect(t.due(4_100)).toBe(true);
    expect(t.visibleMs()).toBe(2_000);
  });

  it('a hidden page pauses and resets the continuous timer', () => {
    const t = viewTimer('video');
    t.update(1, true, 0);
    expect(t.update(1, false, 1_500)).toBe(-1);
    expect(t.due(5_000)).toBe(false);
    expect(t.update(1, true, 6_000)).toBe(2_000);
    expect(t.due(7_999)).toBe(false);
    expect(t.due(8_000)).toBe(true);
  });

  it('a late timer still counts, with the time the run actually lasted', () => {
    const t = viewTimer('display');
    t.update(1, true, 0);
    expect(t.due(1_250)).toBe(true);
    expect(t.visibleMs()).toBe(1_250);
  });

  it('an odd ratio (NaN) is out of view', () => {
    const t = viewTimer('display');
    expect(t.update(Number.NaN, true, 0)).toBe(-1);
  });
});

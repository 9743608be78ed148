import { describe, expect, it } from 'vitest';
import { baselineOf } from './recheck.js';

describe('baselineOf (the other creators, for the release re-check of the conversion rate)', () => {
  it('totals the other creators and names the one with the most conversions above their pooled rate', () => {
    const star = { clicks: 1000, conversions: 500 };
    expect(baselineOf([{ clicks: 1000, conversions: 50 }, star, { clicks: 10, conversions: 2 }])).toEqual({
      clicks: 2010,
      conversions: 552,
      top: star,
      creators: 3,
    });
  });

  it('names no top creator when nobody converts above the pooled rate, and none for no creators', () => {
    expect(baselineOf([{ clicks: 100, conversions: 10 }, { clicks: 200, conversions: 20 }])).toMatchObject({ top: null, creators: 2 });
    expect(baselineOf([])).toEqual({ clicks: 0, conversions: 0, top: null, creators: 0 });
  });
});

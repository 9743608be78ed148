import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/index.js';
import { PathAggregator, aggregatePaths, journeyProblem } from './index.js';

describe('PathAggregator', () => {
  it('collapses identical paths, keeps order and repeats distinct, and counts totals', () => {
    const aggregator = new PathAggregator();
    aggregator.add(['a', 'b'], 1, 0);
    aggregator.add(['a', 'b'], 0, 3);
    aggregator.add(['b', 'a'], 2, 0);
    aggregator.add(['a', 'b', 'b'], 0, 1);
    expect(aggregator.paths()).toEqual([
      { path: ['a', 'b'], conversions: 1, nulls: 3 },
      { path: ['b', 'a'], conversions: 2, nulls: 0 },
      { path: ['a', 'b', 'b'], conversions: 0, nulls: 1 },
    ]);
    expect(aggregator.totals()).toEqual({ journeys: 7, conversions: 3, nulls: 4, distinctPaths: 3, creators: 2 });
  });

  it('never confuses ids containing separators: ["a,b"] is not ["a","b"]', () => {
    const paths = aggregatePaths([
      { path: ['a,b'], conversions: 1, nulls: 0 },
      { path: ['a', 'b'], conversions: 1, nulls: 0 },
      { path: ['1,', '2'], conversions: 1, nulls: 0 },
      { path: ['1', ',2'], conversions: 1, nulls: 0 },
    ]);
    expect(paths).toHaveLength(4);
  });

  it('copies the paths it keeps: changing the caller\'s array later changes nothing', () => {
    const aggregator = new PathAggregator();
    const path = ['a'];
    aggregator.add(path, 1, 0);
    path[0] = 'z';
    expect(aggregator.paths()[0]!.path).toEqual(['a']);
  });

  it.each([
    [['a'], -1, 0],
    [['a'], 0, 0.5],
    [['a'], Number.NaN, 0],
    [[], 1, 0],
    [[''], 1, 0],
  ])('refuses path %j with %s conversions and %s nulls', (path, conversions, nulls) => {
    expect(() => new PathAggregator().add(path, conversions, nulls)).toThrow(AppError);
  });
});

describe('journeyProblem', () => {
  it('accepts equal days (same-day touches) and a path without days', () => {
    expect(journeyProblem({ path: ['a', 'b'], daysBefore: [2, 2] })).toBeUndefined();
    expect(journeyProblem({ path: ['a', 'b'] })).toBeUndefined();
    expect(journeyProblem({ path: ['a'], daysBefore: [0] })).toBeUndefined();
  });

  it('names a length mismatch and touches out of order', () => {
    expect(journeyProblem({ path: ['a', 'b'], daysBefore: [1, 2, 3] })).toBe('days_before has 3 entries for a path of 2 touches');
    expect(journeyProblem({ path: ['a', 'b'], daysBefore: [1, 2] })).toMatch(/^days_before\[1\]: 2 is further from the conversion/);
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_VIEW_RULE_SETTINGS, judgeViewReport, matchInsights, median, VIEW_REASONS, type ViewReportFacts, viewRuleSettingsSchema } from './index.js';

const NOW = new Date('2026-12-07T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000);

/** A report with nothing optional: no platform, likes, post time, followers, history or insights. */
function facts(over: Partial<ViewReportFacts> = {}): ViewReportFacts {
  return {
    views: 48_213n,
    reported_at: NOW,
    platform: null,
    posted_at: null,
    likes: null,
    comments: null,
    declared_followers: null,
    earlier: [],
    insights: { official: null, creator: null },
    ...over,
  };
}

/** Round counts make tidy tests: these settings keep the round-number rule out of the other rules' tests. */
const noRound = viewRuleSettingsSchema.parse({ round_numbers: { enabled: false } });
const codes = (f: ViewReportFacts, s = DEFAULT_VIEW_RULE_SETTINGS) => judgeViewReport(f, s).findings.map((x) => x.code);

/** Three earlier reports each at 1,000 views a day. */
const steadyHistory = [1, 2, 3].map((i) => ({ views: 10_000n * BigInt(i), posted_at: daysAgo(30 + 10 * i), reported_at: daysAgo(30) }));

describe('missing optional data never fires a rule', () => {
  it.each([48_213n, 3n, 999_999_999_999n, 123_456_789n])('%s views with nothing else known: no findings', (views) => {
    expect(codes(facts({ views }))).toEqual([]);
  });

  it('no declared followers: the followers rule is silent however many views', () => {
    expect(codes(facts({ views: 987_654_321n, platform: 'instagram' }))).toEqual([]);
  });

  it('no likes nor comments: no engagement rule', () => {
    expect(codes(facts({ views: 5_000_001n, likes: null, comments: null }))).toEqual([]);
  });

  it('no post time: no velocity rule, however far above the history', () => {
    expect(codes(facts({ views: 9_999_999n, posted_at: null, earlier: steadyHistory }))).toEqual([]);
  });

  it('earlier reports without a post time are no history', () => {
    const earlier = steadyHistory.map((e) => ({ ...e, posted_at: null }));
    expect(codes(facts({ views: 9_999_999n, posted_at: daysAgo(1), earlier }))).toEqual([]);
  });
});

describe('views_exceed_followers', () => {
  const f = (views: bigint, followers: bigint) => facts({ views, platform: 'tiktok', declared_followers: followers });
  it.each([
    [50_001n, 1_000n, true], // 50.001 × followers
    [50_000n, 1_000n, false], // exactly the limit passes
    [9_999n, 1n, false], // under min_views: a small post is never judged
    [10_000n, 0n, true], // a declared 0 is evidence: 10,000 views on no audience
  ])('%s views on %s followers: fires %s', (views, followers, fires) => {
    expect(codes(f(views, followers)).includes('views_exceed_followers')).toBe(fires);
  });

  it('says what was measured', () => {
    expect(judgeViewReport(f(120_001n, 1_000n)).findings[0]?.detail).toBe('120,001 views is 120 × the 1,000 followers declared on tiktok (limit 50 ×)');
  });

  it('is tunable and can be switched off', () => {
    const s = viewRuleSettingsSchema.parse({ followers: { max_views_per_follower: 200 } });
    expect(codes(f(120_001n, 1_000n), s)).toEqual([]);
    expect(codes(f(120_001n, 1_000n), viewRuleSettingsSchema.parse({ followers: { enabled: false } }))).toEqual([]);
  });
});

describe('engagement', () => {
  it.each([
    [100_000n, 49n, null, 'engagement_low'], // 0.049 %
    [100_000n, 30n, 20n, null], // 0.05 % exactly passes
    [100_000n, null, 0n, 'engagement_low'], // comments alone are evidence too
    [9_000n, 0n, 0n, null], // under min_views: a small post with no likes is ordinary
    [20_000n, 20_001n, null, 'engagement_exceeds_views'],
    [20_000n, 15_000n, 5_000n, null], // exactly as many as views passes
    [500n, 900n, null, 'engagement_exceeds_views'], // no minimum: more likes than views is odd at any size
  ])('%s views, %s likes, %s comments → %s', (views, likes, comments, code) => {
    expect(codes(facts({ views, likes, comments }), noRound)).toEqual(code ? [code] : []);
  });
});

describe('view_velocity_high', () => {
  it('fires past 25 × the median views a day of the earlier reports', () => {
    expect(codes(facts({ views: 25_001n, posted_at: daysAgo(1), earlier: steadyHistory }))).toEqual(['view_velocity_high']);
    expect(codes(facts({ views: 25_000n, posted_at: daysAgo(1), earlier: steadyHistory }), noRound)).toEqual([]);
  });

  it('counts a post younger than a day as a day old', () => {
    expect(codes(facts({ views: 25_000n, posted_at: new Date(NOW.getTime() - 60_000), earlier: steadyHistory }), noRound)).toEqual([]);
  });

  it('needs min_history earlier reports', () => {
    expect(codes(facts({ views: 900_000n, posted_at: daysAgo(1), earlier: steadyHistory.slice(0, 2) }), noRound)).toEqual([]);
    const s = viewRuleSettingsSchema.parse({ velocity: { min_history: 2 }, round_numbers: { enabled: false } });
    expect(codes(facts({ views: 900_000n, posted_at: daysAgo(1), earlier: steadyHistory.slice(0, 2) }), s)).toEqual(['view_velocity_high']);
  });

  it('median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('views_round_number', () => {
  it.each([
    [100_000n, true],
    [50_000n, true],
    [1_200_000n, true],
    [10_000n, true],
    [5_000n, false], // under min_views
    [101_000n, false], // three zeros: default needs four
    [100_001n, false],
  ])('%s: fires %s', (views, fires) => {
    expect(codes(facts({ views }))).toEqual(fires ? ['views_round_number'] : []);
  });

  it("does not fire when an export of the post was imported, even the creator's own", () => {
    expect(codes(facts({ views: 100_000n, insights: { official: null, creator: { through_report: 100_000n, all: 100_000n, trust: 'creator' } } }))).toEqual([]);
  });
});

describe('official insights', () => {
  const official = (views: bigint) => ({ official: { through_report: views, all: views, trust: 'official' as const }, creator: null });

  it.each([
    [105_000n, 100_000n, 'matched'],
    [95_000n, 100_000n, 'matched'],
    [105_001n, 100_000n, 'exceeds'],
    [94_999n, 100_000n, 'below'],
  ] as const)('%s reported against %s official: %s', (views, insights, match) => {
    expect(matchInsights(views, { through_report: insights, all: insights, trust: 'official' }, 0.05)).toBe(match);
  });

  it('match the views counted by the report, or all counted since (a later lifetime export)', () => {
    const daily = { through_report: 40_000n, all: 90_000n, trust: 'official' as const };
    expect(matchInsights(41_000n, daily, 0.05)).toBe('matched');
    expect(matchInsights(88_000n, daily, 0.05)).toBe('matched');
    expect(matchInsights(60_000n, daily, 0.05)).toBe('below');
    expect(matchInsights(94_501n, daily, 0.05)).toBe('exceeds');
    const later = { through_report: 0n, all: 90_000n, trust: 'official' as const };
    expect(matchInsights(90_000n, later, 0.05)).toBe('matched');
    expect(matchInsights(1n, { through_report: 0n, all: 0n, trust: 'official' }, 0.05)).toBe('exceeds');
  });

  it('a match silences every rule: the count is the platform’s', () => {
    const f = facts({ views: 100_000n, platform: 'instagram', declared_followers: 10n, likes: 0n, insights: official(100_000n) });
    expect(judgeViewReport(f)).toEqual({ findings: [], official: 'matched' });
  });

  it('a report above the insights is views_exceed_insights, alongside the other rules', () => {
    const f = facts({ views: 120_000n, platform: 'instagram', declared_followers: 10n, insights: official(100_000n) });
    expect(judgeViewReport(f).findings.map((x) => x.code)).toEqual(['views_exceed_insights', 'views_exceed_followers']);
    expect(judgeViewReport(f).official).toBe('exceeds');
  });

  it('a report below the insights is no finding (the creator claims less than the platform shows)', () => {
    expect(judgeViewReport(facts({ views: 50_123n, insights: official(100_000n) }))).toEqual({ findings: [], official: 'below' });
  });

  it("creator-uploaded insights verify nothing: the creator's file is not the platform's word", () => {
    const f = facts({ views: 100_000n, likes: 0n, insights: { official: null, creator: { through_report: 100_000n, all: 100_000n, trust: 'creator' } } });
    expect(judgeViewReport(f)).toEqual({ findings: [{ code: 'engagement_low', detail: expect.any(String) }], official: 'none' });
  });
});

describe('settings', () => {
  it('refuse unknown keys and inconsistent thresholds', () => {
    expect(viewRuleSettingsSchema.safeParse({ folowers: {} }).success).toBe(false);
    expect(viewRuleSettingsSchema.safeParse({ engagement: { min_rate: 0.5, max_rate: 0.1 } }).success).toBe(false);
  });

  it('findings come in VIEW_REASONS order', () => {
    const f = facts({
      views: 1_000_000n,
      platform: 'x',
      declared_followers: 1n,
      likes: 1n,
      posted_at: daysAgo(1),
      earlier: steadyHistory,
      insights: { official: { through_report: 1n, all: 1n, trust: 'official' }, creator: null },
    });
    const found = codes(f);
    expect(found).toEqual(['views_exceed_insights', 'views_exceed_followers', 'engagement_low', 'view_velocity_high']);
    expect(found).toEqual(VIEW_REASONS.filter((c) => found.includes(c)));
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_RULE_SETTINGS, ruleSettingsSchema, settingsFor } from './settings.js';

const CAMPAIGN = {
  attribution_window_days: 30,
  target_countries: ['US'],
  age_min: 18,
  age_max: 65,
  required_fields: ['email'] as const,
};

describe('rule settings', () => {
  it('defaults come from the field', () => {
    const d = DEFAULT_RULE_SETTINGS;
    expect(d.injection).toEqual({ enabled: true, invalid_below_seconds: 10, review_below_seconds: 15 });
    expect(d.flooding).toMatchObject({ late_after_hours: 24, late_share_max: 0.3, early_within_hours: 1, min_conversions: 10 });
    expect(d.repeat_clicks.window_seconds).toBe(3600);
    expect(d.paid_ads.params).toEqual(['gclid', 'fbclid', 'msclkid', 'ttclid', 'twclid', 'li_fat_id', 'rdclid']);
    expect(d.leads).toEqual({ enabled: true, min_score: 50, dedupe: true });
  });

  it('a partial override keeps every other default', () => {
    const rules = ruleSettingsSchema.parse({ click_velocity: { ip_per_minute: null }, leads: { min_score: 70 } });
    expect(rules.click_velocity).toEqual({ ...DEFAULT_RULE_SETTINGS.click_velocity, ip_per_minute: null });
    expect(rules.leads.min_score).toBe(70);
    expect(rules.injection).toEqual(DEFAULT_RULE_SETTINGS.injection);
  });

  it.each([
    [{ injection: { invalid_below_seconds: 16 } }, ['injection', 'review_below_seconds']],
    [{ flooding: { early_within_hours: 24 } }, ['flooding', 'early_within_hours']],
    [{ conversion_rate: { invalid_p: 0.01 } }, ['conversion_rate', 'invalid_p']],
    [{ click_velocity: { visitor_per_minute: 0 } }, ['click_velocity', 'visitor_per_minute']],
    [{ flooding: { late_share_max: 1 } }, ['flooding', 'late_share_max']],
    [{ leads: { min_score: 101 } }, ['leads', 'min_score']],
    [{ agents: { enabled: true, bots: false } }, ['agents']],
  ])('refuses %j at %j', (input, path) => {
    const parsed = ruleSettingsSchema.safeParse(input);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(path);
  });
});

describe('settingsFor', () => {
  it('derives the window, the lead settings and the paid-ad parameters (lower case, only when paid traffic is forbidden)', () => {
    const rules = ruleSettingsSchema.parse({ paid_ads: { params: ['GCLID', 'gbraid'] }, leads: { min_score: 60 } });
    const forbidden = settingsFor({ ...CAMPAIGN, paid_traffic: 'forbidden', rules });
    expect(forbidden.attributionWindowMs).toBe(30 * 86_400_000);
    expect([...forbidden.paidAdParams]).toEqual(['gclid', 'gbraid']);
    expect(forbidden.lead).toEqual({ required_fields: ['email'], target_countries: ['US'], age_min: 18, age_max: 65, min_lead_score: 60 });
    expect(settingsFor({ ...CAMPAIGN, paid_traffic: 'allowed', rules }).paidAdParams.size).toBe(0);
  });
});

/**
 * The traffic patterns the simulator labels, by name. Honest patterns should be paid; every other
 * pattern names traffic or leads that must not be (though some of its events may be honest: the
 * first of repeated clicks, the first lead of a person who signs up again, the real click before a
 * bad lead).
 */
export const HONEST_PATTERNS = [
  'honest_browser',
  'honest_in_app',
  'honest_office_nat',
  'honest_mobile_cgnat',
  'honest_slow_decider',
  'honest_plus_addressing',
  'honest_promo_code',
  'honest_repeat_visitor',
  'honest_ipv6_privacy',
  'honest_high_converter',
  'honest_minimal_fields',
] as const;

export const FRAUD_PATTERNS = [
  'declared_bot',
  'headless_browser',
  'datacenter_ip',
  'repeat_click',
  'ip_velocity',
  'click_injection',
  'click_flooding',
  'paid_traffic',
  'outside_window',
  'self_referral',
  'conversion_burst',
  'disposable_email',
  'role_email',
  'typo_email',
  'invalid_phone',
  'duplicate_lead',
  'missing_field',
  'wrong_country',
  'wrong_age',
] as const;

export const PATTERNS = [...HONEST_PATTERNS, ...FRAUD_PATTERNS] as const;
export type PatternName = (typeof PATTERNS)[number];
export type FraudPattern = (typeof FRAUD_PATTERNS)[number];

/** Traffic fraud that fraudulent creators commit (the rest happens to anyone's link). */
export const CREATOR_FRAUD: readonly FraudPattern[] = [
  'headless_browser',
  'datacenter_ip',
  'repeat_click',
  'ip_velocity',
  'click_injection',
  'paid_traffic',
  'self_referral',
  'conversion_burst',
];

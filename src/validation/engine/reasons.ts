/**
 * The closed list of reason codes, in the order a verdict reports them: integrity of the input first,
 * then the agent and network, click behaviour, timing, the creator's cohort, the customer, the lead.
 * Each says why an event is not (automatically) paid; the verdict it leads to is in `severity` (some are
 * tunable per campaign, see settings.ts). `note` codes explain a lower score without changing the verdict.
 */
export const REASONS = {
  unknown_campaign: { severity: 'invalid', meaning: 'the event names a campaign no campaign line has defined (yet)' },
  unknown_creator: { severity: 'invalid', meaning: 'the event is attributed to a creator no creator line has defined (yet)' },
  duplicate_id: { severity: 'invalid', meaning: 'an earlier click (or conversion) already had this id; only the first one counts' },
  out_of_order: { severity: 'review', meaning: 'the event is older than one already read: the stream rules could not see it in order' },
  unattributed: { severity: 'invalid', meaning: 'a conversion with no click of this campaign and no creator (promo code) to attribute it to' },
  creator_mismatch: { severity: 'review', meaning: "the conversion names a creator other than its click's; the click wins, a person checks" },
  head_request: { severity: 'invalid', meaning: 'a HEAD request: link checkers and unfurlers, not a visit' },
  prefetch_request: { severity: 'invalid', meaning: 'a prefetch or prerender: the browser guessed, nobody clicked' },
  bot_agent: { severity: 'invalid', meaning: 'a declared bot (isbot), an automation tool (headless, webdriver, curl…) or no user agent' },
  non_browser_agent: { severity: 'invalid', meaning: 'the agent does not claim to be a browser (an HTTP library or SDK)' },
  datacenter_ip: { severity: 'invalid (tunable)', meaning: 'the IP is in a data-centre or hosting range' },
  paid_ad_traffic: { severity: 'invalid', meaning: 'the landing URL carries an ad click id (gclid, fbclid…) and the campaign forbids paid traffic' },
  repeat_click: { severity: 'invalid', meaning: 'same IP, agent and link as a valid click less than the window (1 h) before; not inherited by conversions' },
  visitor_velocity: { severity: 'invalid per minute, review per hour (tunable)', meaning: 'one IP with one agent clicked more than the limit in a window' },
  ip_velocity: { severity: 'review', meaning: 'one IP, any agents, clicked more than the NAT-tolerant limit a minute, on any links or on one link' },
  creator_velocity: { severity: 'review', meaning: "the creator's clicks or conversions per minute or hour exceed the limit" },
  conversion_burst: {
    severity: 'invalid per device, review per IP (tunable)',
    meaning: 'more conversions from one device (IP + agent) or one IP (an IPv6 /64) than the limit in a window; their clicks get it too',
  },
  conversion_before_click: { severity: 'invalid', meaning: 'the conversion is timed before its click' },
  ctit_too_short: { severity: 'invalid', meaning: 'click-to-conversion time under the injection threshold (10 s); its click gets it too' },
  ctit_short: { severity: 'review', meaning: 'click-to-conversion time in the grey zone (10 s up to 15 s); its click gets it too' },
  outside_attribution_window: { severity: 'invalid', meaning: "the conversion came later than the campaign's attribution window after its click" },
  ctit_mostly_late: { severity: 'review or invalid by p-value', meaning: "significantly more than 30 % of the creator's conversions came after 24 h (click spamming)" },
  ctit_flat: { severity: 'review or invalid by p-value', meaning: "the creator's conversions within 24 h are spread flat instead of decaying from the click (click flooding)" },
  conversion_rate_low: {
    severity: 'review or invalid by p-value',
    meaning: "the creator's click-to-conversion rate is under a quarter of the other creators', and significantly below theirs (binomial test)",
  },
  self_referral: { severity: 'invalid', meaning: "the customer's email or phone is the creator's own (normalised)" },
  required_field_missing: { severity: 'invalid', meaning: 'a field the campaign requires is missing from the lead' },
  email_invalid: { severity: 'invalid', meaning: 'the email is not a valid address' },
  email_disposable: { severity: 'invalid on a lead, review on a sale', meaning: 'the email is at a disposable-address domain' },
  email_typo_domain: { severity: 'invalid', meaning: 'the email domain is a known misspelling (gmial.com): it reaches nobody' },
  email_no_mx: { severity: 'invalid', meaning: 'the email domain accepts no mail (online check, off by default)' },
  email_role_account: { severity: 'review', meaning: 'a role account (info@, sales@): someone may stand behind it, nobody can tell who' },
  phone_invalid: { severity: 'invalid', meaning: "the phone is not a number for the customer's country" },
  country_not_targeted: { severity: 'invalid', meaning: "the customer's country is not one the campaign targets (or is unknown)" },
  age_out_of_range: { severity: 'invalid', meaning: "the customer's age is outside the campaign's range (or unknown while targeted)" },
  lead_score_low: { severity: 'review', meaning: "the lead score is under the campaign's minimum (50)" },
  duplicate_lead: { severity: 'invalid', meaning: 'an earlier, not invalid lead of the campaign has the same normalised email or phone' },
  lead_check_failed: { severity: 'review', meaning: 'the lead checker failed or answered a code this engine does not know' },
  // View reports (CPM, src/validation/views): judged when a report is submitted, never by the stream engine;
  // appended here, after the engine's codes, so the positions stored by the engine do not move.
  views_exceed_insights: { severity: 'review', meaning: "the reported views exceed the official insights imported for the post by more than the tolerance (5 %)" },
  views_exceed_followers: { severity: 'review', meaning: 'the reported views exceed 50 × the followers the creator declared on the platform (from 10,000 views)' },
  engagement_exceeds_views: { severity: 'review', meaning: 'the reported likes and comments outnumber the reported views' },
  engagement_low: { severity: 'review', meaning: 'the reported likes and comments are under 0.05 % of the reported views (from 10,000 views)' },
  view_velocity_high: { severity: 'review', meaning: "views a day since the post exceed 25 × the median of the creator's earlier reports (at least 3, from 10,000 views)" },
  views_round_number: { severity: 'review', meaning: 'a round count (a multiple of 10,000) with no platform export of the post: typed from a rounded display, or made up' },
} as const satisfies Record<string, { severity: string; meaning: string }>;

export type ReasonCode = keyof typeof REASONS;

/** Every reason code, in report order. */
export const REASON_CODES = Object.keys(REASONS) as ReasonCode[];

/** A reason's position in REASON_CODES: how reasons are stored and sorted. */
export const R = Object.fromEntries(REASON_CODES.map((code, i) => [code, i])) as Record<ReasonCode, number>;

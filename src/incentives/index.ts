/**
 * Tiered incentives, pure: the terms (schema), periods in the campaign's time zone, conditional
 * rates, caps, tier bonuses, corrections and shortfalls. No database and no ledger here: callers
 * count validated results, then hold and post what these functions compute.
 */
export {
  MAX_RATE_OVERRIDES,
  MAX_TIERS,
  PERIODS,
  WEEKDAYS,
  incentivesInputSchema,
  incentivesSchema,
  normaliseIncentives,
  presentIncentives,
} from './schema.js';
export type {
  Bonus,
  Caps,
  Incentives,
  IncentivesContext,
  IncentivesInput,
  PeriodKind,
  RateOverride,
  Threshold,
  Tier,
  Weekday,
} from './schema.js';
export { isClosed, periodOf, periodsBetween } from './periods.js';
export type { CampaignWindow, Period, PeriodRule } from './periods.js';
export { admitResult, capResults, rateFor } from './rates.js';
export type { PeriodTally, ResultAttributes } from './rates.js';
export { bonusCorrection, computeBonus, payable, progress, tierThresholds } from './bonus.js';
export type { BonusInput, BonusOutcome, NextTier, Progress, ProgressInput } from './bonus.js';

/**
 * A campaign's performance contract, pure: the terms a creator accepts (objective, rate, budget, KPI
 * target, hold period, validation settings, attribution model, incentives), their canonical form and
 * SHA-256, and what they pay for one result. Every flow reads them; campaigns store their versions.
 */
export {
  attributionOf,
  type AttributionTerms,
  budgetGraceDaysOf,
  DEFAULT_ATTRIBUTION,
  DEFAULT_BUDGET_GRACE_DAYS,
  exponentOf,
  grossPayout,
  incentivesOf,
  normaliseTerms,
  type Objective,
  OBJECTIVES,
  onePayout,
  presentTerms,
  rateOf,
  type Terms,
  termsCanonical,
  termsHash,
  type TermsInput,
  termsInputSchema,
} from './terms.js';
export { LEAD_FIELDS, type LeadField, reviewZoneEnd, ruleSettingsFor, VALIDATION_DEFAULTS, type ValidationTerms, viewSettingsFor } from './validation.js';

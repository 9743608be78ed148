/**
 * The validation engine on live traffic (docs/validation.md, "Live traffic"): the conversion path's
 * validator, the release re-check, and the pseudo-addresses stored IP hashes are judged under.
 */
export { customerIpHash, pseudoAddress } from './address.js';
export { campaignLine } from './events.js';
export { type CreatorTraffic, recheckTraffic, type StoredConversion } from './recheck.js';
export { LEAD_FIELDS, type LeadField, ruleSettingsFor, VALIDATION_DEFAULTS, type ValidationTerms, viewSettingsFor } from './settings.js';
export { CLICK_FLAGS, engineValidator, liveEngineDeps, worse } from './validator.js';

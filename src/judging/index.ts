/**
 * The validation engine applied to a campaign's terms and the traffic the server stored (pure) (docs/validation.md, "Live traffic"): the conversion path's
 * validator, the release re-check, and the pseudo-addresses stored IP hashes are judged under.
 */
export { customerIpHash, pseudoAddress } from './address.js';
export { campaignLine } from './events.js';
export { type CreatorTraffic, recheckTraffic, type StoredConversion } from './recheck.js';
export { CLICK_FLAGS, engineValidator, liveEngineDeps, worse } from './validator.js';
export type {
  ClickStatus,
  ConversionCustomer,
  ConversionHistory,
  ConversionToValidate,
  Judgement,
  StoredClick,
  Validator,
  VerdictLevel,
} from './types.js';

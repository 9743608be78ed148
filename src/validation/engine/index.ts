/**
 * The validation engine (issue #4): fraud screening and lead quality for clicks and conversions,
 * fail-closed, with a reason for every verdict. The one public entry of src/validation/engine/.
 */
export { createEngine, type Engine, scoreEvents } from './engine.js';
export {
  type CampaignEvent,
  type ClickEvent,
  type ConversionEvent,
  type CreatorEvent,
  type EngineEvent,
  type Objective,
  OBJECTIVES,
  parseEventLine,
  type ParsedLine,
} from './events.js';
export { engineDeps } from './deps.js';
export { REASON_CODES, REASONS, type ReasonCode } from './reasons.js';
export {
  type CampaignFields,
  type CampaignSettings,
  DEFAULT_RULE_SETTINGS,
  PAID_AD_PARAMS,
  type RuleSettings,
  type RuleSettingsInput,
  ruleSettingsSchema,
  settingsFor,
} from './settings.js';
export type { DatacenterLookup, EngineDeps, LeadCheck, LeadChecker, LeadInput, LeadSettings, Verdict } from './types.js';

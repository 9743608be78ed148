/**
 * The judge, pure: the validation engine (stream and cohort rules, verdicts, reason codes), lead
 * quality, data-centre ranges, which clicks are paid, the plausibility of reported views, and how two
 * customers' identities are compared. No database and no campaign: src/judging applies it to a
 * campaign's terms and to the traffic the server stored.
 */
export { CLICK_STATUSES, type ClickStatus, isAutomatedAgent } from './clicks.js';
export {
  type DatacenterRanges,
  defaultDatacenterRanges,
  loadRangesFile,
  parseRanges,
  SHIPPED_RANGES_FILE,
  useDatacenterRanges,
} from './datacenter/index.js';
export {
  type CampaignEvent,
  type CampaignFields,
  type CampaignSettings,
  type ClickEvent,
  type ConversionEvent,
  createEngine,
  type CreatorEvent,
  type DatacenterLookup,
  DEFAULT_RULE_SETTINGS,
  type Engine,
  engineDeps,
  type EngineDeps,
  type EngineEvent,
  type LeadCheck,
  type LeadChecker,
  type LeadInput,
  type LeadSettings,
  type Objective,
  OBJECTIVES,
  PAID_AD_PARAMS,
  type ParsedLine,
  parseEventLine,
  REASON_CODES,
  type ReasonCode,
  REASONS,
  type RuleSettings,
  type RuleSettingsInput,
  ruleSettingsSchema,
  scoreEvents,
  settingsFor,
  type Verdict,
} from './engine/index.js';
export { isSelfReferral, normaliseEmail } from './identity.js';
export {
  DEFAULT_VIEW_RULE_SETTINGS,
  type EarlierReport,
  type InsightsMatch,
  judgeViewReport,
  matchInsights,
  median,
  type PostInsights,
  VIEW_REASONS,
  type ViewFinding,
  type ViewJudgement,
  type ViewReason,
  type ViewReportFacts,
  type ViewRuleSettings,
  type ViewRuleSettingsInput,
  viewRuleSettingsSchema,
} from './views/index.js';

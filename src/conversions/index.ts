/**
 * Conversions (leads and sales a brand reports, attributed to a creator's click or promo code and
 * validated before their result is held) and verified view reports (CPM). Recording one is a flow:
 * src/flows/conversion.ts.
 */
export { attribute, type Attribution, type AttributionLookups, creditSplit, type CreditSplit, databaseLookups, givenClickIds, objectiveReasons, promoReasons, REJECTIONS, type Touch } from './attribution.js';
export { COMPARED_FIELDS, CONVERSION_TYPES, type ConversionInput, conversionInputSchema, type ConversionRequest, type ConversionType, type Device, firstDifference, MAX_CLICK_IDS, MAX_FUTURE_SKEW_MS, normaliseRequest, occurredAtOf, requestHash } from './input.js';
export { brandClick, type BrandClick, brandClicks, campaignDecisionKeys, completeConversion, completeConversions, conversionById, type ConversionRow, type ConversionStatus, creatorContacts, creatorViewHistory, type CustomerProbe, findConversion, findConversions, getConversion, getViewReport, hasEarlierLead, insertConversion, insertConversions, insertViewReport, listConversions, listViewReports, lockCampaignDecisions, lockExternalId, lockExternalIds, lockManyCampaignDecisions, lockOpenViewReports, lockViewEvidence, type NewConversion, type NewViewReport, probesWithEarlierLead, promoUses, promoUsesMany, recordingConversions, setViewReportResult, type StoredSplit, type StoredTouch, touchesOf, updateViewVerification, viewReportById, viewReportByExternalId, visitorClicks } from './repository.js';
export { importViewInsights, judgeSubmission, type ReportedPost, type ViewInsightsImport } from './view-insights.js';
export { clearViewReport, markViewReportConfirmed, rejectViewReport, submitViewReport, VIEW_REPORT_STATUSES, type ViewReport, type ViewReportScope, type ViewReportStatus } from './views.js';

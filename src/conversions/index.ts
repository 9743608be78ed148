/**
 * Conversions (leads and sales a brand reports, attributed to a creator's click or promo code and
 * validated before their result is held) and verified view reports (CPM).
 */
export { REJECTIONS } from './attribution.js';
export { type ConversionSubmission, recordConversionBatch, recordConversionGrouped } from './batch.js';
export {
  COMPARED_FIELDS,
  CONVERSION_TYPES,
  type ConversionInput,
  conversionInputSchema,
  type ConversionRequest,
  type ConversionType,
} from './input.js';
export {
  type ConversionOutcome,
  finishRecordingConversions,
  getConversion,
  MAX_FUTURE_SKEW_MS,
  type Presenter,
  recordConversion,
} from './record.js';
export { type ConversionRow, type ConversionStatus, listConversions } from './repository.js';
export { importViewInsights, type ReportedPost, type ViewInsightsImport } from './view-insights.js';
export {
  clearViewReport,
  confirmViewReport,
  getViewReport,
  listViewReports,
  rejectViewReport,
  submitViewReport,
  VIEW_REPORT_STATUSES,
  type ViewReport,
  type ViewReportStatus,
} from './views.js';

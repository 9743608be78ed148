/**
 * Settlement: approving results past their hold, ending campaigns past their end, settling ended
 * campaigns (unspent escrow back to the brand, the money-back guarantee), and campaign statements.
 * See docs/settlement.md.
 */
export { type AwaitingFundsReport, fundAndResume, resumeCampaign, runAwaitingFunds } from './funds.js';
export { refundGuarantee, returnFees, reversePaidResult } from './fee-return.js';
export { guaranteeRefund } from './guarantee.js';
export {
  approveAllDue,
  type CampaignSettlement,
  endCampaignsPastEnd,
  runSettlement,
  settleCampaign,
  SETTLEMENT_LIMITS,
  type SettlementFailure,
  type SettlementOptions,
  type SettlementReport,
} from './run.js';
export { type CampaignStatement, campaignStatement, STATEMENT_IDENTITY } from './statement.js';

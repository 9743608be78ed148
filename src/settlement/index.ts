/** Settlement's reads: the campaign statement, the guarantee's arithmetic, and the queries the settlement flow asks (src/flows/settle.ts). docs/settlement.md. */
export { type FeeFigures, feeReturnAfterClose, guaranteeRefund } from './guarantee.js';
export { approvedCount, campaignsPastEnd, campaignsReadyToSettle, clawbacksToBrand, creatorTallies, type CreatorTally, escrowFlows, type EscrowFlows, feeStanding, type FeeStanding, hasJoined, resultTallies, type ResultTally } from './repository.js';
export { type BonusStatement, campaignStatement, type CampaignStatement, STATEMENT_IDENTITY } from './statement.js';

/** Campaigns: versioned terms stored and accepted, the lifecycle, funding and activation, enrolments with link and promo codes. */
export { activateCampaign, BUDGET_PAUSE, type Campaign, CAMPAIGN_STATUSES, type CampaignStatus, canMove, changeTerms, createCampaign, type Escrow, escrowLow, escrowOf, fundCampaign, fundingTransferId, getCampaign, listCampaigns, pauseCampaign, transition, updateCampaign, type Viewer } from './campaigns.js';
export { acceptTerms, type Enrolment, enrolmentById, enrolmentByLinkCode, enrolmentByPromoCode, enrolmentsByIds, enrolmentsByPromoCodes, type EnrolmentWithTerms, listEnrolments, setEnrolmentTarget, withAcceptedTerms } from './enrolments.js';
export { type CampaignRowFilter, campaignRowsPage } from './scope.js';
export { creatorStanding, type Standing } from './standing.js';
export { pauseForBudget } from './repository.js';

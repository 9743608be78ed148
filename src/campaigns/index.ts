/** Campaigns: versioned terms stored and accepted, the lifecycle, funding and activation, enrolments with link and promo codes. */
export { activateCampaign, BUDGET_PAUSE, type Campaign, CAMPAIGN_STATUSES, type CampaignStatus, canMove, changeTerms, createCampaign, type Escrow, escrowLow, escrowOf, fundCampaign, fundingTransferId, getCampaign, listCampaigns, pauseCampaign, transition, updateCampaign, type Viewer } from './campaigns.js';
export { acceptTerms, type Enrolment, type EnrolmentWithTerms, listEnrolments, setEnrolmentTarget, withAcceptedTerms } from './enrolments.js';
export { creatorStanding, type Standing } from './standing.js';
export { type CampaignRowFilter, campaignRowsPage, enrolmentById, enrolmentByLinkCode, enrolmentByPromoCode, enrolmentsByIds, enrolmentsByPromoCodes, pauseForBudget } from './repository.js';

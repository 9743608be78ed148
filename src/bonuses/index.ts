/**
 * Tiered-incentive bonuses through the ledger (issue #5 §4, docs/incentives.md): the bonus job that
 * holds, releases, pays and claws back each creator's bonus per closed period, the bonus tables, the
 * brand's maximum bonus exposure, and what the statement needs. The rules themselves are pure, in
 * src/incentives; caps at payment live with the results (src/results/caps.ts).
 */
export { bonusExposure, type BonusExposure, campaignBonusExposure } from './exposure.js';
export { appendMovement, BONUS_STATUSES, bonusFeeReturns, bonusFlows, type BonusFlows, type BonusPeriodRow, type BonusPeriodUpdate, bonusRowsOf, type BonusStatus, campaignResults, campaignsWithTiers, type CampaignToVisit, enrolmentCount, enrolmentsOf, type EnrolmentTerms, type EscrowState, heldBonusCount, listBonusRows, lockAccounts, lockPeriod, type MovementKind, type PeriodResult, periodResults, termsVersion, updatePeriod } from './repository.js';

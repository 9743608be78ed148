/**
 * Tiered-incentive bonuses through the ledger (issue #5 §4, docs/incentives.md): the bonus job that
 * holds, releases, pays and claws back each creator's bonus per closed period, the bonus tables, the
 * brand's maximum bonus exposure, and what the statement needs. The rules themselves are pure, in
 * src/incentives; caps at payment live with the results (src/results/caps.ts).
 */
export { BONUS_LIMITS, type BonusRunReport, runBonuses, settlePeriodBonus, unreleasedBonuses } from './job.js';
export { type BonusExposure, bonusExposure, campaignBonusExposure } from './exposure.js';
export {
  BONUS_STATUSES,
  type BonusFlows,
  bonusFeeReturns,
  bonusFlows,
  type BonusPeriodRow,
  bonusRowsOf,
  type BonusStatus,
  heldBonusCount,
  listBonusRows,
} from './repository.js';

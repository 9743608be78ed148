import type { Services } from '../services.js';
import { isAppError } from '../../errors/index.js';
import { errorFields, type Logger, type Periodic, startRepeating } from '../../runtime/index.js';
import { runSettlement, type SettlementReport } from '../index.js';

export function startSettlement(services: Services): Periodic {
  return startRepeating({
    name: 'settlement',
    intervalMs: services.config.SETTLE_INTERVAL_MS,
    logger: services.logger,
    work: async () => logReport(services.logger, await runSettlement(services.db)),
  });
}

export function logReport(logger: Logger, report: SettlementReport): void {
  const b = report.bonuses;
  const bonusSteps = b.held + b.released + b.paid + b.clawed_back;
  const funds = report.awaiting_funds.held + report.awaiting_funds.expired;
  if (report.approved > 0 || report.reviewed > 0 || report.campaigns_ended.length > 0 || report.campaigns_settled.length > 0 || bonusSteps > 0 || funds > 0) {
    logger.info('settlement', {
      approved: report.approved,
      reviewed: report.reviewed,
      batches: report.batches,
      campaigns_ended: report.campaigns_ended.length,
      awaiting_funds_held: report.awaiting_funds.held,
      awaiting_funds_expired: report.awaiting_funds.expired,
      campaigns_settled: report.campaigns_settled.length,
      bonuses_held: b.held,
      bonuses_released: b.released,
      bonuses_paid: b.paid,
      bonuses_clawed_back: b.clawed_back,
    });
  }
  for (const f of b.failures) {
    logger.error('bonus step failed', { enrolment_id: f.enrolment_id, period_key: f.period_key, ...errorFields(f.error) });
  }
  for (const f of report.failures) {
    const fields = { campaign_id: f.campaign_id, ...errorFields(f.error) };
    if (isAppError(f.error)) logger.warn('campaign not settled', fields);
    else logger.error('campaign settlement failed', fields);
  }
}

import type { Kysely } from 'kysely';
import type { Services } from '../services.js';
import { isAppError } from '../../errors/index.js';
import { errorFields, type Periodic, startPeriodic } from '../../runtime/index.js';
import { type DataDrivenModelName, DEFAULT_MIN_CONVERSIONS } from '../../attribution/index.js';
import { campaignSnapshot, type CampaignSnapshot, dataDrivenCampaigns, fitCampaign, latestStoredFit, type StoredFit } from '../../fits/index.js';

type Db = Kysely<any>;

/** Campaigns fitted by one run at most; a run that leaves some is followed at once by another. */
export const SCHEDULE_LIMITS = { campaigns_per_run: 10 } as const;

export interface ScheduleReport {
  fitted: Array<{ campaign_id: string; model: DataDrivenModelName; fallback: boolean }>;
  /** Campaigns with nothing new since their latest fit. */
  unchanged: string[];
  /** Changed campaigns left for the next run (over SCHEDULE_LIMITS.campaigns_per_run). */
  waiting: number;
  failures: Array<{ campaign_id: string; error: unknown }>;
}

/**
 * One scheduled pass: every running, paused or ended (not yet settled) campaign whose current terms name
 * a data-driven model is fitted under that model, unless nothing moved since its latest fit (no click,
 * no converting conversion). A refit keeps the minimum of the fit it replaces, so a minimum chosen on
 * demand stays in force; the first fit uses DEFAULT_MIN_CONVERSIONS. A campaign that fails is reported
 * and the others go on.
 */
export async function fitDueCampaigns(db: Db, options: { limit?: number } = {}): Promise<ScheduleReport> {
  const limit = options.limit ?? SCHEDULE_LIMITS.campaigns_per_run;
  const report: ScheduleReport = { fitted: [], unchanged: [], waiting: 0, failures: [] };
  for (const c of await dataDrivenCampaigns(db)) {
    try {
      const snapshot = await campaignSnapshot(db, c.id);
      if (!snapshot) continue;
      const latest = await latestStoredFit(db, c.id, c.model);
      if (latest && !moved(latest, snapshot)) {
        report.unchanged.push(c.id);
        continue;
      }
      if (report.fitted.length + report.failures.length >= limit) {
        report.waiting++;
        continue;
      }
      const fit = await fitCampaign(db, c.id, c.model, { snapshot, minConversions: latest?.minConversions ?? DEFAULT_MIN_CONVERSIONS });
      report.fitted.push({ campaign_id: c.id, model: c.model, fallback: fit.fit.fallback !== undefined });
    } catch (error) {
      report.failures.push({ campaign_id: c.id, error });
    }
  }
  return report;
}

function moved(latest: StoredFit, now: CampaignSnapshot): boolean {
  const was = latest.snapshot;
  return was.lastClickId !== now.lastClickId || was.lastConversionId !== now.lastConversionId || was.convertingConversions !== now.convertingConversions;
}

/** The schedule in the server: every ATTRIBUTION_FIT_INTERVAL_MS (0: only on demand). */
export function startAttributionFits(services: Services): Periodic {
  const intervalMs = services.config.ATTRIBUTION_FIT_INTERVAL_MS;
  if (intervalMs === 0) return { stop: async () => {} };
  return startPeriodic({
    name: 'attribution fits',
    intervalMs,
    logger: services.logger,
    run: async () => {
      const report = await fitDueCampaigns(services.db);
      logReport(services, report);
      // A backlog is taken at once, but not after a failure: a campaign failing every time must not spin.
      return report.waiting > 0 && report.failures.length === 0;
    },
  });
}

function logReport(services: Services, report: ScheduleReport): void {
  const { logger } = services;
  if (report.fitted.length > 0) {
    logger.info('attribution fits', { fitted: report.fitted.length, fallbacks: report.fitted.filter((f) => f.fallback).length, waiting: report.waiting });
  }
  for (const f of report.failures) {
    const fields = { campaign_id: f.campaign_id, ...errorFields(f.error) };
    if (isAppError(f.error)) logger.warn('attribution fit refused', fields);
    else logger.error('attribution fit failed', fields);
  }
}

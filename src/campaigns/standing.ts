import type { Kysely } from 'kysely';
import { databaseNow } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { capResults, type Period, periodOf, progress, type Progress } from '../incentives/index.js';
import { enrolmentIdOf, enrolmentsByIds, resultsInPeriod } from './repository.js';
import { incentivesOf } from '../terms/index.js';

/**
 * Where a creator stands in a campaign's current incentive period (issue #5 §4): validated results so
 * far, the tier reached, what the next tier needs, and the bonus the period would pay if it closed now
 * — on the terms the creator accepted. A result belongs to the period of its recording time (the brand
 * cannot move that, unlike occurred_at). Results still held (pending or in review) are shown apart:
 * bonuses count validated results only.
 */
export interface Standing {
  campaignId: string;
  currency: string;
  /** Null when the accepted terms have no incentives. */
  period: Period | null;
  validated: number;
  held: number;
  baseEarnings: bigint;
  /** The target the creator is measured against: their enrolment's own, else the campaign's. */
  target: number | null;
  progress: Progress | null;
}

export async function creatorStanding(db: Kysely<any>, p: { creatorId: string; campaignId: string }): Promise<Standing> {
  const enrolmentId = await enrolmentIdOf(db, p);
  const [enrolment] = enrolmentId ? await enrolmentsByIds(db, [enrolmentId]) : [];
  if (!enrolment) throw new AppError('not_found', `no campaign ${p.campaignId} that you joined`);
  const terms = enrolment.terms;
  const incentives = incentivesOf(terms);
  const target = incentives ? (enrolment.target ?? incentives.target) : null;
  const empty = { campaignId: p.campaignId, currency: terms.currency, validated: 0, held: 0, baseEarnings: 0n, target };
  if (!incentives) return { ...empty, period: null, progress: null };
  const window = { starts_at: new Date(terms.starts_at), ends_at: new Date(terms.ends_at) };
  const now = await databaseNow(db);
  // Before the start, the first period; after the end, the last one.
  const at = Math.min(Math.max(now.getTime(), window.starts_at.getTime()), window.ends_at.getTime() - 1);
  const period = periodOf(new Date(at), incentives, window);
  const rows = { rows: await resultsInPeriod(db, enrolment.id, period) };
  const approved = rows.rows.filter((r) => r.status === 'approved').map((r) => BigInt(r.gross));
  const capped = capResults(approved, incentives.caps);
  return {
    ...empty,
    period,
    validated: capped.counted,
    held: rows.rows.length - approved.length,
    baseEarnings: capped.baseEarnings,
    progress: progress({
      validatedResults: capped.counted,
      target,
      tiers: incentives.tiers,
      baseEarnings: capped.baseEarnings,
      caps: incentives.caps,
    }),
  };
}

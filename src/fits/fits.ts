import type { Kysely } from 'kysely';
import { AppError, assert } from '../errors/index.js';
import {
  type DataDrivenModelName,
  DEFAULT_MIN_CONVERSIONS,
  type FitOptions,
  fitModel,
  type MarkovFit,
  type ModelFit,
  type ShapleyFit,
} from '../attribution/index.js';
import { type CampaignSnapshot, campaignJourneys, campaignSnapshot } from './journeys.js';
import { type FitRow, insertFitRow, latestFitRow } from './repository.js';

type Db = Kysely<any>;

/** A fit as stored: the model's fit and what it was fitted over. */
export interface StoredFit {
  id: string;
  campaignId: string;
  fittedAt: Date;
  minConversions: number;
  /** The earliest and latest touch, click or conversion read; null when there was nothing. */
  window: { from: Date; to: Date } | null;
  fit: ModelFit;
  /** What the campaign had when the fit read it (the schedule compares it to decide whether to refit). */
  snapshot: Pick<CampaignSnapshot, 'lastClickId' | 'lastConversionId' | 'convertingConversions'>;
}

export interface FitCampaignOptions extends Pick<FitOptions, 'minConversions' | 'exactMaxCreators' | 'permutations' | 'seed'> {
  /** A snapshot taken just before (the schedule has one already); read afresh when absent. */
  snapshot?: CampaignSnapshot;
}

/**
 * Fits `model` over the campaign's journeys, converting and not, stores the fit (append-only: the
 * latest per campaign and model is the one in force) and returns it. Below `minConversions` converting
 * journeys (default DEFAULT_MIN_CONVERSIONS) the fit falls back to linear and its `fallback` says why.
 * Throws not_found for a campaign that does not exist; access is the caller's to check.
 */
export async function fitCampaign(db: Db, campaignId: string, model: DataDrivenModelName, options: FitCampaignOptions = {}): Promise<StoredFit> {
  const snapshot = options.snapshot ?? (await campaignSnapshot(db, campaignId));
  if (!snapshot) throw new AppError('not_found', `no campaign ${campaignId}`);
  assert(snapshot.campaignId === campaignId, `fitCampaign: snapshot of ${snapshot.campaignId} given for ${campaignId}`);
  const minConversions = options.minConversions ?? DEFAULT_MIN_CONVERSIONS;
  const { aggregator, window } = await campaignJourneys(db, snapshot);
  const fit = fitModel(model, aggregator.paths(), {
    minConversions,
    ...(options.exactMaxCreators !== undefined && { exactMaxCreators: options.exactMaxCreators }),
    ...(options.permutations !== undefined && { permutations: options.permutations }),
    ...(options.seed !== undefined && { seed: options.seed }),
  });
  assert(fit.totals.conversions === aggregator.totals().conversions, 'fitCampaign: the fit saw other conversions than were read');
  return insertFit(db, { campaignId, minConversions, window, fit, snapshot });
}

/**
 * The fit in force for the campaign and model: the latest stored, as a ModelFit for `fittedShares`.
 * Null when the campaign was never fitted under that model.
 */
export async function latestFit(db: Db, campaignId: string, model: DataDrivenModelName): Promise<ModelFit | null> {
  return (await latestStoredFit(db, campaignId, model))?.fit ?? null;
}

export async function latestStoredFit(db: Db, campaignId: string, model: DataDrivenModelName): Promise<StoredFit | null> {
  const row = await latestFitRow(db, campaignId, model);
  return row ? storedFitOf(row) : null;
}

async function insertFit(db: Db, p: Omit<StoredFit, 'id' | 'fittedAt'>): Promise<StoredFit> {
  const { fit } = p;
  const row = await insertFitRow(db, p);
  assert(row, 'attribution_fits: the insert returned no row');
  const stored = storedFitOf(row);
  // What is read back is what a split will use: it must be the fit just made.
  assert(sameWeights(stored.fit.weights, fit.weights), `attribution_fits ${stored.id}: the stored weights differ from the fit`);
  return stored;
}

function storedFitOf(row: FitRow): StoredFit {
  const map = (o: Record<string, number> | null) => (o ? new Map(Object.entries(o).map(([k, v]) => [k, Number(v)])) : undefined);
  const common = {
    weights: map(row.weights)!,
    totals: {
      journeys: Number(row.journeys),
      conversions: Number(row.conversions),
      nulls: Number(row.nulls),
      distinctPaths: Number(row.distinct_paths),
      creators: Number(row.creators),
    },
    ...(row.fallback_model && row.fallback_reason ? { fallback: { model: row.fallback_model, reason: row.fallback_reason } } : {}),
  };
  const fit: ModelFit =
    row.model === 'markov'
      ? ({
          model: 'markov',
          ...common,
          ...(row.conversion_probability !== null && { conversionProbability: Number(row.conversion_probability) }),
          ...(row.removal_effects && { removalEffects: map(row.removal_effects)! }),
        } satisfies MarkovFit)
      : ({
          model: 'shapley',
          ...common,
          ...(row.method && { method: row.method }),
          ...(row.standard_errors && { standardErrors: map(row.standard_errors)! }),
          ...(row.permutations !== null && { permutations: Number(row.permutations) }),
        } satisfies ShapleyFit);
  return {
    id: String(row.id),
    campaignId: row.campaign_id,
    fittedAt: row.fitted_at,
    minConversions: Number(row.min_conversions),
    window: row.data_from && row.data_to ? { from: row.data_from, to: row.data_to } : null,
    fit,
    snapshot: {
      lastClickId: row.last_click_id,
      lastConversionId: row.last_conversion_id,
      convertingConversions: Number(row.converting_conversions),
    },
  };
}

function sameWeights(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  return a.size === b.size && [...b].every(([creator, weight]) => a.get(creator) === weight);
}

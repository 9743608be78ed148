import { z } from 'zod';
import { DATA_DRIVEN_MODELS, type DataDrivenModelName, isRuleModel, type ModelFit } from '../../attribution/index.js';
import { fitCampaign, latestStoredFit, type StoredFit } from '../../fits/index.js';
import { attributionOf } from '../../terms/index.js';
import { getCampaign } from '../../campaigns/index.js';
import { AppError } from '../../errors/index.js';
import type { Principal } from '../../tenants/index.js';
import { endpoint } from '../endpoint.js';
import type { Services } from '../../flows/index.js';
import { idParams } from '../schemas.js';
import { viewerOf } from './campaigns.js';
import { attributionSchema, fitAnswerSchema } from '../views/attribution.js';

const object = (m: ReadonlyMap<string, number> | undefined) => (m ? Object.fromEntries(m) : null);

export function fitView(s: StoredFit) {
  const fit: ModelFit = s.fit;
  return {
    id: s.id,
    model: fit.model,
    fitted_at: s.fittedAt,
    min_conversions: s.minConversions,
    /** Creator id → weight (sum 1); a conversion's shares are its creators' weights, normalised. */
    weights: object(fit.weights),
    totals: {
      journeys: fit.totals.journeys,
      conversions: fit.totals.conversions,
      nulls: fit.totals.nulls,
      distinct_paths: fit.totals.distinctPaths,
      creators: fit.totals.creators,
    },
    fallback: fit.fallback ? { model: fit.fallback.model, reason: fit.fallback.reason } : null,
    method: fit.model === 'shapley' ? (fit.method ?? null) : null,
    standard_errors: fit.model === 'shapley' ? object(fit.standardErrors) : null,
    permutations: fit.model === 'shapley' ? (fit.permutations ?? null) : null,
    conversion_probability: fit.model === 'markov' ? (fit.conversionProbability ?? null) : null,
    removal_effects: fit.model === 'markov' ? object(fit.removalEffects) : null,
    data_window: s.window ? { from: s.window.from, to: s.window.to } : null,
  };
}

const fitBody = z.strictObject({
  model: z.enum(DATA_DRIVEN_MODELS).optional().describe("Default: the campaign's model when it is data-driven"),
  min_conversions: z.number().int().min(1).max(1_000_000_000).optional().describe('Converting journeys needed before the model is used instead of linear; default 100'),
});

/** Only the brand that owns the campaign, or an operator; another brand's campaign is not found. */
async function campaignFor(services: Services, principal: Principal, id: string) {
  return getCampaign(services.db, viewerOf(principal), id);
}

export const attributionEndpoints = [
  endpoint({
    method: 'POST',
    path: '/v1/campaigns/{id}/attribution/fit',
    summary:
      "Fit a data-driven attribution model (markov or shapley; default the campaign's own) over the campaign's journeys now; the fit is stored and, for the campaign's model, splits its next conversions",
    tag: 'attribution',
    response: fitAnswerSchema,
    access: ['organization', 'operator'],
    params: idParams,
    body: fitBody,
    status: 201,
    handle: async ({ params, body, principal, services }) => {
      const campaign = await campaignFor(services, principal, params.id);
      const own = attributionOf(campaign.terms).model;
      const model: DataDrivenModelName | undefined = body.model ?? (isRuleModel(own) ? undefined : own);
      if (model === undefined) {
        throw new AppError(
          'model_not_data_driven',
          `campaign ${campaign.id} uses the rule-based model ${own}, which is not fitted; name "model": "markov" or "shapley" to fit one anyway`,
          { details: { field: 'model' } },
        );
      }
      const stored = await fitCampaign(services.db, campaign.id, model, body.min_conversions !== undefined ? { minConversions: body.min_conversions } : {});
      // A create answers the object itself: the fit, with its campaign and whether it now splits payouts.
      return { ...fitView(stored), campaign_id: campaign.id, in_force: model === own };
    },
  }),
  endpoint({
    method: 'GET',
    path: '/v1/campaigns/{id}/attribution',
    summary: "The campaign's attribution model (from its terms) and the latest fit of each data-driven model: weights per creator, totals, fallback, method, standard errors",
    tag: 'attribution',
    response: attributionSchema,
    access: ['organization', 'operator'],
    params: idParams,
    handle: async ({ params, principal, services }) => {
      const campaign = await campaignFor(services, principal, params.id);
      const attribution = attributionOf(campaign.terms);
      const fits: Record<string, ReturnType<typeof fitView> | null> = {};
      for (const model of DATA_DRIVEN_MODELS) {
        const stored = await latestStoredFit(services.db, campaign.id, model);
        fits[model] = stored ? fitView(stored) : null;
      }
      return {
        campaign_id: campaign.id,
        model: attribution.model,
        half_life_days: attribution.model === 'time_decay' ? attribution.half_life_days : null,
        data_driven: !isRuleModel(attribution.model),
        fits,
      };
    },
  }),
];

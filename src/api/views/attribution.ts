import { z } from 'zod';
import { DATA_DRIVEN_MODELS, MODELS } from '../../attribution/index.js';
import { prefixedId, timestamp } from './common.js';

const weights = z.record(z.string(), z.number()).nullable();

const FIT_EXAMPLE = {
  id: 'fit_01jdx8a1b2c3d4e5f6g7h8j9k0',
  model: 'markov',
  fitted_at: '2026-12-20T03:00:00.000Z',
  min_conversions: 100,
  weights: { cr_01jdx3m5a7b9c1d3e5f7g9h1j3: 0.62, cr_01jdx3n6b8c0d2e4f6g8h0j2k4: 0.38 },
  totals: { journeys: 4210, conversions: 312, nulls: 3898, distinct_paths: 57, creators: 2 },
  fallback: null,
  method: null,
  standard_errors: null,
  permutations: null,
  conversion_probability: 0.0741,
  removal_effects: { cr_01jdx3m5a7b9c1d3e5f7g9h1j3: 0.55, cr_01jdx3n6b8c0d2e4f6g8h0j2k4: 0.34 },
  data_window: { from: '2026-12-01T08:12:00.000Z', to: '2026-12-20T02:59:00.000Z' },
};

export const fitSchema = z
  .object({
    id: z.string(),
    model: z.enum(MODELS),
    fitted_at: timestamp,
    min_conversions: z.number().int(),
    weights: weights.describe('Creator id → weight (they sum to 1)'),
    totals: z.object({
      journeys: z.number().int(),
      conversions: z.number().int(),
      nulls: z.number().int(),
      distinct_paths: z.number().int(),
      creators: z.number().int(),
    }),
    fallback: z.object({ model: z.string(), reason: z.string() }).nullable().describe('Why linear stands in, when it does'),
    method: z.string().nullable(),
    standard_errors: weights,
    permutations: z.number().int().nullable(),
    conversion_probability: z.number().nullable(),
    removal_effects: weights,
    data_window: z.object({ from: timestamp, to: timestamp }).nullable(),
  })
  .meta({ id: 'AttributionFit', examples: [FIT_EXAMPLE] });

/** The answer of a fit: the fit itself, with its campaign and whether it is in force. */
export const fitAnswerSchema = fitSchema
  .extend({ campaign_id: prefixedId('cmp'), in_force: z.boolean().describe("The fit is of the campaign's own model: it splits its next conversions") })
  .meta({ id: 'AttributionFitted', examples: [{ ...FIT_EXAMPLE, campaign_id: 'cmp_01jdx4a1b2c3d4e5f6g7h8j9k0', in_force: true }] });

export const attributionSchema = z
  .object({
    campaign_id: prefixedId('cmp'),
    model: z.enum(MODELS),
    half_life_days: z.number().nullable(),
    data_driven: z.boolean(),
    fits: z.object(Object.fromEntries(DATA_DRIVEN_MODELS.map((m) => [m, fitSchema.nullable()])) as Record<(typeof DATA_DRIVEN_MODELS)[number], z.ZodNullable<typeof fitSchema>>),
  })
  .meta({
    id: 'CampaignAttribution',
    examples: [{ campaign_id: 'cmp_01jdx4a1b2c3d4e5f6g7h8j9k0', model: 'markov', half_life_days: null, data_driven: true, fits: { markov: FIT_EXAMPLE, shapley: null } }],
  });

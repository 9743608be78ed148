import { z } from 'zod';
import { CLICK_STATUSES } from '../../tracking/index.js';
import { listOf, prefixedId, timestamp } from './common.js';

const clickShape = z
  .object({
    id: prefixedId('clk'),
    campaign_id: prefixedId('cmp'),
    enrolment_id: prefixedId('enr'),
    creator_id: prefixedId('cr'),
    occurred_at: timestamp,
    status: z.enum(CLICK_STATUSES).describe('Only valid clicks are paid'),
    result_id: prefixedId('res').nullable(),
    user_agent: z.string().nullable(),
    referrer: z.string().nullable(),
    country: z.string().nullable(),
    landing_url: z.string().nullable(),
  });

const CLICK_EXAMPLE = {
  id: 'clk_01jdx5a1b2c3d4e5f6g7h8j9k0',
  campaign_id: 'cmp_01jdx4a1b2c3d4e5f6g7h8j9k0',
  enrolment_id: 'enr_01jdx4c3d4e5f6g7h8j9k0m1n2',
  creator_id: 'cr_01jdx3m5a7b9c1d3e5f7g9h1j3',
  occurred_at: '2026-12-04T14:20:03.000Z',
  status: 'valid',
  result_id: null,
  user_agent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)',
  referrer: 'https://social.example/@ada',
  country: 'US',
  landing_url: 'https://acme.example/spring?ern_cid=clk_01jdx5a1b2c3d4e5f6g7h8j9k0',
};
export const clickSchema = clickShape.meta({ id: 'Click', examples: [CLICK_EXAMPLE] });

export const clickListSchema = listOf(clickSchema, CLICK_EXAMPLE);

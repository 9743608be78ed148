import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { expect } from 'vitest';
import { acceptTerms, activateCampaign, createCampaign, enrolmentById, type EnrolmentWithTerms, fundCampaign } from '../../src/campaigns/index.js';
import { termsInputSchema } from '../../src/terms/index.js';
import { databaseNow } from '../../src/db/index.js';
import { deposit } from '../../src/ledger/index.js';
import { Money } from '../../src/money/index.js';
import { recordResults } from '../../src/flows/index.js';
import type { Result } from '../../src/results/index.js';
import { createOrganization } from '../../src/tenants/index.js';
import { newCreators } from './settlement.js';

/**
 * Set-up for the bonus suites, through the domain functions: a funded, running cpl campaign with
 * incentives, creators enrolled, leads recorded at the database clock's now.
 */
export interface IncentiveCampaign {
  orgId: string;
  campaignId: string;
  enrolments: EnrolmentWithTerms[];
  creators: string[];
}

const DAY_MS = 86_400_000;

export async function seedIncentiveCampaign(
  db: Kysely<any>,
  o: {
    budget: string;
    /** Funded at once (default: the budget). */
    fund?: string;
    rate: string;
    creators: number;
    incentives: Record<string, unknown>;
    holdDays?: number;
    feeBps?: number;
    startsAt?: Date;
    endsInDays?: number;
    kpiTarget?: number;
  },
): Promise<IncentiveCampaign> {
  const orgId = (await createOrganization(db, { name: `brand ${randomUUID().slice(0, 8)}` })).id;
  const now = await databaseNow(db);
  const campaign = await createCampaign(db, {
    orgId,
    name: 'bonus leads',
    terms: termsInputSchema.parse({
      objective: 'cpl',
      rate: o.rate,
      currency: 'USD',
      budget: o.budget,
      destination_url: 'https://shop.example/',
      starts_at: (o.startsAt ?? new Date(now.getTime() - DAY_MS)).toISOString(),
      ends_at: new Date(now.getTime() + (o.endsInDays ?? 10) * DAY_MS).toISOString(),
      kpi_target: o.kpiTarget ?? 0,
      hold_days: o.holdDays ?? 1,
      attribution_window_days: 30,
      fee_bps: o.feeBps ?? 2000,
      guarantee_bps: 10_000,
      promo_max_uses: null,
      promo_once_per_customer: true,
      validation: { min_ctit_seconds: 10, dedupe_leads: true, self_referral: true },
      incentives: o.incentives,
    }),
  });
  const funded = o.fund ?? o.budget;
  expect((await deposit(db, { id: `dep:${randomUUID()}`, orgId, amount: Money.parse('100000.00', 'USD') })).ok).toBe(true);
  await fundCampaign(db, { orgId, campaignId: campaign.id, amount: funded, reference: `fund-${campaign.id}` });
  await activateCampaign(db, orgId, campaign.id);
  const creators = await newCreators(db, o.creators);
  const enrolments: EnrolmentWithTerms[] = [];
  for (const creatorId of creators) {
    const { enrolment: e } = await acceptTerms(db, { creatorId, campaignId: campaign.id, termsVersion: campaign.terms_version, termsSha256: campaign.terms_sha256 });
    enrolments.push((await enrolmentById(db, e.id)) as EnrolmentWithTerms);
  }
  return { orgId, campaignId: campaign.id, enrolments, creators };
}

/** `n` leads for one enrolment, recorded now (one transaction each, so recording order is their order). */
export async function leads(db: Kysely<any>, enrolment: EnrolmentWithTerms, n: number): Promise<Result[]> {
  const now = await databaseNow(db);
  const out: Result[] = [];
  for (let i = 0; i < n; i++) {
    const [r] = await recordResults(db, [
      { kind: 'lead', sourceId: `lead-${randomUUID()}`, enrolment, occurredAt: now, customerId: `customer-${randomUUID()}` },
    ]);
    expect(r?.status).toBe('pending');
    out.push(r as Result);
  }
  return out;
}

export interface BonusRowView {
  period_key: string;
  status: string;
  tier: number | null;
  counted_results: number;
  due: bigint;
  held: bigint;
  credited: bigint;
  paid_net: bigint;
  fees_paid: bigint;
  clawed_back: bigint;
  shortfall: bigint;
  steps: number;
}

export async function bonusRows(db: Kysely<any>, enrolmentId: string): Promise<BonusRowView[]> {
  const r = await sql<BonusRowView>`select period_key, status, tier, counted_results, due, held, credited, paid_net, fees_paid, clawed_back,
      shortfall, steps from bonus_periods where enrolment_id = ${enrolmentId} order by period_start`.execute(db);
  return r.rows.map((x) => ({
    ...x,
    due: BigInt(x.due),
    held: BigInt(x.held),
    credited: BigInt(x.credited),
    paid_net: BigInt(x.paid_net),
    fees_paid: BigInt(x.fees_paid),
    clawed_back: BigInt(x.clawed_back),
    shortfall: BigInt(x.shortfall),
  }));
}

/** Posted bonus movements into a creator's payable (303) and the platform's fees (304) for a campaign's escrow. */
export async function bonusTransfers(db: Kysely<any>, campaignId: string): Promise<{ net: bigint; fee: bigint; count: number }> {
  const r = await sql<{ code: number; total: bigint; n: bigint }>`select code, sum(amount) as total, count(*) as n from ledger_transfers
     where debit_account_id = ${`escrow:${campaignId}`} and code in (303, 304) and flags & 2 = 0 and flags & 8 = 0 group by code`.execute(db);
  const by = new Map(r.rows.map((x) => [x.code, x]));
  return { net: BigInt(by.get(303)?.total ?? 0n), fee: BigInt(by.get(304)?.total ?? 0n), count: r.rows.reduce((n, x) => n + Number(x.n), 0) };
}

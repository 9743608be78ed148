import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import { expect } from 'vitest';
import { acceptTerms, activateCampaign, createCampaign, enrolmentById, type EnrolmentWithTerms, fundCampaign } from '../../src/campaigns/index.js';
import { databaseNow, migrate, openDatabase } from '../../src/db/index.js';
import { AccountId, checkLedger, deposit, lookupAccounts } from '../../src/ledger/index.js';
import { Money } from '../../src/money/index.js';
import { recordResults } from '../../src/flows/index.js';
import type { Result } from '../../src/results/index.js';
import { createCreator, createOrganization } from '../../src/tenants/index.js';
import { openTestDatabase, TEST_DATABASE_URL } from './database.js';

/**
 * Set-up for the settlement and payout suites, through the domain functions (no SQL writes): a brand
 * with a funded, running campaign, creators enrolled in it, and lead results recorded with
 * recordResults (the conversion endpoints have their own suites).
 */
export interface Seeded {
  orgId: string;
  campaignId: string;
  currency: string;
  enrolments: EnrolmentWithTerms[];
}

export interface SeedOptions {
  budget: string;
  rate: string;
  /** New creators to enrol, or existing creator ids. */
  creators: number | string[];
  orgId?: string;
  feeBps?: number;
  kpiTarget?: number;
  guaranteeBps?: number;
  holdDays?: number;
  endsInDays?: number;
  currency?: string;
}

const DAY_MS = 86_400_000;

export async function newCreators(db: Kysely<any>, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const tag = randomUUID().slice(0, 8);
    ids.push((await createCreator(db, { name: `creator ${tag}`, email: `${tag}@creators.example` })).id);
  }
  return ids;
}

export async function seedCampaign(db: Kysely<any>, o: SeedOptions): Promise<Seeded> {
  const currency = o.currency ?? 'USD';
  const orgId = o.orgId ?? (await createOrganization(db, { name: `brand ${randomUUID().slice(0, 8)}` })).id;
  const now = await databaseNow(db);
  const campaign = await createCampaign(db, {
    orgId,
    name: 'leads',
    terms: {
      objective: 'cpl',
      rate: o.rate,
      currency: currency as 'USD',
      budget: o.budget,
      destination_url: 'https://shop.example/',
      starts_at: new Date(now.getTime() - DAY_MS).toISOString(),
      ends_at: new Date(now.getTime() + (o.endsInDays ?? 30) * DAY_MS).toISOString(),
      kpi_target: o.kpiTarget ?? 0,
      hold_days: o.holdDays ?? 7,
      attribution_window_days: 30,
      fee_bps: o.feeBps ?? 2000,
      guarantee_bps: o.guaranteeBps ?? 10_000,
      promo_max_uses: null,
      promo_once_per_customer: true,
      validation: { min_ctit_seconds: 10, dedupe_leads: true, self_referral: true },
    },
  });
  const moved = await deposit(db, { id: `dep:${randomUUID()}`, orgId, amount: Money.parse(o.budget, currency) });
  expect(moved.ok).toBe(true);
  await fundCampaign(db, { orgId, campaignId: campaign.id, reference: `fund-${campaign.id}` });
  await activateCampaign(db, orgId, campaign.id);
  const creators = typeof o.creators === 'number' ? await newCreators(db, o.creators) : o.creators;
  const enrolments: EnrolmentWithTerms[] = [];
  for (const creatorId of creators) {
    const { enrolment: e } = await acceptTerms(db, { creatorId, campaignId: campaign.id, termsVersion: campaign.terms_version, termsSha256: campaign.terms_sha256 });
    enrolments.push((await enrolmentById(db, e.id)) as EnrolmentWithTerms);
  }
  return { orgId, campaignId: campaign.id, currency, enrolments };
}

/** Records `count` leads spread over the campaign's enrolments, 500 per transaction. */
export async function recordLeads(db: Kysely<any>, s: Seeded, count: number): Promise<Result[]> {
  const now = await databaseNow(db);
  const all: Result[] = [];
  for (let start = 0; start < count; start += 500) {
    const drafts = Array.from({ length: Math.min(500, count - start) }, (_, i) => ({
      kind: 'lead' as const,
      sourceId: `lead-${randomUUID()}`,
      enrolment: s.enrolments[(start + i) % s.enrolments.length] as EnrolmentWithTerms,
      occurredAt: now,
      customerId: `customer-${randomUUID()}`,
    }));
    all.push(...(await recordResults(db, drafts)));
  }
  return all;
}

export async function payableOf(db: Kysely<any>, creatorId: string, currency = 'USD'): Promise<{ available: bigint; posted: bigint }> {
  const [a] = await lookupAccounts(db, [AccountId.payable(creatorId, currency)]);
  return { available: a ? a.credits_posted - a.debits_posted - a.debits_pending : 0n, posted: a?.credits_posted ?? 0n };
}

export async function walletOf(db: Kysely<any>, orgId: string, currency = 'USD'): Promise<bigint> {
  const [a] = await lookupAccounts(db, [AccountId.wallet(orgId, currency)]);
  return a ? a.credits_posted - a.debits_posted - a.debits_pending : 0n;
}

export async function expectLedgerClean(db: Kysely<any>): Promise<void> {
  const report = await checkLedger(db);
  expect(report.problems).toEqual([]);
  expect(report.mismatches).toBe(0);
}

/**
 * Every approved result's hold legs are posted exactly once (by its own settle ids) and every pending
 * one's are still pending; each creator's payable was credited exactly the nets of their approved
 * results (no payouts in between).
 */
export async function expectResultsMatchLedger(db: Kysely<any>, campaignIds: readonly string[]): Promise<void> {
  const mismatched = await sql<{ id: string; status: string; hold: string | null; hold_status: string | null }>`
    select r.id, r.status, h.id as hold, h.status as hold_status
      from results r left join ledger_pending h on h.id in (r.id || '.net', r.id || '.fee')
     where r.campaign_id = any(${campaignIds}::text[]) and r.status in ('approved', 'pending')
       and (h.id is null
         or (r.status = 'pending' and h.status <> 'pending')
         or (r.status = 'approved' and (h.status <> 'posted' or h.resolved_by <> r.id || '.settle' || substr(h.id, length(r.id) + 1))))`.execute(db);
  expect(mismatched.rows).toEqual([]);
  const payables = await sql<{ creator_id: string; nets: bigint; credited: bigint }>`
    select r.creator_id, sum(r.gross - r.fee) as nets,
           (select credits_posted from ledger_accounts a where a.id = 'payable:' || r.creator_id || ':' || trim(r.currency)) as credited
      from results r where r.status = 'approved' and r.campaign_id = any(${campaignIds}::text[])
     group by r.creator_id, r.currency`.execute(db);
  for (const p of payables.rows) expect(BigInt(p.credited), `payable of ${p.creator_id}`).toBe(BigInt(p.nets));
}

export async function statusCounts(db: Kysely<any>, campaignIds: readonly string[]): Promise<Record<string, number>> {
  const r = await sql<{ status: string; n: bigint }>`select status, count(*) as n from results
     where campaign_id = any(${campaignIds}::text[]) group by status`.execute(db);
  return Object.fromEntries(r.rows.map((x) => [x.status, Number(x.n)]));
}

/**
 * A database the `earnest` command can reach from outside this suite's connection: on the server,
 * this suite's schema (search_path through the URL); on the embedded engine, a data directory, which
 * only one process (or handle) may hold at a time — open it here only while no command runs.
 */
export interface CliTarget {
  open(): Promise<{ db: Kysely<any>; close(): Promise<void> }>;
  /** Flags for the command (`--data-dir DIR`). */
  args: string[];
  /** Environment for the command (`DATABASE_URL`). */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

export async function cliTarget(): Promise<CliTarget> {
  if (TEST_DATABASE_URL) {
    const test = await openTestDatabase();
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set('options', `-c search_path=${test.schema}`);
    return { open: async () => ({ db: test.db, close: async () => {} }), args: [], env: { DATABASE_URL: url.toString() }, cleanup: () => test.close() };
  }
  const dir = mkdtempSync(join(tmpdir(), 'earnest-cli-'));
  const dataDir = join(dir, 'data');
  return {
    open: async () => {
      const d = await openDatabase<any>({ dataDir });
      await migrate(d.db);
      return { db: d.db, close: () => d.close() };
    },
    args: ['--data-dir', dataDir],
    env: {},
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

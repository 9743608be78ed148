import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceClock, type Database, openDatabase } from '../db/index.js';
import { lookupTransfers } from '../ledger/index.js';
import { campaignStatement } from '../settlement/index.js';
import { runSettlement, type SettlementReport } from './index.js';
import { openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../../test/support/database.js';
import { expectLedgerClean, expectResultsMatchLedger, newCreators, recordLeads, seedCampaign, type Seeded, statusCounts, walletOf } from '../../test/support/settlement.js';

/**
 * Settlers racing on the PostgreSQL server (PGlite is one session and cannot race): four of them,
 * each with its own connection pool like separate processes, over 1,000 due results in four ended
 * campaigns. Every result must be approved exactly once, every campaign ended and settled once, the
 * guarantee paid once where due, and the ledger clean.
 */
const DAY = 86_400;
const PER_CAMPAIGN = 250;

describe.skipIf(!TEST_DATABASE_URL)('racing settlers on the PostgreSQL server', () => {
  let database: TestDatabase;
  let db: Kysely<any>;
  const settlers: Database<any>[] = [];
  const campaigns: Array<Seeded & { kpiTarget: number; walletBefore: bigint }> = [];

  beforeAll(async () => {
    database = await openTestDatabase();
    db = database.db;
    const creators = await newCreators(db, 7);
    for (const kpiTarget of [100, 250, 251, 1000]) {
      // 1.00 per lead at 20 %: net 0.80, fee 0.20; a 300.00 budget leaves 50.00 unspent.
      const s = await seedCampaign(db, { budget: '300.00', rate: '1.00', creators, kpiTarget, guaranteeBps: 7_500, holdDays: 1, endsInDays: 2 });
      campaigns.push({ ...s, kpiTarget, walletBefore: 0n });
    }
    for (const s of campaigns) await recordLeads(db, s, PER_CAMPAIGN);
    for (const s of campaigns) s.walletBefore = await walletOf(db, s.orgId);
    await advanceClock(db, 2 * DAY + 1);
    for (let i = 0; i < 4; i++) settlers.push(await openDatabase({ url: TEST_DATABASE_URL, schema: database.schema, poolSize: 3 }));
  });

  afterAll(async () => {
    for (const s of settlers) await s.close();
    await database?.close();
  });

  it('approve each result once, end and settle each campaign once, and pay the guarantee once', async () => {
    const ids = campaigns.map((c) => c.campaignId);
    expect(await statusCounts(db, ids)).toEqual({ pending: 4 * PER_CAMPAIGN });
    const reports: SettlementReport[] = await Promise.all(settlers.map((s) => runSettlement(s.db, { batchSize: 37 })));

    expect(reports.flatMap((r) => r.failures)).toEqual([]);
    expect(reports.reduce((n, r) => n + r.approved, 0)).toBe(4 * PER_CAMPAIGN);
    expect(reports.filter((r) => r.approved > 0).length).toBeGreaterThan(1); // they really shared the work
    expect(reports.flatMap((r) => r.campaigns_ended).sort()).toEqual([...ids].sort());
    expect(reports.flatMap((r) => r.campaigns_settled.map((s) => s.campaign_id)).sort()).toEqual([...ids].sort());
    expect(await statusCounts(db, ids)).toEqual({ approved: 4 * PER_CAMPAIGN });
    await expectResultsMatchLedger(db, ids);

    for (const c of campaigns) {
      // Fees earned: 250 × 0.20 = 50.00; missed KPI → 75 % back = 37.50.
      const refund = PER_CAMPAIGN < c.kpiTarget ? 3_750n : 0n;
      expect(await walletOf(db, c.orgId), c.campaignId).toBe(c.walletBefore + 5_000n + refund);
      const transfers = await lookupTransfers(db, [`guarantee:${c.campaignId}`, `settle:${c.campaignId}.refund`]);
      expect(transfers.map((t) => t.amount)).toEqual(refund > 0n ? [refund, 5_000n] : [5_000n]);
      const st = await campaignStatement(db, { kind: 'operator' }, c.campaignId);
      expect(st).toMatchObject({ funded: 30_000n, paid_to_creators: 20_000n, platform_fees_gross: 5_000n, fees_refunded: refund, unspent_refunded: 5_000n });
      expect(st.campaign.status).toBe('settled');
      expect(st.reconciles).toBe(true);
    }
    await expectLedgerClean(db);
  });
});

import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creatorStanding } from '../campaigns/index.js';
import { advanceClock, databaseNow } from '../db/index.js';
import { runSettlement } from './index.js';
import { bonusRows, type IncentiveCampaign, leads, seedIncentiveCampaign } from '../../test/support/bonuses.js';
import { openTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { expectLedgerClean } from '../../test/support/settlement.js';

/**
 * Month periods in the campaign's time zone: a result recorded at 23:30 UTC on the last day of a
 * month is already in the next month in Berlin (00:30 or 01:30 local), and still in this month for the
 * same campaign counted in UTC. Each month's bonus is paid once that month has closed, while the
 * campaign still runs. Tiers: 2 results in a month earn a fixed 3.00 (fee 20 %: net 2.40, fee 0.60).
 */
const DAY_MS = 86_400_000;
let database: TestDatabase;
let db: Kysely<any>;
let berlin: IncentiveCampaign;
let utc: IncentiveCampaign;
/** 21:30 UTC on the last day of month M (a month that ends at least a day from now). */
let lastEvening: Date;
let keyM: string;
let keyNext: string;

const monthKey = (y: number, m: number) => `${new Date(Date.UTC(y, m, 1)).getUTCFullYear()}-${String(new Date(Date.UTC(y, m, 1)).getUTCMonth() + 1).padStart(2, '0')}`;

async function moveTo(at: Date): Promise<void> {
  const now = await databaseNow(db);
  expect(at.getTime()).toBeGreaterThan(now.getTime());
  await advanceClock(db, (at.getTime() - now.getTime()) / 1000);
}

beforeAll(async () => {
  database = await openTestDatabase();
  db = database.db;
  const now = await databaseNow(db);
  let y = now.getUTCFullYear();
  let m = now.getUTCMonth();
  lastEvening = new Date(Date.UTC(y, m + 1, 0, 21, 30));
  if (lastEvening.getTime() - now.getTime() < DAY_MS) {
    m += 1;
    lastEvening = new Date(Date.UTC(y, m + 1, 0, 21, 30));
  }
  keyM = monthKey(y, m);
  keyNext = monthKey(y, m + 1);
  const endsInDays = (lastEvening.getTime() - now.getTime()) / DAY_MS + 45;
  const incentives = (time_zone: string) => ({ period: 'month', time_zone, tiers: [{ threshold: { results: 2 }, bonus: { fixed: '3.00' } }] });
  berlin = await seedIncentiveCampaign(db, { budget: '500.00', rate: '10.00', creators: 1, endsInDays, incentives: incentives('Europe/Berlin') });
  utc = await seedIncentiveCampaign(db, { budget: '500.00', rate: '10.00', creators: 1, endsInDays, incentives: incentives('UTC') });
});
afterAll(async () => {
  await database?.close();
});

describe('month periods across time zones', () => {
  it('a result at 23:30 UTC on the last day belongs to the next month in Berlin, to this month in UTC', async () => {
    await moveTo(lastEvening);
    for (const c of [berlin, utc]) await leads(db, c.enrolments[0]!, 1);
    await moveTo(new Date(lastEvening.getTime() + 2 * 3_600_000)); // 23:30 UTC
    for (const c of [berlin, utc]) await leads(db, c.enrolments[0]!, 2);
    const inBerlin = await creatorStanding(db, { creatorId: berlin.creators[0]!, campaignId: berlin.campaignId });
    const inUtc = await creatorStanding(db, { creatorId: utc.creators[0]!, campaignId: utc.campaignId });
    expect(inBerlin.period?.key).toBe(keyNext);
    expect(inBerlin.held).toBe(2);
    expect(inUtc.period?.key).toBe(keyM);
    expect(inUtc.held).toBe(3);
  });

  it('pays the closed month and waits for the open one', async () => {
    await moveTo(new Date(lastEvening.getTime() + 2 * DAY_MS)); // month M closed everywhere, results past their hold
    const run = await runSettlement(db);
    expect(run.approved).toBe(6);
    expect(run.bonuses.failures).toEqual([]);
    // Berlin: one result in M, below the tier; the next month is still open: no row for it
    expect(await bonusRows(db, berlin.enrolments[0]!.id)).toMatchObject([{ period_key: keyM, status: 'released', counted_results: 1, tier: null, due: 0n }]);
    // UTC: all three in M, tier 0: 3.00 paid (net 2.40, fee 0.60)
    expect(await bonusRows(db, utc.enrolments[0]!.id)).toMatchObject([
      { period_key: keyM, status: 'released', counted_results: 3, tier: 0, due: 300n, credited: 300n, paid_net: 240n, fees_paid: 60n },
    ]);
  });

  it('pays the next month in Berlin once it has closed', async () => {
    await moveTo(new Date(lastEvening.getTime() + 34 * DAY_MS));
    const run = await runSettlement(db);
    expect(run.bonuses).toMatchObject({ held: 1, released: 1, failures: [] });
    expect(await bonusRows(db, berlin.enrolments[0]!.id)).toMatchObject([
      { period_key: keyM, counted_results: 1, due: 0n },
      { period_key: keyNext, status: 'released', counted_results: 2, tier: 0, due: 300n, paid_net: 240n, fees_paid: 60n },
    ]);
    expect(await bonusRows(db, utc.enrolments[0]!.id)).toHaveLength(1);
    await expectLedgerClean(db);
  });
});

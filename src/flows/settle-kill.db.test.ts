import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceClock } from '../db/index.js';
import { campaignStatement } from '../settlement/index.js';
import { TEST_DATABASE_URL } from '../../test/support/database.js';
import {
  cliTarget,
  type CliTarget,
  expectLedgerClean,
  expectResultsMatchLedger,
  recordLeads,
  type Seeded,
  seedCampaign,
  statusCounts,
  walletOf,
} from '../../test/support/settlement.js';

/**
 * `earnest settle` killed with SIGKILL in the middle of its work, then run again: nothing is lost and
 * nothing doubled. On the embedded engine the child works on a data directory; on the server, on this
 * suite's schema (search_path through the connection URL).
 */
const CWD = new URL('../..', import.meta.url).pathname;
// bin/earnest.js loads TypeScript in-process: one process to kill (the tsx CLI would run a grandchild
// that outlives a SIGKILL sent to it).
const EARNEST = join(CWD, 'bin/earnest.js');
const DAY = 86_400;
const RESULTS = 1_500;
const BATCH = 10;

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'error' };
  for (const name of ['DATABASE_URL', 'DATA_DIR', 'TEST_DATABASE_URL']) delete env[name];
  return { ...env, ...extra };
}

/** Runs `earnest settle`; with `killAfterBatches`, SIGKILLs it once it reported that many batches. */
function settle(target: CliTarget, killAfterBatches?: number): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const child: ChildProcess = spawn(process.execPath, [EARNEST, 'settle', '--batch-size', String(BATCH), ...target.args], {
    cwd: CWD,
    env: childEnv(target.env),
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
    const batches = stderr.split('\n').filter((l) => l.startsWith('approved ')).length;
    if (killAfterBatches !== undefined && batches >= killAfterBatches) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe(`earnest settle killed mid-way (${TEST_DATABASE_URL ? 'PostgreSQL server' : 'embedded data directory'})`, () => {
  let target: CliTarget;
  let seeded: Seeded;
  let walletBefore: bigint;

  beforeAll(async () => {
    target = await cliTarget();
    const { db, close } = await target.open();
    try {
      // 2.00 per lead at 20 %: net 1.60, fee 0.40. The campaign also ends, so the rerun settles it.
      seeded = await seedCampaign(db, { budget: '4000.00', rate: '2.00', creators: 5, holdDays: 1, endsInDays: 1, kpiTarget: 2_000 });
      await recordLeads(db, seeded, RESULTS);
      walletBefore = await walletOf(db, seeded.orgId);
      await advanceClock(db, DAY + 1);
    } finally {
      await close();
    }
  });

  afterAll(async () => {
    await target?.cleanup();
  });

  it('loses and doubles nothing: the killed run left a consistent part done, and a rerun finishes it', async () => {
    const killed = await settle(target, 5);
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    let { db, close } = await target.open();
    try {
      const counts = await statusCounts(db, [seeded.campaignId]);
      expect(counts.approved ?? 0).toBeGreaterThanOrEqual(5 * BATCH);
      expect(counts.pending ?? 0).toBeGreaterThan(0);
      expect((counts.approved ?? 0) + (counts.pending ?? 0)).toBe(RESULTS);
      await expectResultsMatchLedger(db, [seeded.campaignId]);
      await expectLedgerClean(db);
    } finally {
      await close();
    }

    const rerun = await settle(target);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toMatch(/settled 1 campaign\./);
    ({ db, close } = await target.open());
    try {
      expect(await statusCounts(db, [seeded.campaignId])).toEqual({ approved: RESULTS });
      await expectResultsMatchLedger(db, [seeded.campaignId]);
      const st = await campaignStatement(db, { kind: 'operator' }, seeded.campaignId);
      // 1,500 validated of 2,000: the guarantee returns all 600.00 of fees; 1,000.00 was never spent.
      expect(st).toMatchObject({ paid_to_creators: 240_000n, platform_fees_gross: 60_000n, fees_refunded: 60_000n, unspent_refunded: 100_000n });
      expect(st.reconciles).toBe(true);
      expect(await walletOf(db, seeded.orgId)).toBe(walletBefore + 100_000n + 60_000n);
      await expectLedgerClean(db);
    } finally {
      await close();
    }
  });
});

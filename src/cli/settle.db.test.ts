import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliContext, EXIT, runCli } from './index.js';
import { advanceClock } from '../db/index.js';
import { cliTarget, type CliTarget, expectLedgerClean, recordLeads, type Seeded, seedCampaign } from '../../test/support/settlement.js';

/** `earnest settle`, `earnest statement` and `earnest payouts run`, in process, on a data directory or a server schema. */
const DAY = 86_400;

function context(env: Record<string, string>): CliContext & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    env: { LOG_LEVEL: 'error', PAYOUT_PROVIDER: 'test', PAYOUT_MINIMUM_MINOR: '100', ...env },
    stdout,
    stderr,
    out: (line) => stdout.push(line),
    err: (line) => stderr.push(line),
    waitForStopSignal: () => new Promise(() => {}),
  };
}

describe('settlement commands', () => {
  let target: CliTarget;
  let seeded: Seeded;
  const earnest = async (...args: string[]) => {
    const ctx = context(target.env);
    const code = await runCli([...args, ...target.args], ctx);
    return { code, stdout: ctx.stdout, stderr: ctx.stderr };
  };

  beforeAll(async () => {
    target = await cliTarget();
    const { db, close } = await target.open();
    try {
      seeded = await seedCampaign(db, { budget: '10.00', rate: '1.00', creators: 1, holdDays: 1, endsInDays: 1, kpiTarget: 5, guaranteeBps: 10_000 });
      await recordLeads(db, seeded, 3);
      await advanceClock(db, DAY + 1);
    } finally {
      await close();
    }
  });

  afterAll(async () => {
    await target?.cleanup();
  });

  it('settle approves, ends and settles, and says so (JSON like POST /v1/settlement/run)', async () => {
    const r = await earnest('settle', '--json');
    expect(r.code, r.stderr.join('\n')).toBe(EXIT.ok);
    expect(JSON.parse(r.stdout.join(''))).toEqual({
      approved: 3,
      reviewed: 0,
      batches: 1,
      campaigns_ended: [seeded.campaignId],
      awaiting_funds: { held: 0, expired: 0 },
      bonuses: { held: 0, released: 0, paid: 0, clawed_back: 0, failures: [] },
      campaigns_settled: [
        {
          campaign_id: seeded.campaignId,
          unspent_refunded: { amount: '7.00', currency: 'USD' },
          fees_refunded: { amount: '0.60', currency: 'USD' },
          validated: 3,
          kpi_target: 5,
        },
      ],
      failures: [],
    });
    expect(r.stderr).toEqual(['approved 3 results (3 so far)']);
    const again = await earnest('settle');
    expect(again.stdout).toEqual(['Settlement: approved 0 results in 0 batches; ended 0 campaigns; settled 0 campaigns.']);
  });

  it('statement prints the reconciled figures, and the same JSON as the API', async () => {
    const r = await earnest('statement', seeded.campaignId);
    expect(r.code).toBe(EXIT.ok);
    const text = r.stdout.join('\n');
    expect(text).toMatch(/funded\s+10\.00/);
    expect(text).toMatch(/paid to creators \(net\)\s+2\.40/);
    expect(text).toMatch(/platform fees \(gross\)\s+0\.60/);
    expect(text).toMatch(/refunded under the guarantee\s+0\.60/);
    expect(text).toMatch(/kept by the platform\s+0\.00/);
    expect(text).toMatch(/unspent returned to the brand\s+7\.00/);
    expect(text).toContain('reconciles: yes');
    expect(text).toContain('KPI: 3 validated of a target of 5 (missed); guarantee 10000 bps: applied');
    const json = await earnest('statement', seeded.campaignId, '--json');
    expect(JSON.parse(json.stdout.join(''))).toMatchObject({ reconciles: true, funded: { amount: '10.00', currency: 'USD' } });
    expect((await earnest('statement', 'nonsense')).code).toBe(EXIT.usage);
    expect((await earnest('statement')).code).toBe(EXIT.usage);
    expect((await earnest('statement', 'cmp_0000000000000000000000000a')).code).toBe(EXIT.usage);
  });

  it('payouts run pays the creator through the configured provider', async () => {
    const r = await earnest('payouts', 'run', '--json');
    expect(r.code, r.stderr.join('\n')).toBe(EXIT.ok);
    expect(JSON.parse(r.stdout.join(''))).toMatchObject({ created: 1, completed: 1, failed: 0, sent: 0, pending: 0 });
    const again = await earnest('payouts', 'run');
    expect(again.stdout).toEqual(['Payouts (test): 0 new in 0 batches; 0 completed, 0 sent awaiting confirmation, 0 failed, 0 pending.']);
    const { db, close } = await target.open();
    try {
      await expectLedgerClean(db);
    } finally {
      await close();
    }
  });
});

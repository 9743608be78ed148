import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Money } from '../money/index.js';
import { CSV_HEADER, csvCell, ManualPayoutProvider, type PayoutItem, payoutCsv, payoutProviderFromConfig, TestPayoutProvider } from './providers.js';

const item = (id: string, creator: string, minor: bigint, currency = 'USD', name = 'Ada'): PayoutItem => ({
  payout_id: id,
  creator_id: creator,
  payee_name: name,
  payee_email: `${creator}@example.com`,
  amount: Money.of(minor, currency),
});

describe('CSV', () => {
  it.each([
    ['plain', 'plain'],
    ['with, comma', '"with, comma"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=HYPERLINK("x")', '"\'=HYPERLINK(""x"")"'],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@me', "'@me"],
    ['', ''],
  ])('quotes %j as %j', (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });

  it('writes a header and one row per payout with amounts in the major unit', () => {
    expect(payoutCsv([item('po_1', 'cr_1', 1234n), item('po_2', 'cr_2', 7n, 'JPY', 'Ko, Ltd')])).toBe(
      `${CSV_HEADER}\r\ncr_1,Ada,cr_1@example.com,12.34,USD,po_1\r\ncr_2,"Ko, Ltd",cr_2@example.com,7,JPY,po_2\r\n`,
    );
  });
});

describe('ManualPayoutProvider', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'earnest-manual-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the directory and one file per batch, answering every payout as sent', async () => {
    const provider = new ManualPayoutProvider(join(dir, 'nested', 'out'));
    const reference = provider.batchReference('pob_1');
    expect(reference).toBe('payouts-pob_1.csv');
    const answers = await provider.submit({ reference, items: [item('po_1', 'cr_1', 500n)] });
    expect(answers).toEqual([{ payout_id: 'po_1', status: 'sent' }]);
    expect(readdirSync(join(dir, 'nested', 'out'))).toEqual(['payouts-pob_1.csv']);
  });

  it('never rewrites a delivered batch and leaves no temporary files', async () => {
    const provider = new ManualPayoutProvider(dir);
    const reference = provider.batchReference('pob_2');
    await provider.submit({ reference, items: [item('po_1', 'cr_1', 500n)] });
    const again = await provider.submit({ reference, items: [item('po_1', 'cr_1', 999n)] });
    expect(again).toEqual([{ payout_id: 'po_1', status: 'sent' }]);
    expect(readdirSync(dir)).toEqual([reference]);
    expect(readFileSync(join(dir, reference), 'utf8')).toContain(',5.00,USD,po_1');
  });

  it('is what PAYOUT_PROVIDER=manual makes, writing to PAYOUT_DIR', () => {
    const provider = payoutProviderFromConfig({ PAYOUT_PROVIDER: 'manual', PAYOUT_DIR: dir });
    expect(provider).toBeInstanceOf(ManualPayoutProvider);
    expect((provider as ManualPayoutProvider).dir).toBe(dir);
    expect(payoutProviderFromConfig({ PAYOUT_PROVIDER: 'test', PAYOUT_DIR: dir })).toBeInstanceOf(TestPayoutProvider);
  });
});

describe('TestPayoutProvider', () => {
  it('pays at once, fails for the creators it is told to, and answers a payout seen before the same way', async () => {
    const provider = new TestPayoutProvider();
    provider.failFor('cr_2', 'closed');
    const batch = { reference: 'test-pob_1', items: [item('po_1', 'cr_1', 1n), item('po_2', 'cr_2', 2n)] };
    const first = await provider.submit(batch);
    expect(first).toEqual([
      { payout_id: 'po_1', status: 'completed' },
      { payout_id: 'po_2', status: 'failed', failure: 'closed' },
    ]);
    provider.succeedFor('cr_2');
    expect(await provider.submit(batch)).toEqual(first);
    expect(provider.submitted.map((i) => i.payout_id)).toEqual(['po_1', 'po_2']);
    expect(await provider.submit({ reference: 'test-pob_2', items: [item('po_3', 'cr_2', 2n)] })).toEqual([{ payout_id: 'po_3', status: 'completed' }]);
  });
});

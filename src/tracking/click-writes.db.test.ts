import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../db/index.js';
import { insertClicks, type NewClick } from './repository.js';
import { openTestDatabase, type TestDatabase } from '../../test/support/database.js';

/**
 * The click writer's insert, retried: after a lost commit acknowledgement the writer sends the same
 * clicks again — possibly with newer ones appended to the batch — and only the new ones may go in,
 * and only they are reported as written by this attempt.
 */
let t: TestDatabase;

beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(async () => {
  await t?.close();
});

function click(id: string): NewClick {
  return {
    id,
    enrolment_id: 'enr_test',
    campaign_id: 'cmp_test',
    creator_id: 'cr_test',
    occurred_at: new Date('2026-11-01T10:00:00Z'),
    ip_hash: 'f'.repeat(64),
    user_agent: 'Mozilla/5.0',
    referrer: null,
    country: 'DE',
    landing_url: `https://shop.example/?ern_cid=${id}`,
    visitor_id: 'vis_01jdtest',
    status: 'valid',
    billable: false,
  };
}

describe('insertClicks', () => {
  it('reports every click of a fresh batch as written, and keeps what it was given', async () => {
    const written = await inTransaction(t.db, (trx) => insertClicks(trx, [click('clk_a1'), click('clk_a2')]));
    expect([...written].sort()).toEqual(['clk_a1', 'clk_a2']);
    const rows = await t.db.selectFrom('clicks').select(['id', 'country', 'status', 'billable', 'visitor_id']).where('id', 'in', ['clk_a1', 'clk_a2']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'clk_a1', country: 'DE', status: 'valid', billable: false, visitor_id: 'vis_01jdtest' },
      { id: 'clk_a2', country: 'DE', status: 'valid', billable: false, visitor_id: 'vis_01jdtest' },
    ]);
  });

  it('on a retry that grew, writes and reports only the clicks not written before', async () => {
    await inTransaction(t.db, (trx) => insertClicks(trx, [click('clk_b1')]));
    const written = await inTransaction(t.db, (trx) => insertClicks(trx, [click('clk_b1'), click('clk_b2')]));
    expect([...written]).toEqual(['clk_b2']);
    const again = await inTransaction(t.db, (trx) => insertClicks(trx, [click('clk_b1'), click('clk_b2')]));
    expect(again.size).toBe(0);
    const count = await t.db.selectFrom('clicks').select((eb) => eb.fn.countAll().as('n')).where('id', 'like', 'clk_b%').executeTakeFirst();
    expect(Number(count?.n)).toBe(2);
  });
});

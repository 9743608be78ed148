import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolmentById, type EnrolmentWithTerms } from '../campaigns/index.js';
import { advanceClock, databaseNow } from '../db/index.js';
import { ManualPayoutProvider, TestPayoutProvider } from '../payouts/index.js';
import { payoutProviderOf, recordResults, usePayoutProvider } from './index.js';
import type { Result } from '../results/index.js';
import { type ApiResponse, startTestApi, type TestApi } from '../../test/support/api.js';
import { expectLedgerClean } from '../../test/support/settlement.js';

/**
 * The whole loop over HTTP: a brand deposits, funds and runs two campaigns; creators join; results
 * are recorded (with recordResults: the conversion endpoints have their own suites) and one rejected;
 * the clock passes the hold and the end; settlement approves, ends and settles; statements reconcile,
 * with the guarantee refunded where the KPI was missed and not where it was met; payouts go out
 * through the test provider (one failing) and the manual one (completed and failed by an operator).
 */
const DAY = 86_400;
let api: TestApi;
let dir: string;
const parties: Record<'brand' | 'other' | 'ada' | 'bob', { key: string; id: string }> = {} as never;
const campaigns: Record<'met' | 'missed', string> = {} as never;
const enrolments: Record<string, EnrolmentWithTerms> = {};

function ok(r: ApiResponse, status = 200): any {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  return r.body;
}

function expectError(r: ApiResponse, status: number, code: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body.error.code).toBe(code);
}

const usd = (amount: string) => ({ amount, currency: 'USD' });

let recorded = 0;

async function record(campaign: 'met' | 'missed', creator: 'ada' | 'bob', n: number): Promise<Result[]> {
  const enrolment = enrolments[`${campaign}:${creator}`] as EnrolmentWithTerms;
  const now = await databaseNow(api.database.db);
  return recordResults(
    api.database.db,
    Array.from({ length: n }, (_, i) => ({ kind: 'lead' as const, sourceId: `${campaign}-${creator}-${recorded++}-${i}`, enrolment, occurredAt: now })),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'earnest-api-payouts-'));
  // Settlement runs when asked in this suite, not on its own in the middle of an assertion.
  api = await startTestApi({ SETTLE_INTERVAL_MS: '86400000', PAYOUT_PROVIDER: 'test', PAYOUT_MINIMUM_MINOR: '100', PAYOUT_DIR: dir });
  for (const name of ['brand', 'other'] as const) {
    const b = ok(await api.call('POST', '/v1/organizations', { key: api.operatorKey, body: { name } }), 201);
    parties[name] = { key: b.api_key, id: b.id };
  }
  for (const name of ['ada', 'bob'] as const) {
    const c = ok(await api.call('POST', '/v1/creators', { key: api.operatorKey, body: { name, email: `${name}@creators.example` } }), 201);
    parties[name] = { key: c.api_key, id: c.id };
  }
  const brand = parties.brand.key;
  ok(await api.call('POST', '/v1/deposits', { key: brand, body: { amount: '200.00', currency: 'USD', reference: 'd1' } }), 201);
  const now = await databaseNow(api.database.db);
  const base = {
    objective: 'cpl',
    rate: '2.50',
    currency: 'USD',
    budget: '50.00',
    destination_url: 'https://shop.example/',
    starts_at: new Date(now.getTime() - DAY * 1000).toISOString(),
    ends_at: new Date(now.getTime() + 10 * DAY * 1000).toISOString(),
    hold_days: 7,
    fee_bps: 2000,
  };
  const specs = { met: { kpi_target: 3, guarantee_bps: 10_000 }, missed: { kpi_target: 10, guarantee_bps: 5_000 } };
  for (const [name, spec] of Object.entries(specs) as Array<['met' | 'missed', object]>) {
    const c = ok(await api.call('POST', '/v1/campaigns', { key: brand, body: { name, terms: { ...base, ...spec } } }), 201);
    campaigns[name] = c.id;
    ok(await api.call('POST', `/v1/campaigns/${c.id}/fund`, { key: brand, body: { reference: `f-${name}` } }));
    ok(await api.call('POST', `/v1/campaigns/${c.id}/activate`, { key: brand, body: {} }));
    for (const creator of ['ada', 'bob'] as const) {
      const body = { terms_version: c.terms_version, terms_sha256: c.terms_sha256 };
      const e = ok(await api.call('POST', `/v1/campaigns/${c.id}/enrolments`, { key: parties[creator].key, body }), 201);
      enrolments[`${name}:${creator}`] = (await enrolmentById(api.database.db, e.id)) as EnrolmentWithTerms;
    }
  }
});

afterAll(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('settlement over HTTP', () => {
  it('approves nothing before the hold period ends; creators see the pending holds', async () => {
    const met = await record('met', 'ada', 3);
    await record('met', 'bob', 1);
    await record('missed', 'ada', 2);
    ok(await api.call('POST', `/v1/results/${met[0]?.id}/reject`, { key: parties.brand.key, body: { reason: 'duplicate_order' } }));
    expectError(await api.call('POST', '/v1/settlement/run', { key: parties.brand.key, body: {} }), 403, 'forbidden');
    expect(ok(await api.call('POST', '/v1/settlement/run', { key: api.operatorKey, body: {} }))).toMatchObject({ approved: 0, campaigns_settled: [] });
    const balance = ok(await api.call('GET', '/v1/me/balance', { key: parties.ada.key }));
    expect(balance.data).toEqual([{ currency: 'USD', available: usd('0.00'), pending: usd('8.00'), in_transit: usd('0.00'), receivable: usd('0.00') }]);
  });

  it('approves results past their hold; the running campaign’s statement reconciles', async () => {
    await advanceClock(api.database.db, 8 * DAY);
    const run = ok(await api.call('POST', '/v1/settlement/run', { key: api.operatorKey, body: { batch_size: 2 } }));
    expect(run).toMatchObject({ approved: 5, batches: 3, campaigns_ended: [], campaigns_settled: [], failures: [] });
    const st = ok(await api.call('GET', `/v1/campaigns/${campaigns.met}/statement`, { key: parties.brand.key }));
    expect(st).toMatchObject({
      campaign: { id: campaigns.met, status: 'active' },
      funded: usd('50.00'),
      paid_to_creators: usd('6.00'),
      platform_fees_gross: usd('1.50'),
      fees_refunded: usd('0.00'),
      platform_fees_kept: usd('1.50'),
      unspent_refunded: usd('0.00'),
      escrow_balance: usd('42.50'),
      escrow: { held: usd('0.00'), available: usd('42.50'), closed: false },
      results: { approved: { count: 3, reasons: {} }, rejected: { count: 1, reasons: { duplicate_order: 1 } } },
      kpi: { target: 3, validated: 3, met: true },
      guarantee: { decided: false, applied: false },
      reconciles: true,
    });
    expect(st.identity).toMatch(/^funded = paid_to_creators \+ bonuses\.paid \+ \(platform_fees_gross − fees_returned\) \+ unspent_refunded \+ escrow_balance/);
    await expectLedgerClean(api.database.db);
  });

  it("lets a creator read the statement of a campaign they joined, with their own lines only; others' stay invisible (404)", async () => {
    const brandView = ok(await api.call('GET', `/v1/campaigns/${campaigns.met}/statement`, { key: parties.brand.key }));
    expect(brandView.creator_id).toBeNull();
    expect(brandView.creators.map((c: { creator_id: string }) => c.creator_id).sort()).toEqual([parties.ada.id, parties.bob.id].sort());

    const adas = ok(await api.call('GET', `/v1/campaigns/${campaigns.met}/statement`, { key: parties.ada.key }));
    expect(adas).toMatchObject({
      campaign: { id: campaigns.met, status: 'active' },
      creator_id: parties.ada.id,
      // The campaign's figures, as the campaign shows its escrow to its creators.
      funded: usd('50.00'),
      paid_to_creators: usd('6.00'),
      escrow_balance: usd('42.50'),
      reconciles: true,
      // Ada's own: 3 results, one rejected.
      results: { approved: { count: 2, reasons: {} }, rejected: { count: 1, reasons: { duplicate_order: 1 } } },
      creators: [{ creator_id: parties.ada.id, results: 3, earned: usd('5.00') }],
    });
    expect(adas.creators).toHaveLength(1);
    expect(JSON.stringify(adas)).not.toContain(parties.bob.id);
    const bobs = ok(await api.call('GET', `/v1/campaigns/${campaigns.met}/statement`, { key: parties.bob.key }));
    expect(bobs).toMatchObject({ creator_id: parties.bob.id, results: { approved: { count: 1 } }, creators: [{ creator_id: parties.bob.id, results: 1 }] });
    expect(Object.keys(bobs.results)).toEqual(['approved']);
    expect(JSON.stringify(bobs)).not.toContain(parties.ada.id);

    // A creator who did not join sees the running campaign, but not its statement: 404 exactly like an unknown campaign.
    const cy = ok(await api.call('POST', '/v1/creators', { key: api.operatorKey, body: { name: 'cy', email: 'cy@creators.example' } }), 201);
    expect((await api.call('GET', `/v1/campaigns/${campaigns.met}`, { key: cy.api_key })).status).toBe(200);
    const refused = await api.call('GET', `/v1/campaigns/${campaigns.met}/statement`, { key: cy.api_key });
    const unknown = await api.call('GET', '/v1/campaigns/cmp_nope/statement', { key: cy.api_key });
    expectError(refused, 404, 'not_found');
    expectError(unknown, 404, 'not_found');
    expect(refused.body.error.message.replace(campaigns.met, 'X')).toBe(unknown.body.error.message.replace('cmp_nope', 'X'));
  });

  it('ends both campaigns at their end date and settles them: unspent back, the guarantee only where the KPI was missed', async () => {
    await advanceClock(api.database.db, 3 * DAY);
    const run = ok(await api.call('POST', '/v1/settlement/run', { key: api.operatorKey, body: {} }));
    expect([...run.campaigns_ended].sort()).toEqual([campaigns.met, campaigns.missed].sort());
    const settled = Object.fromEntries(run.campaigns_settled.map((s: any) => [s.campaign_id, s]));
    expect(settled[campaigns.met]).toEqual({ campaign_id: campaigns.met, unspent_refunded: usd('42.50'), fees_refunded: usd('0.00'), validated: 3, kpi_target: 3 });
    // Fees earned on "missed": 2 × 0.50 = 1.00; 5,000 bps of it comes back.
    expect(settled[campaigns.missed]).toEqual({ campaign_id: campaigns.missed, unspent_refunded: usd('45.00'), fees_refunded: usd('0.50'), validated: 2, kpi_target: 10 });

    const missed = ok(await api.call('GET', `/v1/campaigns/${campaigns.missed}/statement`, { key: parties.brand.key }));
    expect(missed).toMatchObject({
      campaign: { status: 'settled' },
      funded: usd('50.00'),
      paid_to_creators: usd('4.00'),
      platform_fees_gross: usd('1.00'),
      fees_refunded: usd('0.50'),
      platform_fees_kept: usd('0.50'),
      unspent_refunded: usd('45.00'),
      escrow_balance: usd('0.00'),
      escrow: { held: usd('0.00'), available: usd('0.00'), closed: true },
      kpi: { target: 10, validated: 2, met: false },
      guarantee: { guarantee_bps: 5000, decided: true, applied: true },
      reconciles: true,
    });
    const met = ok(await api.call('GET', `/v1/campaigns/${campaigns.met}/statement`, { key: api.operatorKey }));
    expect(met).toMatchObject({ campaign: { status: 'settled' }, guarantee: { decided: true, applied: false }, reconciles: true });
    // 200.00 − 100.00 funded + 42.50 + 45.00 unspent + 0.50 guarantee.
    expect(ok(await api.call('GET', '/v1/wallet', { key: parties.brand.key })).data[0].balance).toEqual(usd('188.00'));
    await expectLedgerClean(api.database.db);
  });

  it('keeps statements from other brands (not_found) and refuses results for an ended campaign', async () => {
    expect(ok(await api.call('GET', `/v1/campaigns/${campaigns.met}/statement`, { key: parties.ada.key }))).toMatchObject({ creator_id: parties.ada.id, reconciles: true });
    expectError(await api.call('GET', `/v1/campaigns/${campaigns.met}/statement`, { key: parties.other.key }), 404, 'not_found');
    expectError(await api.call('GET', '/v1/campaigns/cmp_nope/statement', { key: api.operatorKey }), 404, 'not_found');
    const [late] = await record('met', 'bob', 1);
    expect(late).toMatchObject({ status: 'rejected', reasons: ['campaign_settled'] });
  });
});

describe('payouts over HTTP', () => {
  let bobsPayout: string;

  it('pay creators through the test provider; a failure returns the money to the payable', async () => {
    const provider = payoutProviderOf(api.services);
    expect(provider).toBeInstanceOf(TestPayoutProvider);
    (provider as TestPayoutProvider).failFor(parties.bob.id, 'bank account closed');
    expectError(await api.call('POST', '/v1/payouts/run', { key: parties.ada.key }), 403, 'forbidden');
    const run = ok(await api.call('POST', '/v1/payouts/run', { key: api.operatorKey }));
    expect(run).toMatchObject({ created: 2, completed: 1, failed: 1, sent: 0, pending: 0 });

    const adas = ok(await api.call('GET', '/v1/payouts', { key: parties.ada.key })).data;
    expect(adas).toEqual([expect.objectContaining({ creator_id: parties.ada.id, amount: '8.00', currency: 'USD', status: 'completed', provider: 'test' })]);
    const bobs = ok(await api.call('GET', '/v1/payouts?status=failed', { key: parties.bob.key })).data;
    expect(bobs).toEqual([expect.objectContaining({ amount: '2.00', status: 'failed', failure: 'bank account closed' })]);
    expectError(await api.call('GET', `/v1/payouts/${adas[0].id}`, { key: parties.bob.key }), 404, 'not_found');
    expect(ok(await api.call('GET', `/v1/payouts/${adas[0].id}`, { key: parties.ada.key })).id).toBe(adas[0].id);
    expect(ok(await api.call('GET', '/v1/payouts', { key: api.operatorKey })).data).toHaveLength(2);
    expectError(await api.call('GET', '/v1/payouts', { key: parties.brand.key }), 403, 'forbidden');
    expect(ok(await api.call('GET', '/v1/me/balance', { key: parties.ada.key })).data[0]).toMatchObject({ available: usd('0.00'), in_transit: usd('0.00') });
    expect(ok(await api.call('GET', '/v1/me/balance', { key: parties.bob.key })).data[0]).toMatchObject({ available: usd('2.00'), in_transit: usd('0.00') });
    await expectLedgerClean(api.database.db);
  });

  it('write manual payouts to a CSV file that an operator then fails or completes', async () => {
    usePayoutProvider(api.services, new ManualPayoutProvider(dir));
    const run = ok(await api.call('POST', '/v1/payouts/run', { key: api.operatorKey }));
    expect(run).toMatchObject({ sent: 1, completed: 0, failed: 0 });
    expect(readdirSync(dir)).toEqual([run.batches[0]]);
    const sent = ok(await api.call('GET', '/v1/payouts?status=sent', { key: parties.bob.key })).data;
    expect(sent).toEqual([expect.objectContaining({ amount: '2.00', provider: 'manual', provider_reference: run.batches[0] })]);
    bobsPayout = sent[0].id;
    expect(readFileSync(join(dir, run.batches[0]), 'utf8')).toBe(
      `payee,name,email,amount,currency,reference\r\n${parties.bob.id},bob,bob@creators.example,2.00,USD,${bobsPayout}\r\n`,
    );
    expect(ok(await api.call('GET', '/v1/me/balance', { key: parties.bob.key })).data[0]).toMatchObject({ available: usd('0.00'), in_transit: usd('2.00') });

    expectError(await api.call('POST', `/v1/payouts/${bobsPayout}/fail`, { key: api.operatorKey, body: {} }), 400, 'invalid_request');
    expectError(await api.call('POST', `/v1/payouts/${bobsPayout}/fail`, { key: parties.bob.key, body: { reason: 'x' } }), 403, 'forbidden');
    const failed = ok(await api.call('POST', `/v1/payouts/${bobsPayout}/fail`, { key: api.operatorKey, body: { reason: 'IBAN rejected' } }));
    expect(failed).toMatchObject({ status: 'failed', failure: 'IBAN rejected' });
    expectError(await api.call('POST', `/v1/payouts/${bobsPayout}/complete`, { key: api.operatorKey }), 409, 'invalid_state');
    expect(ok(await api.call('GET', '/v1/me/balance', { key: parties.bob.key })).data[0]).toMatchObject({ available: usd('2.00'), in_transit: usd('0.00') });

    const again = ok(await api.call('POST', '/v1/payouts/run', { key: api.operatorKey }));
    expect(again).toMatchObject({ sent: 1 });
    const [next] = ok(await api.call('GET', '/v1/payouts?status=sent', { key: api.operatorKey })).data;
    const completed = ok(await api.call('POST', `/v1/payouts/${next.id}/complete`, { key: api.operatorKey }));
    expect(completed).toMatchObject({ status: 'completed', amount: '2.00' });
    expect(completed.finished_at).not.toBeNull();
    expect(ok(await api.call('POST', `/v1/payouts/${next.id}/complete`, { key: api.operatorKey })).status).toBe('completed');
    expectError(await api.call('POST', `/v1/payouts/${next.id}/fail`, { key: api.operatorKey, body: { reason: 'late' } }), 409, 'invalid_state');
    expectError(await api.call('POST', '/v1/payouts/po_nope/complete', { key: api.operatorKey }), 404, 'not_found');
    expect(ok(await api.call('GET', '/v1/me/balance', { key: parties.bob.key })).data[0]).toMatchObject({ available: usd('0.00'), in_transit: usd('0.00') });
    expect(readdirSync(dir)).toHaveLength(2);
    await expectLedgerClean(api.database.db);
  });

  it('are described in the OpenAPI document', async () => {
    const doc = ok(await api.call('GET', '/openapi.json'));
    for (const path of ['/v1/settlement/run', '/v1/campaigns/{id}/statement', '/v1/payouts/run', '/v1/payouts', '/v1/payouts/{id}/complete', '/v1/payouts/{id}/fail', '/v1/me/balance']) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
  });
});

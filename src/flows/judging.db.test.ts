import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversionAnswer } from '../api/routes/conversions.js';
import { type CliContext, EXIT, runCli } from '../cli/index.js';
import { recordConversion } from './index.js';
import { advanceClock, databaseNow } from '../db/index.js';
import { AccountId, checkLedger, clawbackRequests, clawbackToWallet, lookupAccounts, lookupTransfers } from '../ledger/index.js';
import { Money } from '../money/index.js';
import { createBrand, createCreator, expectError, insertClick, launchCampaign, type Launched, type Party } from '../../test/support/conversions.js';
import { type ApiResponse, startTestApi, type TestApi } from '../../test/support/api.js';
import { TEST_DATABASE_URL } from '../../test/support/database.js';

/**
 * Live traffic through the validation engine, over real HTTP (issue #4 §1, §3, §5): fraud never
 * reaches a creator's payable, `review` results are never paid until an operator approves them, the
 * cohort re-check at release catches a flooding creator, rejections void holds, reversals after
 * payout claw money back (a shortfall on the receivable) and the ledger stays clean. Both engines.
 */
const DAY = 86_400;
const usd = (amount: string) => ({ amount, currency: 'USD' });

function ok(r: ApiResponse, status = 200): any {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  return r.body;
}

/** The id an operator key is recorded under: its key id. */
const keyIdOf = (key: string) => `key_${key.slice(3, 29)}`;

/**
 * `earnest ledger check`: the command itself (in process) on the server, where it can reach this
 * suite's schema; the function it runs on the embedded engine, whose in-memory database no command
 * can open.
 */
async function ledgerCheckIsClean(api: TestApi): Promise<void> {
  if (TEST_DATABASE_URL && api.database.schema) {
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set('options', `-c search_path=${api.database.schema}`);
    const out: string[] = [];
    const context: CliContext = {
      env: { LOG_LEVEL: 'error', DATABASE_URL: url.toString() },
      out: (line) => out.push(line),
      err: () => {},
      waitForStopSignal: () => new Promise(() => {}),
    };
    expect(await runCli(['ledger', 'check', '--json'], context)).toBe(EXIT.ok);
    expect(JSON.parse(out.join(''))).toMatchObject({ mismatches: 0 });
  }
  const report = await checkLedger(api.database.db);
  expect(report.problems).toEqual([]);
  expect(report.mismatches).toBe(0);
}

let api: TestApi;
let dir: string;
let brand: Party;
let otherBrand: Party;
let ada: Party;
let flo: Party;
let hon: Party;
let leads: Launched;
let strict: Launched;
let flood: Launched;
let short: Launched;
let other: Launched;
let floodHonEnrolment: string;
let now: Date;
let seq = 0;
/** Results the later steps come back to. */
let honest: string;
let shortHonest: string;
let greyId: string;
let viaSinglePath: string;
const floodIds: string[] = [];
const nextId = (p: string) => `${p}-${++seq}`;

async function enrol(c: Launched, creator: Party): Promise<Launched> {
  const campaign = ok(await api.call('GET', `/v1/campaigns/${c.id}`, { key: brand.key }));
  const e = ok(
    await api.call('POST', `/v1/campaigns/${c.id}/enrolments`, {
      key: creator.key,
      body: { terms_version: campaign.terms_version, terms_sha256: campaign.terms_sha256 },
    }),
    201,
  );
  return { id: c.id, enrolmentId: e.id, promoCode: e.promo_code };
}

/** A lead through a click made `ctitMs` before the conversion, at `at` (default: now on the database clock). */
async function lead(c: Launched, creator: Party, ctitMs: number, customer: Record<string, unknown> = {}, at?: Date, key = brand.key) {
  const when = at ?? now;
  const click = await insertClick(api, c, creator, { at: new Date(when.getTime() - ctitMs) });
  const body = {
    external_id: nextId('lead'),
    type: 'lead',
    click_id: click.id,
    customer: { id: nextId('cus'), email: `${nextId('person')}@shop.example`, ...customer },
    occurred_at: when.toISOString(),
  };
  const r = ok(await api.call('POST', '/v1/conversions', { key, body }), 201);
  return r.result as { id: string; status: string; reasons: string[] };
}

const settle = async () => ok(await api.call('POST', '/v1/settlement/run', { key: api.operatorKey, body: {} }));
const result = async (id: string, key = api.operatorKey) => ok(await api.call('GET', `/v1/results/${id}`, { key }));
const balance = async (creator: Party) => ok(await api.call('GET', '/v1/me/balance', { key: creator.key })).data[0];

async function payable(creatorId: string) {
  const [a] = await lookupAccounts(api.database.db, [AccountId.payable(creatorId, 'USD')]);
  return { credited: a?.credits_posted ?? 0n, available: a ? a.credits_posted - a.debits_posted - a.debits_pending : 0n };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'earnest-live-'));
  // Settlement and payouts run when the suite asks, never in the middle of an assertion.
  api = await startTestApi({ SETTLE_INTERVAL_MS: '86400000', PAYOUT_PROVIDER: 'test', PAYOUT_MINIMUM_MINOR: '100', PAYOUT_DIR: dir });
  brand = await createBrand(api, 'Acme');
  otherBrand = await createBrand(api, 'Other');
  ada = await createCreator(api, 'ada@creators.example');
  flo = await createCreator(api, 'flo@creators.example');
  hon = await createCreator(api, 'hon@creators.example');
  now = await databaseNow(api.database.db);
  const terms = { objective: 'cpl', rate: '10.00', budget: '1000.00', hold_days: 7, kpi_target: 0 };
  leads = await launchCampaign(api, brand, ada, terms);
  strict = await launchCampaign(api, brand, ada, { ...terms, validation: { min_lead_score: 90 } });
  flood = await launchCampaign(api, brand, flo, terms);
  floodHonEnrolment = (await enrol(flood, hon)).enrolmentId;
  short = await launchCampaign(api, brand, ada, { ...terms, ends_at: new Date(now.getTime() + 20 * DAY * 1000).toISOString() });
  other = await launchCampaign(api, otherBrand, ada, terms);
});

afterAll(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('fraud at intake', () => {
  const fraud: string[] = [];

  it('rejects self-referral, a disposable email and click injection with their reasons, holding nothing', async () => {
    const selfReferral = await lead(leads, ada, 120_000, { email: 'Ada+deal@Creators.example' });
    const disposable = await lead(leads, ada, 120_000, { email: 'quick@mailinator.com' });
    const injected = await lead(leads, ada, 3_000);
    expect(selfReferral).toMatchObject({ status: 'rejected', reasons: ['self_referral'] });
    expect(disposable).toMatchObject({ status: 'rejected', reasons: ['email_disposable', 'lead_score_low'] });
    expect(injected).toMatchObject({ status: 'rejected', reasons: ['ctit_too_short'] });
    fraud.push(selfReferral.id, disposable.id, injected.id);
    honest = (await lead(leads, ada, 120_000)).id;
    expect((await result(honest)).status).toBe('pending');
    // Only the honest lead is held: 10.00.
    expect(ok(await api.call('GET', `/v1/campaigns/${leads.id}`, { key: brand.key })).escrow.held).toEqual(usd('10.00'));
    expect(await lookupTransfers(api.database.db, fraud.flatMap((id) => [`${id}.net`, `${id}.fee`]))).toEqual([]);
  });

  it("holds for a person a conversion reported from a data-centre address, keeping only the IP's salted hash", async () => {
    const click = await insertClick(api, leads, ada, { at: new Date(now.getTime() - 120_000) });
    const body = {
      external_id: nextId('lead'),
      type: 'lead',
      click_id: click.id,
      customer: { id: nextId('cus'), email: 'dc@shop.example', ip: '3.5.140.1', user_agent: 'Mozilla/5.0 (X11; Linux x86_64)' },
      occurred_at: now.toISOString(),
    };
    const r = ok(await api.call('POST', '/v1/conversions', { key: brand.key, body }), 201);
    // A shop backend may report its own cloud address, a buyer may sit on a cloud desktop: review, not refusal.
    expect(r.result).toMatchObject({ status: 'review', reasons: ['datacenter_ip'] });
    // The operator looks, finds a script, and rejects it: its hold is voided.
    const rejected = ok(await api.call('POST', `/v1/results/${r.result.id}/reject`, { key: api.operatorKey, body: { note: 'the same cloud host as a crawler' } }));
    expect(rejected).toMatchObject({ status: 'rejected', reasons: ['datacenter_ip'] });
    fraud.push(r.result.id);
    const stored = await sql<{ ip_hash: string; request: string }>`select ip_hash, request::text as request from conversions where id = ${r.id}`.execute(api.database.db);
    expect(stored.rows[0]?.ip_hash).toMatch(/^4:[0-9a-f]{64}$/);
    expect(stored.rows[0]?.request).not.toContain('3.5.140.1');
    // The device is evidence, not identity: the same request from another address answers the same.
    const again = await api.call('POST', '/v1/conversions', { key: brand.key, body: { ...body, customer: { ...body.customer, ip: '81.2.69.160' } } });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(r);
  });

  it('shows brands and creators the reason codes of rejected results', async () => {
    const mine = ok(await api.call('GET', `/v1/results?campaign_id=${leads.id}&status=rejected`, { key: brand.key })).data;
    expect(mine.map((r: { reasons: string[] }) => r.reasons[0]).sort()).toEqual(['ctit_too_short', 'datacenter_ip', 'email_disposable', 'self_referral']);
    const theirs = await result(fraud[0] as string, ada.key);
    expect(theirs).toMatchObject({ status: 'rejected', reasons: ['self_referral'], decided_by: 'validation' });
    expectError(await api.call('GET', `/v1/results/${fraud[0]}`, { key: flo.key }), 404, 'not_found');
  });

  it("never reach the creator's payable, through the hold period, settlement and payouts", async () => {
    await advanceClock(api.database.db, 8 * DAY);
    await settle();
    expect((await result(honest)).status).toBe('approved');
    for (const id of fraud) expect((await result(id)).status).toBe('rejected');
    ok(await api.call('POST', '/v1/payouts/run', { key: api.operatorKey }));
    // Paid: the honest lead's net (8.00) and nothing else; the short campaign's leads come later.
    const paid = ok(await api.call('GET', '/v1/payouts', { key: ada.key })).data;
    expect(paid.map((p: { amount: string; status: string }) => [p.amount, p.status])).toEqual([['8.00', 'completed']]);
    expect((await payable(ada.id)).credited).toBe(800n);
    await ledgerCheckIsClean(api);
  });
});

describe('review', () => {
  type Held = { id: string; status: string; reasons: string[] };
  let grey: Held;
  let lowScore: Held;
  let toReject: Held;
  let shortReview: Held;

  it('holds a conversion 10 to 15 s after its click, and a lead under the threshold, for a person', async () => {
    now = await databaseNow(api.database.db);
    grey = await lead(leads, ada, 12_000, { country: 'US', phone: '+1 415 555 0123' });
    expect(grey).toMatchObject({ status: 'review', reasons: ['ctit_short'] });
    greyId = grey.id;
    lowScore = await lead(strict, ada, 300_000, { email: 'info@shop.example' });
    expect(lowScore).toMatchObject({ status: 'review', reasons: ['email_role_account', 'lead_score_low'] });
    toReject = await lead(leads, ada, 11_000);
    shortReview = await lead(short, ada, 14_000);
    shortHonest = (await lead(short, ada, 600_000)).id;
    expect([toReject.status, shortReview.status]).toEqual(['review', 'review']);
    // Their money is reserved (gross 10.00 each) and shows as the creator's pending balance (net 8.00 each).
    for (const [c, held] of [[leads, '20.00'], [strict, '10.00'], [short, '20.00']] as const) {
      expect(ok(await api.call('GET', `/v1/campaigns/${c.id}`, { key: brand.key })).escrow.held).toEqual(usd(held));
    }
    expect(await balance(ada)).toMatchObject({ available: usd('0.00'), pending: usd('40.00') });
  });

  it('judges the single recording path the same way as the batched one', async () => {
    const click = await insertClick(api, leads, ada, { at: new Date(now.getTime() - 13_000) });
    const input = { external_id: nextId('single'), type: 'lead' as const, click_id: click.id, customer: { id: nextId('cus') }, occurred_at: now.toISOString() };
    const r = await recordConversion(api.database.db, { orgId: brand.id, input, present: conversionAnswer });
    expect(r.answer).toMatchObject({ status: 'attributed', result: { status: 'review', reasons: ['ctit_short'] } });
    viaSinglePath = (r.answer as { result: { id: string } }).result.id;
  });

  it('never releases a review result on its own, however old; its campaign ends but does not settle', async () => {
    await advanceClock(api.database.db, 400 * DAY);
    await settle();
    await settle();
    for (const r of [grey, lowScore, toReject, shortReview, { id: viaSinglePath }]) expect((await result(r.id)).status).toBe('review');
    expect((await result(shortHonest)).status).toBe('approved');
    expect(await balance(ada)).toMatchObject({ available: usd('8.00'), pending: usd('40.00') });
    const statement = ok(await api.call('GET', `/v1/campaigns/${short.id}/statement`, { key: brand.key }));
    expect(statement).toMatchObject({ campaign: { status: 'ended' }, escrow: { held: usd('10.00'), closed: false }, reconciles: true });
    expect(statement.results.review).toEqual({ count: 1, reasons: { ctit_short: 1 } });
  });

  it('lists the queue for operators, newest first, with reasons, evidence and decisions', async () => {
    const queue = ok(await api.call('GET', '/v1/review?limit=100', { key: api.operatorKey }));
    const ids = queue.data.map((r: { id: string }) => r.id);
    expect(ids).toEqual([viaSinglePath, shortReview.id, toReject.id, lowScore.id, grey.id]);
    expect(queue.data.find((r: { id: string }) => r.id === grey.id)).toMatchObject({
      status: 'review',
      reasons: ['ctit_short'],
      evidence: {
        conversion: { type: 'lead', attributed_by: 'click', customer: { country: 'US', phone: '+1 415 555 0123' }, ip_recorded: false },
        click: { status: 'valid', user_agent: expect.stringMatching(/^Mozilla\/5\.0/) },
        ctit_seconds: 12,
      },
      decisions: [{ from_status: 'new', to_status: 'review', reasons: ['ctit_short'], by: { kind: 'system', id: 'validation' } }],
    });
    const first = ok(await api.call('GET', '/v1/review?limit=2', { key: api.operatorKey }));
    expect(first.data.map((r: { id: string }) => r.id)).toEqual(ids.slice(0, 2));
    const rest = ok(await api.call('GET', `/v1/review?limit=100&after=${first.next_after}`, { key: api.operatorKey }));
    expect(rest).toMatchObject({ next_after: null });
    expect(rest.data.map((r: { id: string }) => r.id)).toEqual(ids.slice(2));
    const byCampaign = ok(await api.call('GET', `/v1/review?campaign_id=${strict.id}`, { key: api.operatorKey }));
    expect(byCampaign.data.map((r: { id: string }) => r.id)).toEqual([lowScore.id]);
    // Brands see the reasons on their campaigns' results, creators on their own.
    const brandView = ok(await api.call('GET', `/v1/results?status=review&campaign_id=${strict.id}`, { key: brand.key })).data;
    expect(brandView.map((r: { reasons: string[] }) => r.reasons)).toEqual([['email_role_account', 'lead_score_low']]);
    const creatorView = ok(await api.call('GET', '/v1/results?status=review', { key: ada.key })).data;
    expect(creatorView.map((r: { id: string; reasons: string[] }) => [r.id, r.reasons[0]])).toEqual(
      [grey, lowScore, toReject, shortReview, { id: viaSinglePath }].map((r, i) => [r.id, i === 1 ? 'email_role_account' : 'ctit_short']).reverse(),
    );
    expect(ok(await api.call('GET', '/v1/results?status=review', { key: otherBrand.key })).data).toEqual([]);
  });

  it('refuses the queue and approvals to brands and creators, and illegal transitions', async () => {
    expectError(await api.call('GET', '/v1/review', { key: brand.key }), 403, 'forbidden');
    expectError(await api.call('GET', '/v1/review', { key: ada.key }), 403, 'forbidden');
    expectError(await api.call('GET', '/v1/review?limit=0', { key: api.operatorKey }), 400, 'invalid_request');
    expectError(await api.call('POST', `/v1/results/${grey.id}/approve`, { key: brand.key, body: {} }), 403, 'forbidden');
    expectError(await api.call('POST', `/v1/results/${grey.id}/approve`, { key: ada.key, body: {} }), 403, 'forbidden');
    expectError(await api.call('POST', '/v1/results/res_nope/approve', { key: api.operatorKey, body: {} }), 404, 'not_found');
    const rejected = ok(await api.call('GET', `/v1/results?campaign_id=${leads.id}&status=rejected&limit=1`, { key: brand.key })).data[0];
    expectError(await api.call('POST', `/v1/results/${rejected.id}/approve`, { key: api.operatorKey, body: {} }), 409, 'invalid_state');
    expectError(await api.call('POST', `/v1/results/${shortHonest}/approve`, { key: api.operatorKey, body: {} }), 409, 'invalid_state');
    expectError(await api.call('POST', `/v1/results/${grey.id}/approve`, { key: api.operatorKey, body: { note: 'x', extra: 1 } }), 400, 'invalid_request');
    expectError(await api.call('POST', `/v1/results/${grey.id}/approve`, { key: api.operatorKey, body: { note: 'x'.repeat(1001) } }), 400, 'invalid_request', 'note');
    // A brand may reject its own result in review (its money) with a note; another brand cannot see it.
    expectError(await api.call('POST', `/v1/results/${grey.id}/reject`, { key: otherBrand.key, body: { note: 'not ours' } }), 404, 'not_found');
    expectError(await api.call('POST', `/v1/results/${grey.id}/reject`, { key: brand.key, body: { reason: 'fraud_suspected' } }), 400, 'invalid_request', 'note');
    expectError(await api.call('POST', `/v1/results/${grey.id}/reject`, { key: brand.key, body: { reason: 'Fraud!', note: 'x' } }), 400, 'invalid_request', 'reason');
    expectError(await api.call('POST', `/v1/results/${grey.id}/reject`, { key: ada.key, body: { note: 'mine' } }), 403, 'forbidden');
    expectError(await api.call('POST', `/v1/results/${shortHonest}/reject`, { key: brand.key, body: { reason: 'late_doubt' } }), 409, 'invalid_state');
  });

  it('rejects a review item with a note: its hold is voided, the decision recorded with who and when', async () => {
    const r = ok(await api.call('POST', `/v1/results/${toReject.id}/reject`, { key: api.operatorKey, body: { note: 'a script: same visitor as three others' } }));
    expect(r).toMatchObject({ status: 'rejected', reasons: ['ctit_short'], decided_by: keyIdOf(api.operatorKey), decision_note: 'a script: same visitor as three others' });
    expect(ok(await api.call('GET', `/v1/campaigns/${leads.id}`, { key: brand.key })).escrow.held).toEqual(usd('20.00'));
    expect(await lookupTransfers(api.database.db, [`${toReject.id}.void.net`, `${toReject.id}.void.fee`])).toHaveLength(2);
    expect(await balance(ada)).toMatchObject({ pending: usd('32.00') });
    expectError(await api.call('POST', `/v1/results/${toReject.id}/reject`, { key: api.operatorKey, body: { note: 'again' } }), 409, 'invalid_state');
    const decisions = await sql<{ to_status: string; actor_kind: string; actor_id: string; note: string | null; decided_at: Date }>`
      select to_status, actor_kind, actor_id, note, decided_at from result_decisions where result_id = ${toReject.id} order by id`.execute(api.database.db);
    expect(decisions.rows.map((d) => [d.to_status, d.actor_kind, d.actor_id, d.note])).toEqual([
      ['review', 'system', 'validation', null],
      ['rejected', 'operator', keyIdOf(api.operatorKey), 'a script: same visitor as three others'],
    ]);
    const dbNow = (await databaseNow(api.database.db)).getTime();
    expect(Math.abs(new Date(decisions.rows[1]?.decided_at as Date).getTime() - dbNow)).toBeLessThan(60_000);
    // A brand rejecting a pending result is recorded too, as the brand.
    const pending = await lead(leads, ada, 600_000, {}, await databaseNow(api.database.db));
    ok(await api.call('POST', `/v1/results/${pending.id}/reject`, { key: brand.key, body: { reason: 'duplicate_order' } }));
    const brandDecision = await sql<{ actor_kind: string; actor_id: string; reasons: string[] }>`
      select actor_kind, actor_id, reasons from result_decisions where result_id = ${pending.id}`.execute(api.database.db);
    expect(brandDecision.rows).toEqual([{ actor_kind: 'organization', actor_id: brand.id, reasons: ['duplicate_order'] }]);
  });

  it('pays an approved review item at the next settlement, and lets its campaign settle', async () => {
    const approved = ok(await api.call('POST', `/v1/results/${grey.id}/approve`, { key: api.operatorKey, body: { note: 'checked with the brand: a real sign-up' } }));
    expect(approved).toMatchObject({ status: 'pending', reviewed: true, decided_by: keyIdOf(api.operatorKey) });
    expectError(await api.call('POST', `/v1/results/${grey.id}/approve`, { key: api.operatorKey, body: {} }), 409, 'invalid_state');
    ok(await api.call('POST', `/v1/results/${lowScore.id}/approve`, { key: api.operatorKey, body: {} }));
    ok(await api.call('POST', `/v1/results/${shortReview.id}/approve`, { key: api.operatorKey, body: {} }));
    const credited = (await payable(ada.id)).credited;
    const run = await settle();
    expect(run.campaigns_settled.map((c: { campaign_id: string }) => c.campaign_id)).toEqual([short.id]);
    for (const id of [grey.id, lowScore.id, shortReview.id]) expect(await result(id)).toMatchObject({ status: 'approved', decided_by: 'settlement' });
    expect((await result(viaSinglePath)).status).toBe('review');
    expect((await payable(ada.id)).credited).toBe(credited + 2400n);
    const decisions = await sql<{ to_status: string; actor_id: string }>`select to_status, actor_id from result_decisions
      where result_id = ${grey.id} order by id`.execute(api.database.db);
    expect(decisions.rows).toEqual([
      { to_status: 'review', actor_id: 'validation' },
      { to_status: 'pending', actor_id: keyIdOf(api.operatorKey) },
      { to_status: 'approved', actor_id: 'settlement' },
    ]);
    await ledgerCheckIsClean(api);
  });

  it('keeps the decisions log append-only', async () => {
    await expect(sql`update result_decisions set note = 'rewritten'`.execute(api.database.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from result_decisions`.execute(api.database.db)).rejects.toThrow(/append-only/);
  });
});

describe('the cohort re-check at release', () => {
  const honests: string[] = [];

  it('moves a flooding creator’s due results to review (conversions mostly > 24 h after their clicks) and pays the honest creator', async () => {
    now = await databaseNow(api.database.db);
    const honEnrolment = { ...flood, enrolmentId: floodHonEnrolment };
    for (let i = 0; i < 20; i++) floodIds.push((await lead(flood, flo, (26 + i) * 3_600_000)).id);
    for (let i = 0; i < 12; i++) honests.push((await lead(honEnrolment, hon, (2 + i) * 60_000)).id);
    // One at a time, each looked fine.
    for (const id of [...floodIds, ...honests]) expect((await result(id)).status).toBe('pending');
    await advanceClock(api.database.db, 8 * DAY);
    await settle();
    for (const id of floodIds) expect(await result(id)).toMatchObject({ status: 'review', reasons: ['ctit_mostly_late'], decided_by: 'settlement' });
    for (const id of honests) expect((await result(id)).status).toBe('approved');
    expect(await balance(flo)).toMatchObject({ available: usd('0.00'), pending: usd('160.00') });
    expect(await balance(hon)).toMatchObject({ available: usd('96.00'), pending: usd('0.00') });
    const queue = ok(await api.call('GET', `/v1/review?campaign_id=${flood.id}&limit=100`, { key: api.operatorKey })).data;
    expect(queue).toHaveLength(20);
    expect(queue[0].decisions.at(-1)).toMatchObject({ from_status: 'pending', to_status: 'review', reasons: ['ctit_mostly_late'], by: { kind: 'system', id: 'settlement' } });
    expect(queue[0].evidence.ctit_seconds).toBeGreaterThan(24 * 3600);
    // Held, not paid, however many runs come.
    await settle();
    expect(await balance(flo)).toMatchObject({ available: usd('0.00'), pending: usd('160.00') });
  });
});

describe('reversals', () => {
  it('claw a paid result back: the payout already left, so the shortfall becomes a receivable; a retry changes nothing', async () => {
    ok(await api.call('POST', '/v1/payouts/run', { key: api.operatorKey }));
    expect(await balance(ada)).toMatchObject({ available: usd('0.00'), receivable: usd('0.00') });
    const r = ok(await api.call('POST', `/v1/results/${honest}/reverse`, { key: api.operatorKey, body: { reason: 'chargeback', note: 'the customer disputed the sign-up' } }));
    expect(r).toMatchObject({ status: 'reversed', reasons: ['chargeback'], decided_by: keyIdOf(api.operatorKey), decision_note: 'the customer disputed the sign-up' });
    expect(await balance(ada)).toMatchObject({ available: usd('0.00'), receivable: usd('8.00') });
    const chain = await lookupTransfers(api.database.db, [`${honest}.reverse.payable`, `${honest}.reverse.receivable`]);
    expect(chain.map((t) => [t.id, t.amount, t.credit_account_id])).toEqual([[`${honest}.reverse.receivable`, 800n, AccountId.escrow(leads.id)]]);
    // The platform's fee (2.00) goes back into the open escrow too, linked with the clawback.
    const [fee] = await lookupTransfers(api.database.db, [`${honest}.reverse.fee`]);
    expect(fee).toMatchObject({ amount: 200n, code: 402, debit_account_id: AccountId.fees('USD'), credit_account_id: AccountId.escrow(leads.id) });
    const again = ok(await api.call('POST', `/v1/results/${honest}/reverse`, { key: api.operatorKey, body: { reason: 'other', note: 'again' } }));
    expect(again).toEqual(r);
    expect(await balance(ada)).toMatchObject({ receivable: usd('8.00') });
    const statement = ok(await api.call('GET', `/v1/campaigns/${leads.id}/statement`, { key: brand.key }));
    // Approved: honest, grey (8.00 net each); honest clawed back into the escrow.
    expect(statement).toMatchObject({ paid_to_creators: usd('8.00'), clawed_back: usd('8.00'), fees_returned: usd('2.00'), reconciles: true });
    expect(statement.results.reversed).toEqual({ count: 1, reasons: { chargeback: 1 } });
    expect(ok(await api.call('GET', '/v1/results?status=reversed', { key: ada.key })).data.map((x: { id: string }) => x.id)).toEqual([honest]);
    await ledgerCheckIsClean(api);
  });

  it("after the campaign settled, credit the brand's wallet, taking what the payable holds", async () => {
    // An approved, not yet paid result keeps 8.00 in the payable.
    ok(await api.call('POST', `/v1/results/${viaSinglePath}/approve`, { key: api.operatorKey, body: {} }));
    await settle();
    expect(await balance(ada)).toMatchObject({ available: usd('8.00') });
    const wallet = async () => ok(await api.call('GET', '/v1/wallet', { key: brand.key })).data[0].balance.amount;
    const before = Number(await wallet());
    ok(await api.call('POST', `/v1/results/${shortHonest}/reverse`, { key: api.operatorKey, body: { reason: 'fraud_confirmed', note: 'bought leads' } }));
    // the creator's net (8.00) and the platform's fee (2.00)
    expect(Number(await wallet())).toBeCloseTo(before + 10, 10);
    expect(await balance(ada)).toMatchObject({ available: usd('0.00'), receivable: usd('8.00') });
    const statement = ok(await api.call('GET', `/v1/campaigns/${short.id}/statement`, { key: brand.key }));
    // Two approved (16.00 net), one clawed back to the brand after the escrow closed.
    expect(statement).toMatchObject({
      campaign: { status: 'settled' },
      paid_to_creators: usd('8.00'),
      clawed_back: usd('8.00'),
      platform_fees_gross: usd('4.00'),
      fees_returned: usd('2.00'),
      fees_returned_to_brand: usd('2.00'),
      platform_fees_kept: usd('2.00'),
      escrow: { held: usd('0.00'), available: usd('0.00'), closed: true },
      reconciles: true,
    });
    // funded 1000.00 = 8.00 paid + (4.00 − 2.00) fees + 990.00 back to the brand (980.00 unspent + 8.00 clawed back + 2.00 fee).
    expect(statement.unspent_refunded).toEqual(usd('990.00'));
    await ledgerCheckIsClean(api);
  });

  it('refuses brands, creators, results not approved, unknown ids and bad bodies', async () => {
    const body = { reason: 'fraud_confirmed', note: 'why' };
    expectError(await api.call('POST', `/v1/results/${floodIds[0]}/reverse`, { key: api.operatorKey, body }), 409, 'invalid_state');
    expectError(await api.call('POST', `/v1/results/${greyId}/reverse`, { key: brand.key, body }), 403, 'forbidden');
    expectError(await api.call('POST', `/v1/results/${greyId}/reverse`, { key: ada.key, body }), 403, 'forbidden');
    expectError(await api.call('POST', '/v1/results/res_nope/reverse', { key: api.operatorKey, body }), 404, 'not_found');
    expectError(await api.call('POST', `/v1/results/${greyId}/reverse`, { key: api.operatorKey, body: { reason: 'fraud' } }), 400, 'invalid_request', 'note');
    expectError(await api.call('POST', `/v1/results/${greyId}/reverse`, { key: api.operatorKey, body: { reason: 'Fraud', note: 'x' } }), 400, 'invalid_request', 'reason');
    expectError(await api.call('POST', `/v1/results/${greyId}/reverse`, { key: api.operatorKey, body: { ...body, note: '   ' } }), 400, 'invalid_request', 'note');
  });
});

describe('clawback transfers', () => {
  it('take the payable as far as it goes and book the rest on the receivable, linked', () => {
    const p = { id: 'r.reverse', creatorId: 'cr', currency: 'USD', amount: 800n, creditAccountId: 'escrow:c' };
    const legs = (available: bigint) => clawbackRequests({ ...p, payableAvailable: available }).map((t) => [t.id, t.amount, t.code, t.flags ?? 0]);
    expect(legs(1000n)).toEqual([['r.reverse.payable', 800n, 601, 0]]);
    expect(legs(800n)).toEqual([['r.reverse.payable', 800n, 601, 0]]);
    expect(legs(300n)).toEqual([
      ['r.reverse.payable', 300n, 601, 1],
      ['r.reverse.receivable', 500n, 602, 0],
    ]);
    expect(legs(0n)).toEqual([['r.reverse.receivable', 800n, 602, 0]]);
    expect(legs(-5n)).toEqual([['r.reverse.receivable', 800n, 602, 0]]);
  });

  it("clawbackToWallet: the stand-alone form credits the brand's wallet, once", async () => {
    const wallet = async () => (await lookupAccounts(api.database.db, [AccountId.wallet(brand.id, 'USD')]))[0]?.credits_posted ?? 0n;
    const before = await wallet();
    const { available } = await payable(hon.id);
    const p = { id: 'claw:test-1', creatorId: hon.id, orgId: brand.id, amount: Money.of(available + 250n, 'USD') };
    const first = await clawbackToWallet(api.database.db, p);
    expect(first).toMatchObject({ ok: true, shortfall: Money.of(250n, 'USD') });
    expect(await wallet()).toBe(before + available + 250n);
    expect((await payable(hon.id)).available).toBe(0n);
    const again = await clawbackToWallet(api.database.db, p);
    expect(again.ok && again.transfers.map((t) => t.id).sort()).toEqual(['claw:test-1.payable', 'claw:test-1.receivable'].slice(available > 0n ? 0 : 1));
    expect(await wallet()).toBe(before + available + 250n);
    await ledgerCheckIsClean(api);
  });
});

describe.skipIf(!TEST_DATABASE_URL)('races on the PostgreSQL server', () => {
  it('an approval racing a rejection of one review item: one wins, the other is refused, the hold resolved at most once', async () => {
    now = await databaseNow(api.database.db);
    const items: string[] = [];
    for (let i = 0; i < 8; i++) items.push((await lead(leads, ada, 12_000)).id);
    for (const id of items) {
      const [approve, reject] = await Promise.all([
        api.call('POST', `/v1/results/${id}/approve`, { key: api.operatorKey, body: { note: 'fine' } }),
        api.call('POST', `/v1/results/${id}/reject`, { key: api.operatorKey, body: { note: 'not fine' } }),
      ]);
      // Serialised on the result's row: the rejection first (the approval then finds it rejected), or the
      // approval first (the rejection then finds a pending result, which needs a reason code it lacks).
      expect([[200, 400], [409, 200]]).toContainEqual([approve.status, reject.status]);
      const final = await result(id);
      const voids = await lookupTransfers(api.database.db, [`${id}.void.net`, `${id}.void.fee`]);
      if (approve.status === 200) {
        expect(final).toMatchObject({ status: 'pending', reviewed: true });
        expect(voids).toEqual([]);
      } else {
        expect(final.status).toBe('rejected');
        expect(voids).toHaveLength(2);
      }
      const decisions = await sql<{ n: bigint }>`select count(*) as n from result_decisions where result_id = ${id}`.execute(api.database.db);
      expect(Number(decisions.rows[0]?.n)).toBe(2);
    }
    await ledgerCheckIsClean(api);
  });

  it('two concurrent approvals of one review item: one decides, the other is refused', async () => {
    now = await databaseNow(api.database.db);
    const id = (await lead(leads, ada, 12_000)).id;
    const answers = await Promise.all([1, 2].map(() => api.call('POST', `/v1/results/${id}/approve`, { key: api.operatorKey, body: {} })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const decisions = await sql<{ n: bigint }>`select count(*) as n from result_decisions where result_id = ${id} and to_status = 'pending'`.execute(api.database.db);
    expect(Number(decisions.rows[0]?.n)).toBe(1);
  });

  it('ten concurrent reversals of one paid result claw it back once', async () => {
    now = await databaseNow(api.database.db);
    const paid = await lead(leads, ada, 600_000);
    await advanceClock(api.database.db, 8 * DAY);
    await settle();
    expect((await result(paid.id)).status).toBe('approved');
    const before = await balance(ada);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => api.call('POST', `/v1/results/${paid.id}/reverse`, { key: api.operatorKey, body: { reason: 'fraud_confirmed', note: 'race' } })),
    );
    for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(200);
    for (const a of answers) expect(a.body).toEqual(answers[0]?.body);
    const chain = await lookupTransfers(api.database.db, [`${paid.id}.reverse.payable`, `${paid.id}.reverse.receivable`]);
    expect(chain.reduce((n, t) => n + t.amount, 0n)).toBe(800n);
    const after = await balance(ada);
    const minor = (m: { amount: string }) => Math.round(Number(m.amount) * 100);
    // 8.00 back in all: what the payable had, the rest on the receivable.
    expect(minor(before.available) - minor(after.available) + (minor(after.receivable) - minor(before.receivable))).toBe(800);
    const decisions = await sql<{ n: bigint }>`select count(*) as n from result_decisions where result_id = ${paid.id} and to_status = 'reversed'`.execute(api.database.db);
    expect(Number(decisions.rows[0]?.n)).toBe(1);
    await ledgerCheckIsClean(api);
  });
});

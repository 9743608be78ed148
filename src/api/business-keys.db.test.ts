import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger } from '../ledger/index.js';
import { baseTerms, createBrand, createCreator, expectError, type Launched, launchCampaign, type Party } from '../../test/support/conversions.js';
import { type ApiResponse, startTestApi, type TestApi } from '../../test/support/api.js';

/**
 * Business keys follow the one replay rule (docs/api-conventions.md): the same request again answers
 * the original status with the object as it stands and `Idempotent-Replayed: true`; a different
 * request with a used key is 409 idempotency_conflict naming what differs. On both engines.
 */
let api: TestApi;
let brand: Party;
let otherBrand: Party;
let creator: Party;
let otherCreator: Party;

beforeAll(async () => {
  api = await startTestApi();
  brand = await createBrand(api, 'Acme');
  otherBrand = await createBrand(api, 'Other');
  creator = await createCreator(api, 'ada@creators.example');
  otherCreator = await createCreator(api, 'bea@creators.example');
  expect((await api.call('POST', '/v1/deposits', { key: brand.key, body: { amount: '10000.00', currency: 'USD', reference: 'float' } })).status).toBe(201);
});

afterAll(async () => {
  await api?.close();
});

const replayed = (r: ApiResponse) => r.headers.get('idempotent-replayed');

async function draft(budget = '100.00'): Promise<{ id: string; terms_version: number; terms_sha256: string }> {
  const r = await api.call('POST', '/v1/campaigns', { key: brand.key, body: { name: 'keys', terms: { ...baseTerms, objective: 'cpl', rate: '2.50', budget } } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

describe('deposits and withdrawals (reference)', () => {
  it.each(['deposits', 'withdrawals'])('%s: the same reference and amount again answers 201 with the movement, marked replayed', async (kind) => {
    const body = { amount: '12.50', currency: 'USD', reference: `same-${kind}` };
    const first = await api.call('POST', `/v1/${kind}`, { key: brand.key, body });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(replayed(first)).toBeNull();
    const again = await api.call('POST', `/v1/${kind}`, { key: brand.key, body: { ...body, amount: '12.5' } });
    expect(again.status).toBe(201);
    expect(replayed(again)).toBe('true');
    expect(again.body).toEqual(first.body);
    const moved = await sql<{ n: bigint }>`select count(*) as n from ledger_transfers where id = ${first.body.id}`.execute(api.database.db);
    expect(Number(moved.rows[0]?.n)).toBe(1);
  });

  it.each([
    [{ amount: '12.51', currency: 'USD' }, 'amount'],
    [{ amount: '12.50', currency: 'EUR' }, 'currency'],
  ])('a different %o with a used reference is 409 idempotency_conflict naming %s', async (change, field) => {
    expectError(await api.call('POST', '/v1/deposits', { key: brand.key, body: { reference: 'same-deposits', ...change } }), 409, 'idempotency_conflict', field);
  });

  it("a reference is the brand's own: another brand's same reference is a new deposit", async () => {
    const r = await api.call('POST', '/v1/deposits', { key: otherBrand.key, body: { amount: '12.50', currency: 'USD', reference: 'same-deposits' } });
    expect(r.status).toBe(201);
    expect(replayed(r)).toBeNull();
  });
});

describe('funding (reference)', () => {
  it('a repeat — with the amount or without — answers the original funding, marked replayed, never "nothing to fund"', async () => {
    const c = await draft('100.00');
    const first = await api.call('POST', `/v1/campaigns/${c.id}/fund`, { key: brand.key, body: { amount: '40.00', reference: 'f-part' } });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.escrow.funded).toEqual({ amount: '40.00', currency: 'USD' });
    for (const body of [{ amount: '40.00', reference: 'f-part' }, { amount: '40', reference: 'f-part' }, { reference: 'f-part' }]) {
      const again = await api.call('POST', `/v1/campaigns/${c.id}/fund`, { key: brand.key, body });
      expect(again.status, JSON.stringify(again.body)).toBe(200);
      expect(replayed(again)).toBe('true');
      expect(again.body.escrow.funded).toEqual({ amount: '40.00', currency: 'USD' });
    }
    // Without an amount, the rest of the budget; its repeat answers that, not "nothing to fund".
    const rest = await api.call('POST', `/v1/campaigns/${c.id}/fund`, { key: brand.key, body: { reference: 'f-rest' } });
    expect(rest.body.escrow.funded).toEqual({ amount: '100.00', currency: 'USD' });
    const restAgain = await api.call('POST', `/v1/campaigns/${c.id}/fund`, { key: brand.key, body: { reference: 'f-rest' } });
    expect(restAgain.status, JSON.stringify(restAgain.body)).toBe(200);
    expect(replayed(restAgain)).toBe('true');
    expect(restAgain.body.escrow.funded).toEqual({ amount: '100.00', currency: 'USD' });
    // A new reference with nothing left to fund is still refused.
    expectError(await api.call('POST', `/v1/campaigns/${c.id}/fund`, { key: brand.key, body: { reference: 'f-more' } }), 400, 'invalid_amount');
  });

  it('a different amount with a used reference is 409 idempotency_conflict naming amount; another campaign names reference', async () => {
    const c = await draft();
    expect((await api.call('POST', `/v1/campaigns/${c.id}/fund`, { key: brand.key, body: { amount: '10.00', reference: 'f-conflict' } })).status).toBe(200);
    expectError(await api.call('POST', `/v1/campaigns/${c.id}/fund`, { key: brand.key, body: { amount: '11.00', reference: 'f-conflict' } }), 409, 'idempotency_conflict', 'amount');
    const other = await draft();
    expectError(await api.call('POST', `/v1/campaigns/${other.id}/fund`, { key: brand.key, body: { amount: '10.00', reference: 'f-conflict' } }), 409, 'idempotency_conflict', 'reference');
    const escrow = await api.call('GET', `/v1/campaigns/${c.id}`, { key: brand.key });
    expect(escrow.body.escrow.funded.amount).toBe('10.00');
  });

  it('a repeat after the campaign ended still answers the funding', async () => {
    const c = await draft();
    const first = await api.call('POST', `/v1/campaigns/${c.id}/fund`, { key: brand.key, body: { reference: 'f-then-end' } });
    expect((await api.call('POST', `/v1/campaigns/${c.id}/end`, { key: brand.key, body: {} })).status).toBe(200);
    const again = await api.call('POST', `/v1/campaigns/${c.id}/fund`, { key: brand.key, body: { reference: 'f-then-end' } });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body.escrow.funded).toEqual(first.body.escrow.funded);
    expect(again.body.status).toBe('ended');
  });

  it('takes the longest reference (100 characters), which is too long for a ledger id as it is', async () => {
    const c = await draft();
    const reference = 'r'.repeat(100);
    const first = await api.call('POST', `/v1/campaigns/${c.id}/fund`, { key: brand.key, body: { amount: '5.00', reference } });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const again = await api.call('POST', `/v1/campaigns/${c.id}/fund`, { key: brand.key, body: { reference } });
    expect(replayed(again)).toBe('true');
    expect(again.body.escrow.funded.amount).toBe('5.00');
  });

  it('concurrent copies of one funding move the money once', async () => {
    const c = await draft('100.00');
    const answers = await Promise.all(Array.from({ length: 8 }, () => api.call('POST', `/v1/campaigns/${c.id}/fund`, { key: brand.key, body: { reference: 'f-race' } })));
    for (const a of answers) {
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      expect(a.body.escrow.funded.amount).toBe('100.00');
    }
    const escrow = await api.call('GET', `/v1/campaigns/${c.id}`, { key: brand.key });
    expect(escrow.body.escrow.funded.amount).toBe('100.00');
  });
});

describe('enrolments (terms version)', () => {
  let cmp: Launched;
  let terms: { terms_version: number; terms_sha256: string };

  beforeAll(async () => {
    cmp = await launchCampaign(api, brand, otherCreator, { objective: 'cpl', rate: '2.50', budget: '100.00' });
    const c = await api.call('GET', `/v1/campaigns/${cmp.id}`, { key: brand.key });
    terms = { terms_version: c.body.terms_version, terms_sha256: c.body.terms_sha256 };
  });

  const accept = (body: { terms_version: number; terms_sha256: string }) => api.call('POST', `/v1/campaigns/${cmp.id}/enrolments`, { key: creator.key, body });

  it('accepting the same version again answers the original enrolment: same id and accepted_at, 201, replayed', async () => {
    const first = await accept(terms);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(replayed(first)).toBeNull();
    const again = await accept(terms);
    expect(again.status).toBe(201);
    expect(replayed(again)).toBe('true');
    expect(again.body).toEqual(first.body);
  });

  it('a newer version rebinds the enrolment (same id, link and promo code, new accepted_at); a stale retry of the old one answers it as it stands', async () => {
    const before = await accept(terms);
    const changed = await api.call('PUT', `/v1/campaigns/${cmp.id}/terms`, { key: brand.key, body: { ...baseTerms, objective: 'cpl', rate: '3.00', budget: '100.00' } });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    const v2 = { terms_version: changed.body.terms_version, terms_sha256: changed.body.terms_sha256 };
    // Before accepting v2, a retry of the v1 acceptance still answers (no "current terms are version 2").
    const stale = await accept(terms);
    expect(stale.status, JSON.stringify(stale.body)).toBe(201);
    expect(stale.body).toEqual(before.body);
    const rebound = await accept(v2);
    expect(rebound.status).toBe(201);
    expect(replayed(rebound)).toBeNull();
    expect(rebound.body).toMatchObject({ id: before.body.id, link_code: before.body.link_code, promo_code: before.body.promo_code, terms_version: v2.terms_version });
    expect(new Date(rebound.body.accepted_at).getTime()).toBeGreaterThanOrEqual(new Date(before.body.accepted_at).getTime());
    const again = await accept(v2);
    expect(replayed(again)).toBe('true');
    expect(again.body).toEqual(rebound.body);
    const staleAfter = await accept(terms);
    expect(replayed(staleAfter)).toBe('true');
    expect(staleAfter.body.terms_version).toBe(v2.terms_version);
    const kept = await sql<{ n: bigint }>`select count(*) as n from terms_acceptances where enrolment_id = ${before.body.id}`.execute(api.database.db);
    expect(Number(kept.rows[0]?.n)).toBe(2);
  });

  it('concurrent first acceptances make one enrolment', async () => {
    const fresh = await createCreator(api, 'cai@creators.example');
    const c = await api.call('GET', `/v1/campaigns/${cmp.id}`, { key: brand.key });
    const current = { terms_version: c.body.terms_version, terms_sha256: c.body.terms_sha256 };
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => api.call('POST', `/v1/campaigns/${cmp.id}/enrolments`, { key: fresh.key, body: current })),
    );
    for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(201);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(answers.filter((a) => replayed(a) === null)).toHaveLength(1);
  });

  it('a version never accepted that is not current is still refused', async () => {
    expectError(await accept({ ...terms, terms_sha256: 'f'.repeat(64) }), 409, 'conflict', 'terms_sha256');
  });
});

describe('view reports (external_id)', () => {
  let cpm: Launched;
  const evidence = 'https://social.example/p/1';

  beforeAll(async () => {
    cpm = await launchCampaign(api, brand, creator, { objective: 'cpm', rate: '2.50', budget: '100.00' });
  });

  const report = (body: Record<string, unknown>, key = creator.key) =>
    api.call('POST', '/v1/views', { key, body: { campaign_id: cpm.id, views: 1000, evidence_url: evidence, ...body } });

  it('the same report with its external_id again answers 201 with the report as it stands, marked replayed', async () => {
    const first = await report({ external_id: 'post-1' });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body.external_id).toBe('post-1');
    expect(replayed(first)).toBeNull();
    const confirmed = await api.call('POST', `/v1/views/${first.body.id}/confirm`, { key: brand.key });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    const again = await report({ external_id: 'post-1' });
    expect(again.status).toBe(201);
    expect(replayed(again)).toBe('true');
    expect(again.body).toMatchObject({ id: first.body.id, status: 'confirmed', result_id: confirmed.body.result_id });
  });

  it.each([
    [{ views: 1001 }, 'views'],
    [{ evidence_url: 'https://social.example/p/2' }, 'evidence_url'],
    [{ campaign_id: 'cmp_other' }, 'campaign_id'],
  ])('a different %o with a used external_id is 409 idempotency_conflict naming %s', async (change, field) => {
    expectError(await report({ external_id: 'post-1', ...change }), 409, 'idempotency_conflict', field);
  });

  it('is unique per creator; without one, every report is new', async () => {
    const theirs = await launchCampaign(api, brand, otherCreator, { objective: 'cpm', rate: '2.50', budget: '100.00' });
    const other = await api.call('POST', '/v1/views', { key: otherCreator.key, body: { campaign_id: theirs.id, views: 5, evidence_url: evidence, external_id: 'post-1' } });
    expect(other.status, JSON.stringify(other.body)).toBe(201);
    expect(replayed(other)).toBeNull();
    const a = await report({});
    const b = await report({});
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.id).not.toBe(b.body.id);
    expect(a.body.external_id).toBeNull();
  });

  it('concurrent copies make one report', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => report({ external_id: 'post-race' })));
    for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(201);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(answers.filter((a) => replayed(a) === null)).toHaveLength(1);
  });

  it('a repeat after the campaign ended still answers the report', async () => {
    const first = await report({ external_id: 'post-before-end' });
    expect((await api.call('POST', `/v1/campaigns/${cpm.id}/end`, { key: brand.key, body: {} })).status).toBe(200);
    expectError(await report({ external_id: 'post-after-end' }), 409, 'invalid_state');
    const again = await report({ external_id: 'post-before-end' });
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
  });
});

it('the ledger balances after all of it', async () => {
  const check = await checkLedger(api.database.db);
  expect(check.problems).toEqual([]);
  expect(check.mismatches).toBe(0);
});

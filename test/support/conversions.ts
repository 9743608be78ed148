import { sql } from 'kysely';
import { expect } from 'vitest';
import { databaseNow } from '../../src/db/index.js';
import { newId } from '../../src/ids/index.js';
import type { ApiResponse, TestApi } from './api.js';

/** Set-up shared by the conversion and view-report API suites: brands, a creator, running campaigns, clicks. */
export const CREATOR_EMAIL = 'ada@creators.example';

export const baseTerms = {
  currency: 'USD',
  destination_url: 'https://shop.example/landing',
  starts_at: '2026-01-01T00:00:00Z',
  ends_at: '2030-01-01T00:00:00Z',
  kpi_target: 10,
  hold_days: 14,
  fee_bps: 2000,
};

export interface Party {
  key: string;
  id: string;
}

export async function createBrand(api: TestApi, name: string): Promise<Party> {
  const r = await api.call('POST', '/v1/organizations', { key: api.operatorKey, body: { name } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return { key: r.body.api_key, id: r.body.id };
}

export async function createCreator(api: TestApi, email: string): Promise<Party> {
  const r = await api.call('POST', '/v1/creators', { key: api.operatorKey, body: { name: email.split('@')[0], email } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return { key: r.body.api_key, id: r.body.id };
}

export interface Launched {
  id: string;
  enrolmentId: string;
  promoCode: string;
}

let references = 0;

/** Creates, funds (depositing first), activates a campaign and enrols the creator in it. */
export async function launchCampaign(api: TestApi, brand: Party, creator: Party, terms: Record<string, unknown>): Promise<Launched> {
  const all: Record<string, unknown> = { ...baseTerms, ...terms };
  const ref = `r${++references}`;
  const deposit = await api.call('POST', '/v1/deposits', { key: brand.key, body: { amount: all.budget, currency: all.currency, reference: ref } });
  expect(deposit.status, JSON.stringify(deposit.body)).toBe(201);
  const created = await api.call('POST', '/v1/campaigns', { key: brand.key, body: { name: `campaign ${ref}`, terms: all } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.id as string;
  expect((await api.call('POST', `/v1/campaigns/${id}/fund`, { key: brand.key, body: { reference: ref } })).status).toBe(200);
  const active = await api.call('POST', `/v1/campaigns/${id}/activate`, { key: brand.key, body: {} });
  expect(active.status, JSON.stringify(active.body)).toBe(200);
  const joined = await api.call('POST', `/v1/campaigns/${id}/enrolments`, {
    key: creator.key,
    body: { terms_version: created.body.terms_version, terms_sha256: created.body.terms_sha256 },
  });
  expect(joined.status, JSON.stringify(joined.body)).toBe(201);
  return { id, enrolmentId: joined.body.id, promoCode: joined.body.promo_code };
}

/** Enrols more creators in a running campaign on its current terms: their enrolment ids by creator id. */
export async function enrolCreators(api: TestApi, owner: Party, campaignId: string, creators: readonly Party[]): Promise<Map<string, string>> {
  const c = await api.call('GET', `/v1/campaigns/${campaignId}`, { key: owner.key });
  const enrolments = new Map<string, string>();
  for (const creator of creators) {
    const joined = await api.call('POST', `/v1/campaigns/${campaignId}/enrolments`, {
      key: creator.key,
      body: { terms_version: c.body.terms_version, terms_sha256: c.body.terms_sha256 },
    });
    expect(joined.status, JSON.stringify(joined.body)).toBe(201);
    enrolments.set(creator.id, joined.body.id);
  }
  return enrolments;
}

/** A desktop browser: what a valid click carries (tracking flags a click without an agent as a bot). */
export const BROWSER_AGENT = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

/**
 * Writes a click row directly (the redirect has its own suite): `at` defaults to an hour ago on the
 * database clock, the agent to a browser, the IP hash to one per click (a distinct visitor).
 */
export async function insertClick(
  api: TestApi,
  c: Launched,
  creator: Party,
  options: { at?: Date; status?: 'valid' | 'bot' | 'repeat' | 'head'; userAgent?: string | null; ipHash?: string } = {},
): Promise<{ id: string; at: Date }> {
  const id = newId('clk');
  const at = options.at ?? new Date((await databaseNow(api.database.db)).getTime() - 3_600_000);
  const ua = options.userAgent === undefined ? BROWSER_AGENT : options.userAgent;
  await sql`insert into clicks (id, enrolment_id, campaign_id, creator_id, occurred_at, ip_hash, user_agent, status)
    values (${id}, ${c.enrolmentId}, ${c.id}, ${creator.id}, ${at.toISOString()}::timestamptz, ${options.ipHash ?? `ip-${id}`}, ${ua},
      ${options.status ?? 'valid'})`.execute(api.database.db);
  return { id, at };
}

export async function escrowHeld(api: TestApi, brand: Party, campaignId: string): Promise<string> {
  const r = await api.call('GET', `/v1/campaigns/${campaignId}`, { key: brand.key });
  expect(r.status).toBe(200);
  return r.body.escrow.held.amount;
}

export function expectError(r: ApiResponse, status: number, code: string, field?: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body.error.code, JSON.stringify(r.body)).toBe(code);
  expect(typeof r.body.error.message).toBe('string');
  if (field !== undefined) expect(r.body.error.field).toBe(field);
}

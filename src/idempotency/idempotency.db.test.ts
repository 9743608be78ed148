import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createServices, type Services, startIdempotencyPurge } from '../flows/index.js';
import { endpoint, respond, toRoute } from '../api/endpoint.js';
import { loadConfig } from '../config/index.js';
import { advanceClock } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { claimKey, type IdempotencyOwner, purgeIdempotencyKeys, renewLease, requestFingerprint, storeAnswer } from './index.js';
import { type Logger, type RunningServer, startServer } from '../server/index.js';
import { ResponseContract } from '../../test/support/contract.js';
import { baseTerms, createBrand, createCreator, expectError, type Party } from '../../test/support/conversions.js';
import type { ApiResponse, TestApi } from '../../test/support/api.js';
import { openTestDatabase, type TestDatabase } from '../../test/support/database.js';

/**
 * The Idempotency-Key header (docs/api-conventions.md "Idempotency: one rule") over real HTTP, on both
 * engines: the API's own endpoints, plus two test endpoints that count their runs, can be held
 * running, and fail on demand.
 */
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

let database: TestDatabase;
let services: Services;
let server: RunningServer;
let api: TestApi;
let brand: Party;
let otherBrand: Party;
let creator: Party;

/** Runs of the counting endpoint, by name. */
const runs = new Map<string, number>();
/** While set, the counting endpoint waits for it (a request held running). */
let gate: Promise<void> | undefined;

const countBody = z.strictObject({ name: z.string(), fail_first: z.enum(['crash', 'not_found']).optional(), extra: z.number().optional() });
const testEndpoints = [
  endpoint({
    method: 'POST',
    path: '/test/count/{group}',
    summary: 'counts its runs',
    tag: 'test',
    access: ['organization', 'creator', 'operator'],
    params: z.strictObject({ group: z.string() }),
    body: countBody,
    status: 201,
    handle: async ({ body }) => {
      const run = (runs.get(body.name) ?? 0) + 1;
      runs.set(body.name, run);
      if (gate) await gate;
      if (run === 1 && body.fail_first === 'crash') throw new Error('the handler crashed');
      if (run === 1 && body.fail_first === 'not_found') throw new AppError('not_found', `no ${body.name} yet`);
      return respond(201, { name: body.name, run }, { location: `/test/things/${body.name}` });
    },
  }),
];

beforeAll(async () => {
  database = await openTestDatabase();
  const handle = { db: database.db, engine: database.engine, close: async () => {} };
  const config = { ...loadConfig({ HOST: '127.0.0.1', LOG_LEVEL: 'error' }), PORT: 0 };
  // The test endpoints are wired like the API's own (toRoute), with their own services over the same database.
  services = createServices(handle, config, silent);
  server = await startServer(config, { database: handle, logger: silent, routes: testEndpoints.map((e) => toRoute(e, services)) });
  api = {
    url: server.url,
    operatorKey: server.operatorKey as string,
    database,
    services: server.services,
    call: (method, path, options = {}) => call(method, path, options),
    close: async () => {},
  };
  brand = await createBrand(api, 'Acme');
  otherBrand = await createBrand(api, 'Other');
  creator = await createCreator(api, 'ada@creators.example');
});

afterAll(async () => {
  await server?.stop();
  await services?.stop();
  await database?.close();
});

async function call(method: string, path: string, options: { key?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${server.url}${path}`, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  const text = await response.text();
  const body = text ? JSON.parse(text) : undefined;
  // Answers of the real operations keep the OpenAPI document's promise (the /test routes are not in it).
  contract ??= fetch(`${server.url}/openapi.json`).then(async (r) => new ResponseContract((await r.json()) as Record<string, any>));
  const broken = (await contract).check(method, path, response.status, response.headers, body, text !== '');
  if (broken) throw new Error(`the answer breaks the OpenAPI document: ${broken}`);
  return { status: response.status, headers: response.headers, body };
}
let contract: Promise<ResponseContract> | undefined;

function keyed(key: string, idempotencyKey: string, method: string, path: string, body?: unknown): Promise<ApiResponse> {
  return call(method, path, { key, headers: { 'idempotency-key': idempotencyKey }, ...(body !== undefined ? { body } : {}) });
}

const replayed = (r: ApiResponse) => r.headers.get('idempotent-replayed');
const campaignBody = (name: string) => ({ name, terms: { ...baseTerms, objective: 'cpl', rate: '2.50', budget: '100.00' } });

async function campaignsNamed(party: Party, name: string): Promise<string[]> {
  const r = await call('GET', '/v1/campaigns?limit=100', { key: party.key });
  return r.body.data.filter((c: { name: string }) => c.name === name).map((c: { id: string }) => c.id);
}

describe('the same key with the same request', () => {
  it('answers the original status, body and headers, marked replayed, and runs the handler once', async () => {
    const first = await keyed(brand.key, 'count-1', 'POST', '/test/count/a', { name: 'once' });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ name: 'once', run: 1 });
    expect(first.headers.get('location')).toBe('/test/things/once');
    expect(replayed(first)).toBeNull();
    // The same body spelled in another key order is the same request.
    const again = await call('POST', '/test/count/a', { key: brand.key, headers: { 'idempotency-key': 'count-1' }, body: { name: 'once' } });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('location')).toBe('/test/things/once');
    expect(replayed(again)).toBe('true');
    expect(runs.get('once')).toBe(1);
  });

  it('creates one campaign however often a brand retries its create', async () => {
    const body = campaignBody('Retried create');
    const first = await keyed(brand.key, 'create-1', 'POST', '/v1/campaigns', body);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const again = await keyed(brand.key, 'create-1', 'POST', '/v1/campaigns', body);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(replayed(again)).toBe('true');
    expect(await campaignsNamed(brand, 'Retried create')).toEqual([first.body.id]);
  });

  it('deposits once: one ledger transfer for the movement', async () => {
    const body = { amount: '75.00', currency: 'USD', reference: 'dep-keyed' };
    const first = await keyed(brand.key, 'dep-1', 'POST', '/v1/deposits', body);
    const again = await keyed(brand.key, 'dep-1', 'POST', '/v1/deposits', body);
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.body).toEqual(first.body);
    expect(replayed(again)).toBe('true');
    const transfers = await sql<{ n: bigint }>`select count(*) as n from ledger_transfers where id = ${first.body.id}`.execute(database.db);
    expect(Number(transfers.rows[0]?.n)).toBe(1);
  });

  it('answers an action the original answer even though repeating it would now be refused', async () => {
    const created = await call('POST', '/v1/campaigns', { key: brand.key, body: campaignBody('Ended once') });
    const end = await keyed(brand.key, 'end-1', 'POST', `/v1/campaigns/${created.body.id}/end`, {});
    expect(end.status, JSON.stringify(end.body)).toBe(200);
    expect(end.body.status).toBe('ended');
    // Without the key, ending again is refused; with it, the brand gets the answer it missed.
    expectError(await call('POST', `/v1/campaigns/${created.body.id}/end`, { key: brand.key, body: {} }), 409, 'invalid_state');
    const again = await keyed(brand.key, 'end-1', 'POST', `/v1/campaigns/${created.body.id}/end`, {});
    expect(again.status).toBe(200);
    expect(again.body).toEqual(end.body);
  });

  it('works for operators and creators too', async () => {
    const first = await keyed(api.operatorKey, 'run-1', 'POST', '/v1/payouts/run');
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const again = await keyed(api.operatorKey, 'run-1', 'POST', '/v1/payouts/run');
    expect(again.body).toEqual(first.body);
    expect(replayed(again)).toBe('true');
    await keyed(creator.key, 'c-1', 'POST', '/test/count/a', { name: 'by-creator' });
    expect(replayed(await keyed(creator.key, 'c-1', 'POST', '/test/count/a', { name: 'by-creator' }))).toBe('true');
    expect(runs.get('by-creator')).toBe(1);
  });
});

describe('the same key with a different request', () => {
  it.each([
    ['another body', 'POST', '/test/count/a', { name: 'diff', extra: 1 }],
    ['another path', 'POST', '/test/count/b', { name: 'diff' }],
    ['another endpoint', 'POST', '/v1/campaigns', campaignBody('diff')],
  ])('is 409 idempotency_conflict: %s', async (_, method, path, body) => {
    await keyed(brand.key, 'diff-1', 'POST', '/test/count/a', { name: 'diff' });
    expectError(await keyed(brand.key, 'diff-1', method, path, body), 409, 'idempotency_conflict', 'Idempotency-Key');
    expect(runs.get('diff')).toBe(1);
  });
});

describe('keys belong to their owner', () => {
  it("another brand's identical key is its own", async () => {
    const body = campaignBody('Shared key string');
    const ours = await keyed(brand.key, 'shared-1', 'POST', '/v1/campaigns', body);
    const theirs = await keyed(otherBrand.key, 'shared-1', 'POST', '/v1/campaigns', body);
    expect([ours.status, theirs.status]).toEqual([201, 201]);
    expect(replayed(theirs)).toBeNull();
    expect(theirs.body.id).not.toBe(ours.body.id);
    expect(theirs.body.org_id).toBe(otherBrand.id);
    expect(await campaignsNamed(otherBrand, 'Shared key string')).toEqual([theirs.body.id]);
  });
});

describe('which answers are kept', () => {
  it('a 5xx is not: the same key runs the request again', async () => {
    const body = { name: 'crashy', fail_first: 'crash' };
    expectError(await keyed(brand.key, 'crash-1', 'POST', '/test/count/a', body), 500, 'internal');
    const retried = await keyed(brand.key, 'crash-1', 'POST', '/test/count/a', body);
    expect(retried.status).toBe(201);
    expect(retried.body).toEqual({ name: 'crashy', run: 2 });
    expect(replayed(retried)).toBeNull();
    expect(replayed(await keyed(brand.key, 'crash-1', 'POST', '/test/count/a', body))).toBe('true');
    expect(runs.get('crashy')).toBe(2);
  });

  it('a 4xx the endpoint answered is kept, as Stripe keeps it', async () => {
    const body = { name: 'missing', fail_first: 'not_found' };
    expectError(await keyed(brand.key, 'nf-1', 'POST', '/test/count/a', body), 404, 'not_found');
    const again = await keyed(brand.key, 'nf-1', 'POST', '/test/count/a', body);
    expectError(again, 404, 'not_found');
    expect(replayed(again)).toBe('true');
    expect(runs.get('missing')).toBe(1);
  });

  it('a refused withdrawal stays refused under its key and its reference; a new reference tries again', async () => {
    const body = { amount: '5000.00', currency: 'USD', reference: 'big-withdrawal' };
    expectError(await keyed(brand.key, 'wd-1', 'POST', '/v1/withdrawals', body), 409, 'insufficient_funds');
    expect((await call('POST', '/v1/deposits', { key: brand.key, body: { amount: '5000.00', currency: 'USD', reference: 'top-up' } })).status).toBe(201);
    const again = await keyed(brand.key, 'wd-1', 'POST', '/v1/withdrawals', body);
    expectError(again, 409, 'insufficient_funds');
    expect(replayed(again)).toBe('true');
    // The reference is the withdrawal's business key: under a new header key it still names the refused one.
    expectError(await keyed(brand.key, 'wd-2', 'POST', '/v1/withdrawals', body), 409, 'insufficient_funds');
    const fresh = await keyed(brand.key, 'wd-3', 'POST', '/v1/withdrawals', { ...body, reference: 'big-withdrawal-2' });
    expect(fresh.status, JSON.stringify(fresh.body)).toBe(201);
  });

  it('a 400 (a malformed request) or a refusal before the endpoint ran (validation, authentication) keeps nothing', async () => {
    expectError(await keyed(brand.key, 'val-1', 'POST', '/v1/deposits', { amount: '1.001', currency: 'USD', reference: 'val' }), 400, 'inexact_amount');
    expectError(await keyed(brand.key, 'val-1', 'POST', '/v1/deposits', { amount: 'one', currency: 'USD', reference: 'val' }), 400, 'invalid_request');
    expectError(await keyed('ek_nonsense', 'val-1', 'POST', '/v1/deposits', { amount: '1.00', currency: 'USD', reference: 'val' }), 401, 'unauthorized');
    const fixed = await keyed(brand.key, 'val-1', 'POST', '/v1/deposits', { amount: '1.00', currency: 'USD', reference: 'val' });
    expect(fixed.status, JSON.stringify(fixed.body)).toBe(201);
    expect(replayed(fixed)).toBeNull();
  });
});

describe('the header', () => {
  it.each([
    ['empty', ''],
    ['too long', 'k'.repeat(256)],
    ['not ASCII', 'clé'],
  ])('is refused %s with 400 invalid_request naming it', async (_, value) => {
    expectError(await keyed(brand.key, value, 'POST', '/test/count/a', { name: 'bad-header' }), 400, 'invalid_request', 'Idempotency-Key');
    expect(runs.get('bad-header')).toBeUndefined();
  });

  it('takes 255 printable characters', async () => {
    const key = `${'k'.repeat(250)} ~!#$`;
    expect((await keyed(brand.key, key, 'POST', '/test/count/a', { name: 'long-key' })).status).toBe(201);
    expect(replayed(await keyed(brand.key, key, 'POST', '/test/count/a', { name: 'long-key' }))).toBe('true');
  });

  it('is ignored on a GET', async () => {
    const r = await keyed(brand.key, '', 'GET', '/v1/wallet');
    expect(r.status).toBe(200);
    expect(replayed(r)).toBeNull();
  });
});

describe('while the first request runs', () => {
  it('another with its key is 409 idempotency_key_in_use with Retry-After: 1, then gets the answer', async () => {
    let release: () => void = () => {};
    gate = new Promise((resolve) => {
      release = resolve;
    });
    const first = keyed(brand.key, 'slow-1', 'POST', '/test/count/a', { name: 'slow' });
    await vi.waitFor(() => expect(runs.get('slow')).toBe(1));
    const during = await keyed(brand.key, 'slow-1', 'POST', '/test/count/a', { name: 'slow' });
    expectError(during, 409, 'idempotency_key_in_use');
    expect(during.headers.get('retry-after')).toBe('1');
    // A different request with the key is a conflict even while it runs.
    expectError(await keyed(brand.key, 'slow-1', 'POST', '/test/count/a', { name: 'other' }), 409, 'idempotency_conflict');
    gate = undefined;
    release();
    expect((await first).status).toBe(201);
    const after = await keyed(brand.key, 'slow-1', 'POST', '/test/count/a', { name: 'slow' });
    expect(after.body).toEqual({ name: 'slow', run: 1 });
    expect(replayed(after)).toBe('true');
    expect(runs.get('slow')).toBe(1);
  });

  it('concurrent copies of a create make one campaign; each copy gets it or idempotency_key_in_use', async () => {
    const body = campaignBody('Concurrent create');
    const answers = await Promise.all(Array.from({ length: 12 }, () => keyed(brand.key, 'race-1', 'POST', '/v1/campaigns', body)));
    const created = answers.filter((a) => a.status === 201);
    const busy = answers.filter((a) => a.status === 409);
    expect(created.length + busy.length).toBe(answers.length);
    expect(created.filter((a) => replayed(a) === null)).toHaveLength(1);
    for (const a of created) expect(a.body.id).toBe(created[0]?.body.id);
    for (const a of busy) {
      expect(a.body.error.code).toBe('idempotency_key_in_use');
      expect(a.headers.get('retry-after')).toBe('1');
    }
    expect(await campaignsNamed(brand, 'Concurrent create')).toEqual([created[0]?.body.id]);
  });
});

describe('a request whose process died', () => {
  const owner = (): IdempotencyOwner => ({ kind: 'organization', id: brand.id });
  /** Claims the key as a request would, then never answers: what a crashed process leaves behind. */
  async function abandoned(key: string, name: string): Promise<string> {
    const path = '/test/count/a';
    const claim = await claimKey(database.db, { owner: owner(), key, method: 'POST', path, fingerprint: requestFingerprint({ method: 'POST', path, body: { name } }) });
    expect(claim.outcome).toBe('run');
    return (claim as { token: string }).token;
  }

  it('holds its key until its lease expires; then the next request takes the key over and runs', async () => {
    await abandoned('dead-1', 'dead');
    expectError(await keyed(brand.key, 'dead-1', 'POST', '/test/count/a', { name: 'dead' }), 409, 'idempotency_key_in_use');
    expect(runs.get('dead')).toBeUndefined();
    await advanceClock(database.db, 61);
    const taken = await keyed(brand.key, 'dead-1', 'POST', '/test/count/a', { name: 'dead' });
    expect(taken.status).toBe(201);
    expect(runs.get('dead')).toBe(1);
    expect(replayed(await keyed(brand.key, 'dead-1', 'POST', '/test/count/a', { name: 'dead' }))).toBe('true');
  });

  it('a running request renews its lease; a request whose key was taken over does not overwrite the answer', async () => {
    const token = await abandoned('slowpoke-1', 'slowpoke');
    await advanceClock(database.db, 50);
    expect(await renewLease(database.db, owner(), 'slowpoke-1', token)).toBe(true);
    await advanceClock(database.db, 50);
    expectError(await keyed(brand.key, 'slowpoke-1', 'POST', '/test/count/a', { name: 'slowpoke' }), 409, 'idempotency_key_in_use');
    await advanceClock(database.db, 11);
    const taken = await keyed(brand.key, 'slowpoke-1', 'POST', '/test/count/a', { name: 'slowpoke' });
    expect(taken.body).toEqual({ name: 'slowpoke', run: 1 });
    expect(await storeAnswer(database.db, owner(), 'slowpoke-1', token, { status: 201, headers: {}, body: { stale: true } })).toBe(false);
    expect(await renewLease(database.db, owner(), 'slowpoke-1', token)).toBe(false);
    expect((await keyed(brand.key, 'slowpoke-1', 'POST', '/test/count/a', { name: 'slowpoke' })).body).toEqual({ name: 'slowpoke', run: 1 });
  });
});

describe('retention', () => {
  it('the purge removes records older than 48 hours, and only those', async () => {
    await keyed(brand.key, 'old-1', 'POST', '/test/count/a', { name: 'old' });
    await advanceClock(database.db, 47 * 3600);
    await keyed(brand.key, 'young-1', 'POST', '/test/count/a', { name: 'young' });
    await advanceClock(database.db, 2 * 3600);
    expect(await purgeIdempotencyKeys(database.db)).toBeGreaterThan(0);
    const after = await sql<{ key: string }>`select key from idempotency_keys`.execute(database.db);
    expect(after.rows.map((r) => r.key)).toEqual(['young-1']);
    // The old key is free again: another request with it runs; the young one still answers as before.
    expect((await keyed(brand.key, 'old-1', 'POST', '/test/count/a', { name: 'old', extra: 2 })).status).toBe(201);
    expectError(await keyed(brand.key, 'young-1', 'POST', '/test/count/a', { name: 'young', extra: 2 }), 409, 'idempotency_conflict');
  });

  it('the server job purges by itself', async () => {
    await keyed(brand.key, 'aged-1', 'POST', '/test/count/a', { name: 'aged' });
    await advanceClock(database.db, 49 * 3600);
    const job = startIdempotencyPurge({ db: database.db, logger: silent, intervalMs: 3_600_000 });
    try {
      await vi.waitFor(async () => {
        const left = await sql`select 1 from idempotency_keys where key = 'aged-1'`.execute(database.db);
        expect(left.rows).toHaveLength(0);
      });
    } finally {
      await job.stop();
    }
  });

  it('never purges younger than 24 hours', async () => {
    await expect(purgeIdempotencyKeys(database.db, { olderThanHours: 1 })).rejects.toThrow(/24 hours/);
  });
});

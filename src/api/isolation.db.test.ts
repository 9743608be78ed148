import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_AGENT, createBrand, createCreator, launchCampaign, type Launched, type Party } from '../../test/support/conversions.js';
import { startTestApi, type TestApi } from '../../test/support/api.js';
import { enrolmentById } from '../campaigns/index.js';
import { recordConversionGrouped, recordResultsGrouped } from '../flows/index.js';
import { databaseNow } from '../db/index.js';
import { newId } from '../ids/index.js';
import { AccountId, checkLedger, TransferCode } from '../ledger/index.js';
import { conversionAnswer } from './routes/conversions.js';

/**
 * One client's bad request never fails another's. Conversions, results, ledger transfers and clicks
 * are written in shared batches (group commit); a member the database refuses used to fail its whole
 * batch — every brand's conversions in it answered 500. Each poison kind below reached the database
 * before the edge checked strings and times; here it is sent past the edge, straight into the batch,
 * racing valid traffic from another brand, to show the batch isolates it. Run on PGlite and (in CI) on
 * the PostgreSQL server, where batches really interleave.
 */
let api: TestApi;
let poisoner: Party;
let honest: Party;
let creator: Party;
let poisonCampaign: Launched;
let honestCampaign: Launched;

beforeAll(async () => {
  api = await startTestApi();
  poisoner = await createBrand(api, 'Poison Brand');
  honest = await createBrand(api, 'Honest Brand');
  creator = await createCreator(api, 'iso@creators.example');
  const terms = { objective: 'cpl', rate: '1.00', budget: '500.00', validation: { min_ctit_seconds: 0, dedupe_leads: false, self_referral: false } };
  poisonCampaign = await launchCampaign(api, poisoner, creator, terms);
  honestCampaign = await launchCampaign(api, honest, creator, terms);
});
afterAll(() => api?.close());

const POISON_CONVERSIONS: Array<[string, (i: number) => Record<string, unknown>]> = [
  ['lone surrogates in a promo code', () => ({ promo_code: '\udfff\ud800' })],
  ['year 0000', () => ({ occurred_at: '0000-01-01T00:00:00Z' })],
  ['NUL in a customer id', (i) => ({ customer: { id: `u\u0000${i}` } })],
];

async function settle<T>(p: Promise<T>): Promise<{ ok: T } | { error: unknown }> {
  try {
    return { ok: await p };
  } catch (error) {
    return { error };
  }
}

describe('a poisoned conversion batch', () => {
  it.each(POISON_CONVERSIONS)('with %s fails only the poisoned conversions', async (_name, poison) => {
    const honestCalls = Array.from({ length: 30 }, (_, i) =>
      api.call('POST', '/v1/conversions', {
        key: honest.key,
        body: { external_id: `ok-${_name}-${i}`, type: 'lead', promo_code: honestCampaign.promoCode, customer: { id: `c-${_name}-${i}` } },
      }),
    );
    const poisonCalls = Array.from({ length: 5 }, (_, i) =>
      settle(
        recordConversionGrouped(api.services.db, {
          orgId: poisoner.id,
          present: conversionAnswer,
          input: { external_id: `bad-${_name}-${i}`, type: 'lead', promo_code: poisonCampaign.promoCode, customer: { id: `p-${i}` }, ...poison(i) } as never,
        }),
      ),
    );
    const [answers, poisoned] = await Promise.all([Promise.all(honestCalls), Promise.all(poisonCalls)]);
    for (const r of answers) {
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body.status).toBe('attributed');
    }
    for (const p of poisoned) expect(p).toHaveProperty('error');
    const rows = await sql<{ n: bigint }>`select count(*) as n from conversions where external_id like ${`ok-${_name}-%`}`.execute(api.database.db);
    expect(Number(rows.rows[0]?.n)).toBe(30);
  });

  it('through HTTP, the poisoned bodies are refused at the edge with 400 while the others are recorded', async () => {
    const calls = Array.from({ length: 40 }, (_, i) => {
      const bad = i % 4 === 0;
      const body = bad
        ? { external_id: `http-bad-${i}`, type: 'lead', promo_code: poisonCampaign.promoCode, customer: { id: 'p' }, ...(POISON_CONVERSIONS[i % 3]?.[1](i) ?? {}) }
        : { external_id: `http-ok-${i}`, type: 'lead', promo_code: honestCampaign.promoCode, customer: { id: `h-${i}` } };
      return api.call('POST', '/v1/conversions', { key: bad ? poisoner.key : honest.key, body }).then((r) => ({ bad, r }));
    });
    for (const { bad, r } of await Promise.all(calls)) {
      if (bad) expect(r.status, JSON.stringify(r.body)).toBe(400);
      else expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
  });
});

describe('other group commits', () => {
  it('results: a draft the database refuses fails alone; the others are recorded with their holds', async () => {
    const enrolment = await enrolmentById(api.services.db, honestCampaign.enrolmentId);
    if (!enrolment) throw new Error('enrolment');
    const now = await databaseNow(api.services.db);
    const draft = (customerId: string) => ({ kind: 'lead' as const, sourceId: newId('cnv'), enrolment, occurredAt: now, customerId });
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => settle(recordResultsGrouped(api.services.db, [draft(i === 5 ? 'bad\u0000' : `r-${i}`)]))));
    outcomes.forEach((o, i) => {
      if (i === 5) expect(o).toHaveProperty('error');
      else expect((o as { ok: Array<{ status: string; hold_id: string | null }> }).ok[0]).toMatchObject({ status: 'pending' });
    });
  });

  it('ledger: a transfer the database refuses fails alone; every other transfer is posted once', async () => {
    const wallet = AccountId.wallet(honest.id, 'USD');
    const world = AccountId.world('USD');
    const transfer = (i: number) => ({
      id: `iso-${i}-${newId('dep')}`,
      debit_account_id: world,
      credit_account_id: wallet,
      amount: 1n,
      currency: 'USD',
      code: TransferCode.deposit,
      ...(i === 3 ? { user_data: 'bad\u0000' } : {}),
    });
    const before = await walletBalance(wallet);
    const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => settle(api.services.ledger.submit([transfer(i)]))));
    outcomes.forEach((o, i) => {
      if (i === 3) expect(o).toHaveProperty('error');
      else expect((o as { ok: Array<{ result: string }> }).ok[0]?.result).toBe('ok');
    });
    expect((await walletBalance(wallet)) - before).toBe(11n);
  });

  it('clicks: a click the database refuses does not hold up the others, and is kept with its text cleaned', async () => {
    const tracker = api.services.tracker;
    if (!tracker) throw new Error('tracker');
    const enrolment = await enrolmentById(api.services.db, honestCampaign.enrolmentId);
    const code = enrolment?.link_code as string;
    const visit = (i: number) => ({
      method: 'GET',
      ip: `198.51.100.${i + 1}`,
      userAgent: i === 4 ? `${BROWSER_AGENT} \u0000\ud800` : `${BROWSER_AGENT} v${i}`,
      referrer: null,
      country: null,
      visitorId: null,
      adClickParam: null,
    });
    for (let i = 0; i < 10; i++) await tracker.track(code, visit(i));
    await tracker.flush();
    const rows = await sql<{ user_agent: string }>`select user_agent from clicks where enrolment_id = ${honestCampaign.enrolmentId} and user_agent like ${`${BROWSER_AGENT}%`}`.execute(api.database.db);
    expect(rows.rows).toHaveLength(10);
    expect(rows.rows.map((r) => r.user_agent)).toContain(`${BROWSER_AGENT} \ufffd\ufffd`);
    expect(tracker.stats.buffered).toBe(0);
  });

  it('leaves the ledger balanced', async () => {
    expect((await checkLedger(api.database.db)).mismatches).toBe(0);
  });
});

async function walletBalance(id: string): Promise<bigint> {
  const r = await sql<{ credits_posted: bigint; debits_posted: bigint }>`select credits_posted, debits_posted from ledger_accounts where id = ${id}`.execute(api.database.db);
  const row = r.rows[0];
  return row ? BigInt(row.credits_posted) - BigInt(row.debits_posted) : 0n;
}

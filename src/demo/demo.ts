import type { Config } from '../config/index.js';
import { advanceClock, type Database, databaseNow } from '../db/index.js';
import { assert } from '../errors/index.js';
import { parseAmount } from '../money/index.js';
import { type Random, seededRandom } from '../random/index.js';
import { createLogger, startServer } from '../server/index.js';
import { Progress } from '../runtime/index.js';

/**
 * A whole simulated campaign season on a fresh database, through the real HTTP API of an in-process
 * server: a brand deposits and funds two campaigns (leads, and sales paid as a share of the order),
 * three creators join, a few hundred clicks arrive (bots and repeats among them), leads and sales
 * follow (invalid ones among them), the brand rejects one result, the database clock moves past the
 * hold period and the end date, settlement runs, and payouts go out. Nothing sleeps: the clock is
 * advanced.
 */
export interface DemoStatement {
  campaign_id: string;
  name: string;
  statement: any;
}

export interface DemoResult {
  statements: DemoStatement[];
  totals: Record<'funded' | 'paid_to_creators' | 'platform_fees' | 'fees_refunded' | 'unspent_refunded' | 'escrow_balance', string>;
  currency: string;
  results: { approved: number; rejected: number; over_budget: number };
  clicks: { total: number; flagged: number };
  payouts: number;
}

const DAY = 86_400;
const CURRENCY = 'USD';
const CLICKS = 300;
const USER_AGENTS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36 Instagram 330.0',
];
const BOTS = ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'Mozilla/5.0 HeadlessChrome/126.0.0.0', 'curl/8.5.0'];

export async function runDemo(
  database: Database<any>,
  config: Config,
  options: { seed?: number; progress?: Progress } = {},
): Promise<DemoResult> {
  const r = seededRandom(options.seed ?? 7);
  const progress = options.progress ?? new Progress(100, { write: () => {} });
  // The demo drives settlement and payouts itself, on its own clock; no background timers.
  const demoConfig: Config = {
    ...config,
    PORT: 0,
    HOST: '127.0.0.1',
    TRUST_PROXY: true,
    RATE_LIMIT_CLICKS_PER_MIN: 0,
    RATE_LIMIT_API_PER_MIN: 0,
    SETTLE_INTERVAL_MS: 86_400_000,
    PAYOUT_INTERVAL_MS: 0,
    ATTRIBUTION_FIT_INTERVAL_MS: 0,
    PAYOUT_PROVIDER: 'test',
  };
  const server = await startServer(demoConfig, {
    database,
    logger: createLogger('error'),
  });
  try {
    const api = client(server.url);
    const operator = server.operatorKey ?? (await api.mustMakeOperatorKey());
    progress.step('setting up the brand and creators', 5);
    const world = await setUp(api, operator, r, await databaseNow(database.db));
    progress.step('creators browse: clicks arrive', 10);
    const clicks = await sendClicks(api, world, r, progress);
    await server.services.tracker?.flush();
    await advanceClock(database.db, 600);
    progress.step('customers convert: leads and sales', 10);
    await sendConversions(api, world, clicks, r, progress);
    progress.step('the brand rejects a doubtful lead', 5);
    await rejectOne(api, world);
    progress.step('the hold period passes: settlement', 10);
    await advanceClock(database.db, 15 * DAY);
    await api.post('/v1/settlement/run', operator, {});
    progress.step('the campaigns end: escrow and guarantee settle', 10);
    await advanceClock(database.db, 20 * DAY);
    await api.post('/v1/settlement/run', operator, {});
    await api.post('/v1/settlement/run', operator, {});
    progress.step('payouts go out', 10);
    const payouts = await api.post('/v1/payouts/run', operator, {});
    const statements = await Promise.all(
      world.campaigns.map(async (c) => ({ campaign_id: c.id, name: c.name, statement: await api.get(`/v1/campaigns/${c.id}/statement`, world.brandKey) })),
    );
    progress.finish();
    return summarise(statements, clicks, payouts);
  } finally {
    await server.stop();
  }
}

interface World {
  brandKey: string;
  creators: { id: string; key: string }[];
  campaigns: { id: string; name: string; objective: string; enrolments: { creator: string; link: string; promo: string }[] }[];
}

async function setUp(api: Client, operator: string, r: Random, now: Date): Promise<World> {
  const org = await api.post('/v1/organizations', operator, { name: 'Acme Running Co.' });
  const brandKey = org.api_key as string;
  await api.post('/v1/deposits', brandKey, { amount: '5000.00', currency: 'USD', reference: 'demo-topup-1' });
  const creators = await Promise.all(
    ['Ada Runs', 'Ben Bikes', 'Cleo Climbs'].map(async (name, i) => {
      const c = await api.post('/v1/creators', operator, { name, email: `creator${i}@creators.example` });
      return { id: c.id as string, key: c.api_key as string };
    }),
  );
  const window = { starts_at: new Date(now.getTime() - 60_000).toISOString(), ends_at: new Date(now.getTime() + 20 * DAY * 1000).toISOString() };
  const specs = [
    { name: 'Trail shoe leads', terms: { objective: 'cpl', rate: '4.00', budget: '100.00', kpi_target: 20 } },
    { name: 'Summer sale', terms: { objective: 'cpa_percent', rate_bps: 1000, budget: '600.00', kpi_target: 200 } },
  ];
  const campaigns = [];
  for (const spec of specs) {
    const terms = { ...spec.terms, currency: 'USD', destination_url: 'https://shop.example/trail?utm_source=earnest#top', ...window, hold_days: 14, fee_bps: 1500 };
    const c = await api.post('/v1/campaigns', brandKey, { name: spec.name, terms });
    await api.post(`/v1/campaigns/${c.id}/fund`, brandKey, { reference: `demo-fund-${c.id}` });
    await api.post(`/v1/campaigns/${c.id}/activate`, brandKey, {});
    const enrolments = [];
    for (const creator of creators) {
      const e = await api.post(`/v1/campaigns/${c.id}/enrolments`, creator.key, { terms_version: c.terms_version, terms_sha256: c.terms_sha256 });
      enrolments.push({ creator: creator.id, link: e.link_code as string, promo: e.promo_code as string });
    }
    campaigns.push({ id: c.id as string, name: spec.name, objective: spec.terms.objective, enrolments });
  }
  void r;
  return { brandKey, creators, campaigns };
}

interface SentClick {
  campaign: number;
  clickId: string;
  bot: boolean;
}

async function sendClicks(api: Client, world: World, r: Random, progress: Progress): Promise<SentClick[]> {
  const sent: SentClick[] = [];
  for (let i = 0; i < CLICKS; i++) {
    const campaign = r.int(0, world.campaigns.length - 1);
    const enrolment = r.pick(world.campaigns[campaign]?.enrolments ?? []);
    const bot = r.chance(0.08);
    const repeat = !bot && sent.length > 0 && r.chance(0.06);
    const ip = repeat ? '198.51.100.7' : `203.0.${r.int(0, 255)}.${r.int(1, 254)}`;
    const ua = bot ? r.pick(BOTS) : r.pick(USER_AGENTS);
    const location = await api.click(enrolment.link, { 'user-agent': ua, 'x-forwarded-for': ip, referer: 'https://instagram.com/' });
    const clickId = new URL(location).searchParams.get('ern_cid');
    assert(clickId, 'the redirect carries a click id');
    sent.push({ campaign, clickId, bot });
    if (i % 30 === 0) progress.step(`clicks ${i}/${CLICKS}`, 1);
  }
  return sent;
}

async function sendConversions(api: Client, world: World, clicks: SentClick[], r: Random, progress: Progress): Promise<void> {
  let n = 0;
  for (const click of clicks) {
    if (!r.chance(click.bot ? 0.5 : 0.3)) continue;
    const campaign = world.campaigns[click.campaign];
    assert(campaign, 'campaign exists');
    const isLead = campaign.objective === 'cpl';
    const customer = { id: `cust-${r.int(1, isLead ? 60 : 10_000)}`, email: `buyer${n}@mail.example` };
    const body: Record<string, unknown> = { external_id: `order-${n++}`, type: isLead ? 'lead' : 'sale', click_id: click.clickId, customer };
    if (!isLead) Object.assign(body, { amount: `${r.int(20, 180)}.${String(r.int(0, 99)).padStart(2, '0')}`, currency: 'USD' });
    await api.post('/v1/conversions', world.brandKey, body);
    if (n % 20 === 0) progress.step(`conversions ${n}`, 1);
  }
  // A few by promo code, without a click; one of them self-referred by the creator.
  for (const [i, enrolment] of (world.campaigns[1]?.enrolments ?? []).entries()) {
    await api.post('/v1/conversions', world.brandKey, {
      external_id: `promo-${i}`,
      type: 'sale',
      promo_code: enrolment.promo,
      customer: { id: `promo-cust-${i}`, email: i === 0 ? 'creator0@creators.example' : `promo${i}@mail.example` },
      amount: '99.00',
      currency: 'USD',
    });
  }
}

async function rejectOne(api: Client, world: World): Promise<void> {
  const pending = await api.get(`/v1/results?campaign_id=${world.campaigns[0]?.id}&status=pending&limit=1`, world.brandKey);
  const first = pending.data[0];
  if (first) await api.post(`/v1/results/${first.id}/reject`, world.brandKey, { reason: 'duplicate_household', note: 'same household as an earlier lead' });
}

function summarise(statements: DemoStatement[], clicks: SentClick[], payouts: any): DemoResult {
  const sum = (pick: (s: any) => string | undefined) =>
    statements.reduce((total, s) => total + parseAmount(pick(s.statement) ?? '0', CURRENCY), 0n);
  const totals = {
    funded: sum((s) => s.funded?.amount),
    paid_to_creators: sum((s) => s.paid_to_creators?.amount),
    platform_fees: sum((s) => s.platform_fees_gross?.amount),
    fees_refunded: sum((s) => s.fees_refunded?.amount),
    unspent_refunded: sum((s) => s.unspent_refunded?.amount),
    escrow_balance: sum((s) => s.escrow_balance?.amount),
  };
  const count = (status: string) => statements.reduce((n, s) => n + Number(s.statement.results?.[status]?.count ?? s.statement.results?.[status] ?? 0), 0);
  return {
    statements,
    totals: Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, v.toString()])) as DemoResult['totals'],
    currency: CURRENCY,
    results: { approved: count('approved'), rejected: count('rejected'), over_budget: count('over_budget') },
    clicks: { total: clicks.length, flagged: clicks.filter((c) => c.bot).length },
    payouts: Array.isArray(payouts?.payouts) ? payouts.payouts.length : Number(payouts?.created ?? 0),
  };
}


interface Client {
  post(path: string, key: string, body: unknown): Promise<any>;
  get(path: string, key: string): Promise<any>;
  click(code: string, headers: Record<string, string>): Promise<string>;
  mustMakeOperatorKey(): Promise<string>;
}

function client(base: string): Client {
  const call = async (method: string, path: string, key: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await response.json()) as any;
    if (response.status >= 400) throw new Error(`demo: ${method} ${path} answered ${response.status}: ${JSON.stringify(json)}`);
    return json;
  };
  return {
    post: (path, key, body) => call('POST', path, key, body),
    get: (path, key) => call('GET', path, key),
    async click(code, headers) {
      const response = await fetch(`${base}/c/${code}`, { headers, redirect: 'manual' });
      const location = response.headers.get('location');
      if (response.status !== 302 || !location) throw new Error(`demo: the tracking link answered ${response.status}`);
      return location;
    },
    async mustMakeOperatorKey() {
      throw new Error('demo: the database is not fresh (it already has an operator key); use a new --data-dir');
    },
  };
}

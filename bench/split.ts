import { type Kysely, sql } from 'kysely';
import { advanceClock } from '../src/db/index.js';
import { checkLedger } from '../src/ledger/index.js';
import { parseAmount } from '../src/money/index.js';
import { runSettlement, SETTLEMENT_LIMITS } from '../src/flows/settle.js';
import { type BenchCall, withBenchServer } from './server.js';
import { QueryProfiler, type StatementStats } from './profile.js';
import { formatInt, formatRate, formatSeconds } from './report.js';
import type { Aim, BenchContext, BenchSection, SectionResult } from './types.js';
import { findWrk, parseWrk, runWrkScript } from './wrk.js';

/**
 * Multi-touch "split + hold" throughput on the PostgreSQL server (issue #5 §5): sale conversions
 * posted through the real HTTP API with three click ids each — three creators' valid clicks, one
 * visitor — on a `linear` campaign, so each conversion records one result and one escrow hold (two
 * linked pending transfers) per creator, parts summing to one result's payout; for comparison the same
 * conversions with one click each on a second campaign (one result, one hold). Then the clock passes
 * the split campaign's hold period and one settlement run posts every part. The database is checked
 * afterwards (and the bench throws if anything is off): every split conversion attributed with exactly
 * three results whose gross sums to the rate, the escrow held equal to conversions × rate before
 * settlement, every part approved by it, and `checkLedger` with no mismatch.
 */
const SCALE = Math.min(1, Math.max(0.01, Number(process.env.BENCH_SCALE ?? 1) || 1));
const WRK = findWrk();
const CONNECTIONS = 50;
const WARMUP_SECONDS = 2;
const RUN_SECONDS = Math.max(2, Math.round(10 * SCALE));
/** In-process clients when wrk is missing, and the conversions they post per campaign. */
const CLIENTS = 32;
const IN_PROCESS_CONVERSIONS = Math.max(100, Math.round(3_000 * SCALE));
/**
 * Clicks are inserted before the runs: journeys for this many conversions per second of wrk (warm-up
 * and run) per campaign — well above what the server takes (the loop records about 1,350 lead
 * conversions/s at 50 connections), and the bench throws rather than run out.
 */
const POOL_RATE = 4_000;
const POOL = WRK ? POOL_RATE * (WARMUP_SECONDS + RUN_SECONDS) : IN_PROCESS_CONVERSIONS;
const CREATORS = 3;
const RATE = '1.00';
const RATE_MINOR = parseAmount(RATE, 'USD');
/** Our aims (issue #5 sets none for this figure beyond showing it). */
const AIM_RATIO = 0.5;
const AIM_SETTLED = 2_000;
const USER_AGENT = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

type Db = Kysely<any>;
type Kind = 'single' | 'split';
const KINDS: readonly Kind[] = ['single', 'split'];
/** Results (holds) per conversion. */
const PARTS: Record<Kind, number> = { single: 1, split: CREATORS };

interface Run {
  kind: Kind;
  connections: number;
  conversions: number;
  seconds: number;
  p99Ms: number | null;
}

interface Measured {
  runs: Run[];
  /** Split conversions recorded in the database (warm-up and answers in flight at wrk's deadline included). */
  splitRecorded: number;
  parts: number;
  settled: number;
  settleSeconds: number;
  /** The settlement run's costliest statements, by label. */
  slowest: StatementStats[];
  mismatches: number;
}

/**
 * Click ids are made up here, so wrk's script can name them without a list: conversion i of a kind
 * sends `clk_bench_<kind>_<i>_<k>`, k the creator (0–2 for a split journey, i mod 3 for a single click).
 * insertClicks and conversionScript build the same ids in SQL and Lua.
 */
function clickId(kind: Kind, i: number, k: number): string {
  return `clk_bench_${kind}_${i}_${k}`;
}

async function measure(serverUrl: string, log: (m: string) => void): Promise<Measured> {
  return withBenchServer(serverUrl, async ({ db, url, operatorKey, call }) => {
    const brand = (await call('POST', '/v1/organizations', operatorKey, { name: 'Bench brand' })).api_key as string;
    const creators: string[] = [];
    for (let k = 0; k < CREATORS; k++) {
      creators.push((await call('POST', '/v1/creators', operatorKey, { name: `Bench creator ${k + 1}`, email: `bench${k + 1}@creators.example` })).api_key);
    }
    await call('POST', '/v1/deposits', brand, { amount: '1000000.00', currency: 'USD', reference: 'bench' });
    const now = Date.now();
    const launch = async (kind: Kind) => {
      const campaign = await call('POST', '/v1/campaigns', brand, {
        name: `Bench ${kind}`,
        terms: {
          objective: 'cpa_fixed', rate: RATE, currency: 'USD', budget: '200000.00', destination_url: 'https://shop.example/',
          starts_at: new Date(now - 60_000).toISOString(), ends_at: new Date(now + 365 * 86_400_000).toISOString(),
          kpi_target: 1, fee_bps: 2000, attribution: { model: 'linear' },
          // Only the split campaign's parts come due when the clock moves 2 days: the settlement figure is theirs alone.
          hold_days: kind === 'split' ? 1 : 30,
          // Three creators bring every click and conversion here: the campaign lifts the per-creator click
          // and conversion velocity limits (review rules) so the run measures throughput, not fraud rules.
          validation: {
            rules: {
              conversion_velocity: { creator_per_minute: null, creator_per_hour: null },
              click_velocity: { creator_per_minute: null, creator_per_hour: null },
            },
          },
        },
      });
      await call('POST', `/v1/campaigns/${campaign.id}/fund`, brand, { reference: `bench-fund-${kind}` });
      await call('POST', `/v1/campaigns/${campaign.id}/activate`, brand, {});
      const enrolments: Array<{ id: string; creator_id: string }> = [];
      for (const key of creators) {
        enrolments.push(await call('POST', `/v1/campaigns/${campaign.id}/enrolments`, key, {
          terms_version: campaign.terms_version,
          terms_sha256: campaign.terms_sha256,
        }));
      }
      return { id: campaign.id as string, enrolments };
    };
    const campaigns = { single: await launch('single'), split: await launch('split') };

    log(`  split · postgres: inserting ${formatInt(POOL * (CREATORS + 1))} clicks (journeys for ${formatInt(POOL)} conversions per campaign)…`);
    for (const kind of KINDS) await insertClicks(db, kind, campaigns[kind], log);
    // As autovacuum would after a bulk insert (the visitor probes are lateral index lookups either way).
    await sql`analyze clicks`.execute(db);

    const runs: Run[] = [];
    const inFlightMax: Record<Kind, number> = { single: 0, split: 0 };
    const answered: Record<Kind, number> = { single: 0, split: 0 };
    for (const kind of KINDS) {
      const posted = WRK ? await postWithWrk(WRK, url, brand, kind, log) : await postInProcess(call, brand, kind, log);
      runs.push(posted.run);
      answered[kind] = posted.total;
      inFlightMax[kind] = posted.inFlightMax;
    }

    await quiesce(db, [campaigns.single.id, campaigns.split.id]);
    // The database, before settlement: every conversion attributed, split as the model says, held in full.
    const recorded: Record<Kind, number> = { single: 0, split: 0 };
    for (const kind of KINDS) {
      const campaignId = campaigns[kind].id;
      recorded[kind] = await verifyConversions(db, kind, campaignId, answered[kind], inFlightMax[kind]);
      const held = (await call('GET', `/v1/campaigns/${campaignId}`, brand)).escrow.held.amount as string;
      const expected = BigInt(recorded[kind]) * RATE_MINOR;
      if (parseAmount(held, 'USD') !== expected) {
        throw new Error(`bench: ${kind} campaign escrow holds ${held} USD for ${recorded[kind]} conversions at ${RATE}: expected ${expected} minor units`);
      }
    }
    const parts = recorded.split * CREATORS;

    await advanceClock(db, 2 * 86_400);
    log(`  split · postgres: settling ${formatInt(parts)} parts…`);
    const settleStarted = performance.now();
    // Statements timed by label (bench/profile.ts), to show where the settlement run's time goes.
    const profiler = new QueryProfiler();
    const report = await runSettlement(db.withPlugin(profiler), {});
    const settleSeconds = (performance.now() - settleStarted) / 1000;
    const slowest = [...profiler.stats.values()].sort((a, b) => b.totalMs - a.totalMs).slice(0, 3);
    const states = await sql<{ campaign_id: string; status: string; n: number }>`select campaign_id, status, count(*)::int as n from results
      where campaign_id in (${campaigns.split.id}, ${campaigns.single.id}) group by campaign_id, status`.execute(db);
    const count = (campaignId: string, status: string) =>
      states.rows.find((r) => r.campaign_id === campaignId && r.status === status)?.n ?? 0;
    if (report.approved !== parts || report.reviewed !== 0 || count(campaigns.split.id, 'approved') !== parts) {
      throw new Error(`bench: settlement approved ${report.approved} and reviewed ${report.reviewed} of ${parts} split parts: ${JSON.stringify(states.rows)}`);
    }
    if (count(campaigns.single.id, 'pending') !== recorded.single) {
      throw new Error(`bench: the single-creator campaign's results should still be held: ${JSON.stringify(states.rows)}`);
    }
    const mismatches = (await checkLedger(db)).mismatches;
    if (mismatches !== 0) throw new Error(`bench: checkLedger found ${mismatches} mismatches after settlement`);
    return { runs, splitRecorded: recorded.split, parts, settled: report.approved, settleSeconds, slowest, mismatches };
  });
}

/**
 * The journeys, in one INSERT … SELECT over generate_series per campaign: for conversion i of the
 * split campaign, three valid clicks by the three creators, all with visitor id `v-i` — the first
 * creator's 3–4 h before now, the second's 2–3 h, the third's (the last click: the conversion's
 * creator, whose click-to-conversion time validation judges) 2–32 min — so inside the window, well
 * past the 10 s minimum click-to-conversion time, and mostly within the hour as honest traffic is (the
 * release re-check's click-flooding rule looks at that). For conversion i of the single campaign, one
 * such click by creator i mod 3, visitor `w-i`. Each click its own IP hash (its own visitor).
 */
async function insertClicks(
  db: Db,
  kind: Kind,
  campaign: { id: string; enrolments: Array<{ id: string; creator_id: string }> },
  log: (m: string) => void,
): Promise<void> {
  const ks = campaign.enrolments.map((_, k) => k);
  const enrolmentIds = campaign.enrolments.map((e) => e.id);
  const creatorIds = campaign.enrolments.map((e) => e.creator_id);
  // Seconds before now, and the spread added by i: the last creator (k = 2) clicks last.
  const before = kind === 'split' ? [10_800, 7_200, 120] : [120, 120, 120];
  const spread = kind === 'split' ? [3_600, 3_600, 1_800] : [1_800, 1_800, 1_800];
  const started = performance.now();
  await sql`insert into clicks (id, enrolment_id, campaign_id, creator_id, occurred_at, ip_hash, user_agent, status, visitor_id)
    select 'clk_bench_' || ${kind}::text || '_' || i || '_' || t.k, t.enrolment_id, ${campaign.id}, t.creator_id,
        earnest_now() - make_interval(secs => t.before_s + i % t.spread_s), 'ip-' || ${kind}::text || '-' || i || '-' || t.k,
        ${USER_AGENT}, 'valid', ${kind === 'split' ? 'v-' : 'w-'}::text || i
      from generate_series(1, ${POOL}::int) as i
      cross join unnest(${ks}::int[], ${enrolmentIds}::text[], ${creatorIds}::text[], ${before}::int[], ${spread}::int[])
        as t(k, enrolment_id, creator_id, before_s, spread_s)
     where ${kind === 'split'}::boolean or t.k = i % ${CREATORS}::int`.execute(db);
  log(`  split · postgres: ${kind} clicks inserted in ${formatSeconds((performance.now() - started) / 1000)} s`);
}

/**
 * Waits for the answers still in flight when wrk stopped counting: until the campaigns' conversions
 * stop changing (none recording, the same count and results twice 300 ms apart; 30 s at most).
 */
async function quiesce(db: Db, campaignIds: readonly string[]): Promise<void> {
  let last = '';
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    const r = await sql<{ conversions: number; recording: number; results: number }>`select
        (select count(*)::int from conversions where campaign_id = any(${campaignIds}::text[])) as conversions,
        (select count(*)::int from conversions where status = 'recording') as recording,
        (select count(*)::int from results where campaign_id = any(${campaignIds}::text[])) as results`.execute(db);
    const now = JSON.stringify(r.rows[0]);
    if (now === last && r.rows[0]?.recording === 0) return;
    last = now;
    await new Promise((done) => setTimeout(done, 300));
  }
  throw new Error(`bench: conversions still being recorded 30 s after the runs: ${last}`);
}

/**
 * Every conversion on the campaign attributed, with exactly PARTS[kind] results — one per creator —
 * whose gross sums to the rate, all still pending; as many as were answered 201 (plus at most the
 * answers still in flight at wrk's deadlines). Returns how many.
 */
async function verifyConversions(db: Db, kind: Kind, campaignId: string, answered: number, inFlightMax: number): Promise<number> {
  const r = await sql<{ conversions: number; attributed: number; exact: number; results: number; pending: number }>`
    select count(*)::int as conversions, count(*) filter (where status = 'attributed')::int as attributed,
        count(*) filter (where parts = ${PARTS[kind]}::int and creators = ${PARTS[kind]}::int and gross = ${RATE_MINOR}::bigint)::int as exact,
        coalesce(sum(parts), 0)::int as results, coalesce(sum(pending), 0)::int as pending
      from (select c.id, c.status, count(r.id) as parts, count(distinct r.creator_id) as creators, sum(r.gross) as gross,
              count(r.id) filter (where r.status = 'pending' and r.hold_id is not null) as pending
            from conversions c left join results r on r.source_id = c.id
           where c.campaign_id = ${campaignId} group by c.id, c.status) x`.execute(db);
  const row = r.rows[0];
  const n = row?.conversions ?? 0;
  const facts = JSON.stringify(row);
  if (n < answered || n - answered > inFlightMax) {
    throw new Error(`bench: ${answered} ${kind} conversions answered 201 but ${n} recorded on the campaign (${facts})`);
  }
  if (row?.attributed !== n || row.exact !== n || row.pending !== n * PARTS[kind] || row.results !== n * PARTS[kind]) {
    throw new Error(`bench: ${kind} conversions should each be attributed with ${PARTS[kind]} held results summing to ${RATE} USD: ${facts}`);
  }
  return n;
}

interface Posted {
  run: Run;
  /** With the warm-up: what the database must hold afterwards. */
  total: number;
  /** Answers that may have been in flight at the runs' deadlines: recorded, not counted. */
  inFlightMax: number;
}

/**
 * wrk posts the conversions from its own process (one thread, CONNECTIONS connections): a warm-up,
 * then the measured run. Each run's script starts past every journey the previous one may have used
 * (its answers counted, plus one in flight per connection), so no click is sent twice.
 */
async function postWithWrk(wrk: string, base: string, brandKey: string, kind: Kind, log: (m: string) => void): Promise<Posted> {
  let offset = 0;
  const run = async (seconds: number) => {
    const out = await runWrkScript(wrk, { url: base, connections: CONNECTIONS, seconds, script: conversionScript(brandKey, kind, offset) });
    const r = parseWrk(out, seconds, CONNECTIONS);
    if (Object.keys(r.others).length > 0) throw new Error(`bench: ${kind} conversions answered other than 201: ${JSON.stringify(r.others)}\n${out}`);
    offset += r.requests + 2 * CONNECTIONS;
    if (offset > POOL) throw new Error(`bench: ${kind} conversions used up the ${POOL} journeys inserted (raise POOL_RATE)`);
    return r;
  };
  log(`  split · postgres: ${kind} conversions, warm-up…`);
  const warm = await run(WARMUP_SECONDS);
  log(`  split · postgres: ${kind} conversions from ${CONNECTIONS} wrk connections for ${RUN_SECONDS} s…`);
  const r = await run(RUN_SECONDS);
  return {
    run: { kind, connections: CONNECTIONS, conversions: r.requests, seconds: r.seconds, p99Ms: r.latencyMs.p99 },
    total: warm.requests + r.requests,
    inFlightMax: 2 * CONNECTIONS,
  };
}

/** Each request conversion i (from offset + 1 on): a new sale whose click ids are i's journey. */
function conversionScript(brandKey: string, kind: Kind, offset: number): string {
  const ids =
    kind === 'split'
      ? Array.from({ length: CREATORS }, (_, k) => `"clk_bench_split_' .. i .. '_${k}"`).join(',')
      : `"clk_bench_single_' .. i .. '_' .. (i % ${CREATORS}) .. '"`;
  return `local n = 0
wrk.method = "POST"
wrk.headers["authorization"] = "Bearer ${brandKey}"
wrk.headers["content-type"] = "application/json"
request = function()
  n = n + 1
  local i = ${offset} + n
  local body = '{"external_id":"${kind}-' .. i .. '","type":"sale","amount":"80.00","currency":"USD","click_ids":[${ids}],"customer":{"id":"customer-${kind}-' .. i .. '"}}'
  return wrk.format("POST", "/v1/conversions", nil, body)
end
`;
}

/** Without wrk: CLIENTS fetch loops in this process — the client's own cost then weighs on the server. */
async function postInProcess(call: BenchCall, brandKey: string, kind: Kind, log: (m: string) => void): Promise<Posted> {
  log(`  split · postgres: ${formatInt(IN_PROCESS_CONVERSIONS)} ${kind} conversions from ${CLIENTS} in-process clients…`);
  let next = 1;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let i = next++; i <= IN_PROCESS_CONVERSIONS; i = next++) {
        const r = await call('POST', '/v1/conversions', brandKey, {
          external_id: `${kind}-${i}`,
          type: 'sale',
          amount: '80.00',
          currency: 'USD',
          click_ids: kind === 'split' ? Array.from({ length: CREATORS }, (_, k) => clickId(kind, i, k)) : [clickId(kind, i, i % CREATORS)],
          customer: { id: `customer-${kind}-${i}` },
        }, true);
        if (r.status !== 'attributed') throw new Error(`bench ${kind} conversion ${i}: ${JSON.stringify(r)}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { run: { kind, connections: CLIENTS, conversions: IN_PROCESS_CONVERSIONS, seconds, p99Ms: null }, total: IN_PROCESS_CONVERSIONS, inFlightMax: 0 };
}

export const splitSection: BenchSection = {
  name: 'split',
  async run(ctx: BenchContext): Promise<SectionResult> {
    const intro =
      'Multi-touch split + hold through the real HTTP API of an Earnest server on the PostgreSQL server (its own schema). A ' +
      `cpa_fixed campaign at ${RATE} USD with attribution model \`linear\` and ${CREATORS} enrolled creators; its clicks are inserted ` +
      `beforehand in one SQL statement (INSERT … SELECT over generate_series): journeys for ${formatInt(POOL)} conversions, more than ` +
      "the run uses (the rest are clicks that did not convert), each three valid clicks by the three creators at distinct times inside " +
      "the window, the last one 2–32 min before the run, all with the journey's own visitor id (then `analyze clicks`, as autovacuum would " +
      'after a bulk insert). ' +
      'wrk posts sales from its own process at ' +
      `${CONNECTIONS} connections, ${RUN_SECONDS} s after a ${WARMUP_SECONDS} s warm-up, each with its journey's three ids in \`click_ids\`: ` +
      'the server assembles the journey (the ids sent and the visitor\'s clicks), validates the conversion once, splits its payout ' +
      `(${RATE} → 0.34 + 0.33 + 0.33) and records one result and one escrow hold (two linked pending transfers) per creator. For ` +
      'comparison, the same sales with one click each (creators in turn, each click with a visitor id, no split) on a second campaign ' +
      `with the same terms and as many journeys, inserted the same way. Then the ` +
      "clock is moved past the split campaign's hold period and one settlement run approves every part (the release re-check, then " +
      "each hold posted as a linked pair); the single-creator campaign's longer hold keeps its results out of that run. Both campaigns " +
      'lift the per-creator click and conversion velocity limits (three creators bring all the traffic). Checked in the database ' +
      `afterwards, or the bench fails: every conversion attributed, each split one with exactly ${CREATORS} pending results by ${CREATORS} ` +
      'creators whose gross sums to the rate (each single one with one), escrow held = conversions × rate on both campaigns before ' +
      'settlement, every split part approved by the run, and `checkLedger` without a mismatch. Without wrk, ' +
      `${CLIENTS} in-process clients post ${formatInt(IN_PROCESS_CONVERSIONS)} of each.`;
    const columns = ['measure', 'conversions', 'holds (parts)', 'seconds', 'conversions/s', 'holds/s', 'p99 ms'];
    if (!ctx.serverUrl) {
      return { title: 'Multi-touch split + hold', intro, table: { columns, rows: [] }, aims: [], notes: [`skipped: ${ctx.serverSkipped}`] };
    }
    const m = await measure(ctx.serverUrl, ctx.log);
    const rate = (kind: Kind) => {
      const r = m.runs.find((x) => x.kind === kind) as Run;
      return r.conversions / r.seconds;
    };
    const ratio = rate('split') / rate('single');
    const settleRate = m.settled / m.settleSeconds;
    const label: Record<Kind, string> = {
      single: 'single-creator conversions (1 click, 1 hold)',
      split: `split conversions (${CREATORS} clicks, linear, ${CREATORS} holds)`,
    };
    const aims: Aim[] = [
      {
        aim: `split conversions/s ≥ ${AIM_RATIO}× the single-creator rate (at ${WRK ? `${CONNECTIONS} connections` : `${CLIENTS} in-process clients`}; our aim — issue #5 sets none)`,
        measured: `${formatRate(rate('split'))}/s vs ${formatRate(rate('single'))}/s: ${ratio.toFixed(2)}×`,
        met: ratio >= AIM_RATIO,
      },
      {
        aim: `≥ ${formatInt(AIM_SETTLED)} split parts settled/s (our aim: the campaign loop's results-settled aim, per part)`,
        measured: `${formatRate(settleRate)}/s`,
        met: settleRate >= AIM_SETTLED,
      },
    ];
    return {
      title: 'Multi-touch split + hold',
      intro,
      table: {
        columns,
        numeric: [false, true, true, true, true, true, true],
        rows: [
          ...m.runs.map((r) => [
            `${label[r.kind]}, ${r.connections} ${WRK ? 'connections' : 'in-process clients'}`,
            formatInt(r.conversions),
            formatInt(r.conversions * PARTS[r.kind]),
            formatSeconds(r.seconds),
            formatRate(r.conversions / r.seconds),
            formatRate((r.conversions * PARTS[r.kind]) / r.seconds),
            r.p99Ms === null ? '—' : r.p99Ms.toFixed(1),
          ]),
          ['split parts settled (holds posted)', '—', formatInt(m.settled), formatSeconds(m.settleSeconds), '—', formatRate(settleRate), '—'],
        ],
      },
      aims,
      notes: [
        `Verified: ${formatInt(m.splitRecorded)} split conversions${WRK ? ' (warm-up included)' : ''} attributed with ${CREATORS} results each summing to ${RATE} USD, ` +
          `escrow held = conversions × rate, ${formatInt(m.parts)} parts approved by one settlement run; \`checkLedger\` found ${m.mismatches} mismatches.`,
        `Where the settlement run's ${formatSeconds(m.settleSeconds)} s went, costliest statements by label: ` +
          m.slowest.map((x) => `\`${x.label}\` ${formatSeconds(x.totalMs / 1000)} s (${formatInt(x.calls)} ${x.calls === 1 ? 'call' : 'calls'})`).join(', ') +
          '.' +
          ` Each settlement batch (${formatInt(SETTLEMENT_LIMITS.batch_size_default)} parts) re-checks every due creator's recent traffic (src/results/recheck.ts: up to 2,000 clicks ` +
          "and 1,000 conversions per creator, and the campaign's conversion-rate baseline over its 50,000 most recent clicks, read once per " +
          'campaign and batch) before posting the holds; a split campaign has a click per creator per conversion, where the campaign ' +
          "loop's leads come by promo code with no clicks to read — so this run pays the re-check's fixed cost per batch that the loop does not.",
        'Measured on a 2-core machine shared with other engineers (tests may have been running at the same time): if a figure looks low, rerun the section on a quiet machine.',
        ...(SCALE < 1 ? [`Scaled run (BENCH_SCALE=${SCALE}).`] : []),
      ],
    };
  },
};

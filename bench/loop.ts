import { advanceClock } from '../src/db/index.js';
import { checkLedger } from '../src/ledger/index.js';
import { runSettlement } from '../src/flows/settle.js';
import { sql } from 'kysely';
import { type BenchCall, withBenchServer } from './server.js';
import { findWrk, parseWrk, runWrkScript } from './wrk.js';
import { formatInt, formatRate, formatSeconds } from './report.js';
import type { Aim, BenchContext, BenchSection, SectionResult } from './types.js';

/**
 * The campaign loop on the PostgreSQL server: conversions accepted per second through the real HTTP
 * API (each one attributed, validated, recorded and held on the escrow), then results settled per
 * second (holds posted) once the clock passes the hold period. Fixed counts; every conversion must be
 * answered 201 and every result approved.
 */
const SCALE = Math.min(1, Math.max(0.01, Number(process.env.BENCH_SCALE ?? 1) || 1));
const CONVERSIONS = Math.round(6_000 * SCALE);
/** In-process clients when wrk is missing. */
const CLIENTS = 32;
/**
 * wrk connections, one run each: conversions are recorded in group-committed batches that wait on the
 * campaign's escrow in turn, so the rate grows with concurrency; the table shows the curve, and the aim
 * is judged at AIM_CONNECTIONS, the concurrency of the redirect figure.
 */
const CONNECTION_LEVELS = [16, 32, 50] as const;
const AIM_CONNECTIONS = 50;
const WRK = findWrk();
const WARMUP_SECONDS = 2;
const RUN_SECONDS = Math.max(2, Math.round(10 * SCALE));
const AIM_CONVERSIONS = 1_000;
const AIM_SETTLED = 2_000;

interface Measured {
  /** One run per concurrency level (one in-process run without wrk). */
  runs: Array<{ connections: number; conversions: number; seconds: number; p99Ms: number | null }>;
  settled: number;
  settleSeconds: number;
  mismatches: number;
}

async function measure(serverUrl: string, log: (m: string) => void): Promise<Measured> {
  return withBenchServer(serverUrl, async ({ db, url, operatorKey, call }) => {
    const brand = (await call('POST', '/v1/organizations', operatorKey, { name: 'Bench brand' })).api_key as string;
    const creator = (await call('POST', '/v1/creators', operatorKey, { name: 'Bench creator', email: 'bench@creators.example' })).api_key as string;
    await call('POST', '/v1/deposits', brand, { amount: '1000000.00', currency: 'USD', reference: 'bench' });
    const now = Date.now();
    const campaign = await call('POST', '/v1/campaigns', brand, {
      name: 'Bench leads',
      terms: {
        objective: 'cpl', rate: '1.00', currency: 'USD', budget: '500000.00', destination_url: 'https://shop.example/',
        starts_at: new Date(now - 60_000).toISOString(), ends_at: new Date(now + 365 * 86_400_000).toISOString(),
        kpi_target: 1, hold_days: 1, fee_bps: 2000,
        // One creator brings thousands of leads a second here: the campaign lifts the per-creator
        // conversion velocity limits (a review rule) so the run measures throughput, not fraud rules.
        validation: { rules: { conversion_velocity: { creator_per_minute: null, creator_per_hour: null } } },
      },
    });
    await call('POST', `/v1/campaigns/${campaign.id}/fund`, brand, { reference: 'bench-fund' });
    await call('POST', `/v1/campaigns/${campaign.id}/activate`, brand, {});
    const enrolment = await call('POST', `/v1/campaigns/${campaign.id}/enrolments`, creator, {
      terms_version: campaign.terms_version,
      terms_sha256: campaign.terms_sha256,
    });
    const posted = WRK
      ? await postWithWrk(WRK, url, brand, enrolment.promo_code, log)
      : await postInProcess(call, brand, enrolment.promo_code, log);
    const recorded = await sql<{ n: bigint }>`select count(*) as n from conversions where status = 'attributed'`.execute(db);
    // wrk stops counting at its deadline: answers in flight then (one per connection per run) were recorded but not counted.
    const held = Number(recorded.rows[0]?.n ?? 0n);
    if (held < posted.total || held - posted.total > posted.inFlightMax) {
      throw new Error(`bench: ${posted.total} conversions answered 201 but ${held} recorded as attributed`);
    }
    await advanceClock(db, 2 * 86_400);
    log('  loop · postgres: settling…');
    const settleStarted = performance.now();
    const report = await runSettlement(db, {});
    const settleSeconds = (performance.now() - settleStarted) / 1000;
    const mismatches = (await checkLedger(db)).mismatches;
    return { runs: posted.runs, settled: report.approved, settleSeconds, mismatches };
  });
}

interface Posted {
  runs: Measured['runs'];
  /** With the warm-up: what the database must hold afterwards. */
  total: number;
  /** Answers that may have been in flight at the runs' deadlines: recorded, not counted. */
  inFlightMax: number;
}

/**
 * wrk posts the conversions from its own process (C, one thread, CLIENTS connections), as a brand's
 * servers would: the server's process does only the server's work. Every answer must be 201.
 */
async function postWithWrk(wrk: string, base: string, brandKey: string, promoCode: string, log: (m: string) => void): Promise<Posted> {
  const run = async (prefix: string, connections: number, seconds: number) => {
    const out = await runWrkScript(wrk, { url: base, connections, seconds, script: conversionScript(brandKey, promoCode, prefix) });
    const r = parseWrk(out, seconds, connections);
    if (Object.keys(r.others).length > 0) throw new Error(`bench: conversions answered other than 201: ${JSON.stringify(r.others)}\n${out}`);
    return r;
  };
  const warm = await run('warm', AIM_CONNECTIONS, WARMUP_SECONDS);
  let total = warm.requests;
  let inFlightMax = AIM_CONNECTIONS;
  const runs: Posted['runs'] = [];
  for (const connections of CONNECTION_LEVELS) {
    log(`  loop · postgres: conversions from ${connections} wrk connections for ${RUN_SECONDS} s…`);
    const r = await run(`c${connections}`, connections, RUN_SECONDS);
    runs.push({ connections, conversions: r.requests, seconds: r.seconds, p99Ms: r.latencyMs.p99 });
    total += r.requests;
    inFlightMax += connections;
  }
  return { runs, total, inFlightMax };
}

/** Each request a new lead (its own external id and customer) by the creator's promo code. */
function conversionScript(brandKey: string, promoCode: string, prefix: string): string {
  return `local n = 0
wrk.method = "POST"
wrk.headers["authorization"] = "Bearer ${brandKey}"
wrk.headers["content-type"] = "application/json"
request = function()
  n = n + 1
  local body = '{"external_id":"lead-${prefix}-' .. n .. '","type":"lead","promo_code":"${promoCode}","customer":{"id":"customer-${prefix}-' .. n .. '","email":"customer.${prefix}.' .. n .. '@mail.example"}}'
  return wrk.format("POST", "/v1/conversions", nil, body)
end
`;
}

/** Without wrk: CLIENTS fetch loops in this process — the client's own cost then weighs on the server. */
async function postInProcess(call: BenchCall, brandKey: string, promoCode: string, log: (m: string) => void): Promise<Posted> {
  log(`  loop · postgres: ${formatInt(CONVERSIONS)} conversions from ${CLIENTS} in-process clients…`);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let i = next++; i < CONVERSIONS; i = next++) {
        const r = await call('POST', '/v1/conversions', brandKey, {
          external_id: `lead-${i}`,
          type: 'lead',
          promo_code: promoCode,
          customer: { id: `customer-${i}`, email: `customer${i}@mail.example` },
        }, true);
        if (r.status !== 'attributed') throw new Error(`bench conversion ${i}: ${JSON.stringify(r)}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { runs: [{ connections: CLIENTS, conversions: CONVERSIONS, seconds, p99Ms: null }], total: CONVERSIONS, inFlightMax: 0 };
}

export const loopSection: BenchSection = {
  name: 'loop',
  async run(ctx: BenchContext): Promise<SectionResult> {
    const intro =
      'Through the real HTTP API of an Earnest server on the PostgreSQL server (its own schema): lead conversions posted by ' +
      `wrk from its own process at ${CONNECTION_LEVELS.join(', ')} connections, ${RUN_SECONDS} s each after a warm-up (promo-code ` +
      'attribution, validation by the engine, the conversion and result rows and the escrow hold — two linked pending transfers — ' +
      'for each; every answer must be 201 attributed, and every one is checked in the database afterwards), then the clock is ' +
      "moved past the hold period and one settlement run approves them all (re-checking each creator's recent traffic with the " +
      'validation engine first, then posting every hold as a linked pair). Concurrent conversions are recorded in group-committed ' +
      "batches that take the campaign escrow's lock in turn, so the rate grows with concurrency; the aim is judged at " +
      `${AIM_CONNECTIONS} connections, the concurrency of the redirect figure. The campaign lifts the per-creator conversion ` +
      `velocity limits (one creator brings every lead here). Without wrk, ${CLIENTS} in-process clients post ${formatInt(CONVERSIONS)}.`;
    if (!ctx.serverUrl) {
      return { title: 'Campaign loop', intro, table: { columns: ['measure'], rows: [] }, aims: [], notes: [`skipped: ${ctx.serverSkipped}`] };
    }
    const m = await measure(ctx.serverUrl, ctx.log);
    const judged = m.runs.find((r) => r.connections === AIM_CONNECTIONS) ?? (m.runs[m.runs.length - 1] as Measured['runs'][number]);
    const conversionRate = judged.conversions / judged.seconds;
    const settleRate = m.settled / m.settleSeconds;
    const aims: Aim[] = [
      {
        aim: `≥ ${formatInt(AIM_CONVERSIONS)} conversions accepted/s (at ${judged.connections} connections)`,
        measured: `${formatRate(conversionRate)}/s`,
        met: conversionRate >= AIM_CONVERSIONS,
      },
      { aim: `≥ ${formatInt(AIM_SETTLED)} results settled/s`, measured: `${formatRate(settleRate)}/s`, met: settleRate >= AIM_SETTLED },
    ];
    return {
      title: 'Campaign loop',
      intro,
      table: {
        columns: ['measure', 'count', 'seconds', 'per second', 'p99 ms'],
        numeric: [false, true, true, true, true],
        rows: [
          ...m.runs.map((r) => [
            `conversions accepted (HTTP, held), ${r.connections} connections`,
            formatInt(r.conversions),
            formatSeconds(r.seconds),
            formatRate(r.conversions / r.seconds),
            r.p99Ms === null ? '—' : r.p99Ms.toFixed(1),
          ]),
          ['results settled (holds posted)', formatInt(m.settled), formatSeconds(m.settleSeconds), formatRate(settleRate), '—'],
        ],
      },
      aims,
      notes: [`after the run \`checkLedger\` found ${m.mismatches} mismatches.`, ...(SCALE < 1 ? [`Scaled run (BENCH_SCALE=${SCALE}).`] : [])],
    };
  },
};

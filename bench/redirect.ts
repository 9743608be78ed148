/**
 * Redirect throughput: `GET /c/{code}` on a real Earnest server (`earnest serve`, its own process)
 * against a bare node:http server answering the same 302, both driven by the same load generator in
 * a third process: 50 keep-alive connections for a fixed time, latencies in a histogram. After each
 * Earnest run the server is stopped with SIGTERM and the clicks in the database are counted: every
 * request answered 302 must be a written click.
 *
 * This file is also the children's entry point: `tsx bench/redirect.ts load '<plan>'` (the load
 * generator) and `tsx bench/redirect.ts bare <port>` (the bare server).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createServer as createNetServer } from 'node:net';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { dropSchema, type Engine, openDatabase } from '../src/db/index.js';
import { formatInt, formatRate, formatSeconds } from './report.js';
import type { Aim, BenchContext, BenchSection, SectionResult } from './types.js';
import { findWrk, type LoadResult, parseWrk, runWrkScript } from './wrk.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);

const CONNECTIONS = 50;
/** BENCH_SCALE=0.1 shortens the measured runs (never below 2 s); the default is the published run. */
const SCALE = Math.min(1, Math.max(0.01, Number(process.env.BENCH_SCALE ?? 1) || 1));
const DURATION_MS = Math.max(2_000, Math.round(10_000 * SCALE));
const WARMUP_MS = 2_000;
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 5_000;
const DESTINATION = 'https://shop.example/landing?utm_source=earnest#top';

const AIM_RATIO = 0.6;
const AIM_P99_MS = 10;

// ---------------------------------------------------------------------------------------------
// The load generator (child process)

interface LoadPlan {
  url: string;
  connections: number;
  durationMs: number;
}


/** 10 µs buckets up to 100 ms; slower answers count in the last bucket (and in max). */
const BUCKET_US = 10;
const BUCKETS = 10_000;

class Histogram {
  readonly counts = new Uint32Array(BUCKETS);
  total = 0;
  maxUs = 0;

  record(us: number): void {
    this.counts[Math.min(BUCKETS - 1, Math.floor(us / BUCKET_US))]! += 1;
    this.total++;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** The upper edge of the bucket holding the q-quantile, in ms. */
  quantileMs(q: number): number {
    const target = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] as number;
      if (seen >= target) return ((i + 1) * BUCKET_US) / 1000;
    }
    return this.maxUs / 1000;
  }
}

/**
 * `connections` workers, each sending one request at a time on its own keep-alive socket (the agent
 * never opens more), until the deadline. Every request is a different browser version, so every click
 * is a distinct visitor: valid, written, never a repeat.
 */
async function generateLoad(plan: LoadPlan): Promise<LoadResult> {
  const target = new URL(plan.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: plan.connections, maxFreeSockets: plan.connections });
  let sockets = 0;
  const createConnection = agent.createConnection.bind(agent);
  // Counts the sockets the agent opens (each stays open: keep-alive), without a listener per request.
  agent.createConnection = ((...args: Parameters<typeof createConnection>) => {
    sockets++;
    return createConnection(...args);
  }) as typeof agent.createConnection;
  const histogram = new Histogram();
  const others: Record<string, number> = {};
  let redirects = 0;
  const started = performance.now();
  const deadline = started + plan.durationMs;
  // One watchdog instead of a timer per request: a request older than REQUEST_TIMEOUT_MS is cut.
  const inFlight = new Map<http.ClientRequest, number>();
  const watchdog = setInterval(() => {
    const now = performance.now();
    for (const [req, t0] of inFlight) if (now - t0 > REQUEST_TIMEOUT_MS) req.destroy(new Error('timeout'));
  }, 500);
  const options = { agent, host: target.hostname, port: target.port, path: target.pathname };
  const one = (worker: number, n: number, t0: number) =>
    new Promise<number>((done) => {
      const ua = `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.${worker}.${n}.0 Safari/537.36`;
      const req = http.request({ ...options, headers: { 'user-agent': ua } }, (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode ?? 0));
        res.on('error', () => done(0));
      });
      inFlight.set(req, t0);
      req.on('error', () => done(0));
      req.on('close', () => inFlight.delete(req));
      req.end();
    });
  await Promise.all(
    Array.from({ length: plan.connections }, async (_, worker) => {
      for (let n = 0; performance.now() < deadline; n++) {
        const t0 = performance.now();
        const status = await one(worker, n, t0);
        histogram.record((performance.now() - t0) * 1000);
        if (status === 302) redirects++;
        else others[String(status)] = (others[String(status)] ?? 0) + 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  clearInterval(watchdog);
  agent.destroy();
  return {
    requests: histogram.total,
    redirects,
    others,
    seconds,
    sockets,
    latencyMs: { p50: histogram.quantileMs(0.5), p90: histogram.quantileMs(0.9), p99: histogram.quantileMs(0.99), max: histogram.maxUs / 1000 },
  };
}

// ---------------------------------------------------------------------------------------------
// The bare server (child process): the floor any node:http server stands on.

function serveBare(port: number): void {
  let n = 0;
  const server = http.createServer((_req, res) => {
    res.writeHead(302, { location: `${DESTINATION.replace('#', `&ern_cid=clk_${(n++).toString(36)}#`)}`, 'content-length': 0, 'cache-control': 'no-store' });
    res.end();
  });
  server.listen(port, '127.0.0.1', () => process.stderr.write('listening\n'));
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

// ---------------------------------------------------------------------------------------------
// The orchestration (the bench process)

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createNetServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/**
 * Children run in one node process each, TypeScript loaded in process (`--import tsx`, as
 * bin/earnest.js does): the `tsx` command would put a wrapper process in between, which relays a
 * SIGTERM and SIGKILLs its child if that does not acknowledge within about 60 ms — under full load, a
 * busy event loop can miss that, and the buffered clicks with it.
 */
function spawnNode(args: string[], env: Record<string, string | undefined> = process.env, flags: string[] = []): ChildProcess {
  const loader = args[0]?.endsWith('.ts') ? ['--import', 'tsx'] : [];
  return spawn(process.execPath, [...flags, ...loader, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Resolves with the first match of `pattern` on the child's stderr; fails on exit or timeout. */
function waitForStderr(child: ChildProcess, pattern: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((done, fail) => {
    let text = '';
    const timer = setTimeout(() => fail(new Error(`${what}: nothing within ${START_TIMEOUT_MS} ms; stderr: ${text.slice(-2000)}`)), START_TIMEOUT_MS);
    child.stderr?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = pattern.exec(text);
      if (match) {
        clearTimeout(timer);
        done(match);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${what}: exited (${code}) first; stderr: ${text.slice(-2000)}`));
    });
  });
}

function exited(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((done, fail) => {
    if (child.exitCode !== null) return done(child.exitCode);
    const timer = setTimeout(() => fail(new Error(`process ${child.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done(code);
    });
  });
}

function kill(child: ChildProcess | undefined): void {
  if (child && child.exitCode === null && child.signalCode === null && child.pid) child.kill('SIGKILL');
}

/** wrk (C, epoll) loads a server with far less CPU than a node client: used when installed (`apt-get install wrk`). */
const WRK = findWrk();


export function loadGeneratorName(): string {
  return WRK ? 'wrk (one thread, a distinct browser version per request)' : 'node:http keep-alive agents in a child process';
}

/** Runs the load generator in its own process and returns what it measured. */
async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  return WRK ? runWrk(WRK, plan) : runNodeLoad(plan);
}

const WRK_SCRIPT = `local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", nil, {["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0." .. n .. ".0 Safari/537.36"})
end
`;

async function runWrk(wrk: string, plan: LoadPlan): Promise<LoadResult> {
  const seconds = Math.max(1, Math.round(plan.durationMs / 1000));
  const out = await runWrkScript(wrk, { url: plan.url, connections: plan.connections, seconds, script: WRK_SCRIPT });
  return parseWrk(out, seconds, plan.connections);
}

async function runNodeLoad(plan: LoadPlan): Promise<LoadResult> {
  const child = spawnNode([THIS_FILE, 'load', JSON.stringify(plan)]);
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  try {
    const code = await exited(child, plan.durationMs + 30_000);
    if (code !== 0) throw new Error(`the load generator exited ${code}`);
    return JSON.parse(out.trim().split('\n').at(-1) as string) as LoadResult;
  } finally {
    kill(child);
  }
}

interface Row {
  server: string;
  load: LoadResult;
  /** Earnest only: clicks in the database after the SIGTERM, and 302s answered in all runs (warm-up included). */
  written?: number;
  answered?: number;
}

async function measureBare(ctx: BenchContext): Promise<Row> {
  const port = await freePort();
  const child = spawnNode([THIS_FILE, 'bare', String(port)]);
  try {
    await waitForStderr(child, /listening/, 'bare server');
    const url = `http://127.0.0.1:${port}/c/x`;
    await runLoad({ url, connections: CONNECTIONS, durationMs: WARMUP_MS });
    const load = await runLoad({ url, connections: CONNECTIONS, durationMs: DURATION_MS });
    ctx.log(`  bare node:http: ${formatRate(load.requests / load.seconds)}/s, p99 ${load.latencyMs.p99.toFixed(2)} ms`);
    child.kill('SIGTERM');
    await exited(child, STOP_TIMEOUT_MS);
    return { server: 'bare node:http 302', load };
  } finally {
    kill(child);
  }
}

/** Where one Earnest run keeps its data: a fresh schema on the server, or a fresh data directory. */
interface Place {
  env: Record<string, string | undefined>;
  args: string[];
  open(): ReturnType<typeof openDatabase<any>>;
  remove(): Promise<void>;
}

async function placeFor(engine: Engine, serverUrl: string | undefined): Promise<Place> {
  if (engine === 'pglite') {
    const dataDir = mkdtempSync(join(os.tmpdir(), 'earnest-bench-redirect-'));
    return {
      env: { DATABASE_URL: undefined },
      args: ['--data-dir', dataDir],
      open: () => openDatabase<any>({ dataDir }),
      remove: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const url = serverUrl as string;
  const schema = `bench_redirect_${randomBytes(4).toString('hex')}`;
  await (await openDatabase<any>({ url, schema, poolSize: 1 })).close();
  const withSchema = new URL(url);
  withSchema.searchParams.set('options', `-c search_path=${schema}`);
  return {
    env: { DATABASE_URL: withSchema.toString() },
    args: [],
    open: () => openDatabase<any>({ url, schema, poolSize: 1 }),
    remove: () => dropSchema(url, schema),
  };
}

/** A brand, a funded and active campaign (paying per lead, so clicks cost no ledger work) and a joined creator. */
async function setUp(base: string, operatorKey: string): Promise<string> {
  const call = async (path: string, key: string, body: unknown) => {
    const r = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS * 4),
    });
    const json = (await r.json()) as any;
    if (r.status >= 300) throw new Error(`POST ${path}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  };
  const org = await call('/v1/organizations', operatorKey, { name: 'Bench Shoes' });
  const creator = await call('/v1/creators', operatorKey, { name: 'Bench Creator', email: 'bench@creators.example' });
  await call('/v1/deposits', org.api_key, { amount: '1000.00', currency: 'USD', reference: 'bench' });
  const terms = {
    objective: 'cpl',
    rate: '1.00',
    currency: 'USD',
    budget: '1000.00',
    destination_url: DESTINATION,
    starts_at: '2020-01-01T00:00:00Z',
    ends_at: '2100-01-01T00:00:00Z',
    kpi_target: 1,
  };
  const campaign = await call('/v1/campaigns', org.api_key, { name: 'Bench', terms });
  await call(`/v1/campaigns/${campaign.id}/fund`, org.api_key, { reference: 'bench' });
  await call(`/v1/campaigns/${campaign.id}/activate`, org.api_key, {});
  const joined = await call(`/v1/campaigns/${campaign.id}/enrolments`, creator.api_key, {
    terms_version: campaign.terms_version,
    terms_sha256: campaign.terms_sha256,
  });
  return joined.link_code as string;
}

async function measureEarnest(engine: Engine, ctx: BenchContext): Promise<Row> {
  const place = await placeFor(engine, ctx.serverUrl);
  let child: ChildProcess | undefined;
  try {
    const port = await freePort();
    const env: Record<string, string | undefined> = { ...process.env, ...place.env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', RATE_LIMIT_CLICKS_PER_MIN: '0' };
    if (env.DATABASE_URL === undefined) delete env.DATABASE_URL;
    // BENCH_CPU_PROFILE_DIR=dir: the server writes a V8 CPU profile there when it stops (open it in Chrome's DevTools).
    const profile = process.env.BENCH_CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE_DIR}`] : [];
    child = spawnNode(['bin/earnest.js', 'serve', '--port', String(port), ...place.args], env, profile);
    const key = await waitForStderr(child, /Operator API key[^:]*: (ek_[0-9a-z_]+)/, `earnest serve (${engine})`);
    const base = `http://127.0.0.1:${port}`;
    const code = await setUp(base, key[1] as string);
    const url = `${base}/c/${code}`;
    const warm = await runLoad({ url, connections: CONNECTIONS, durationMs: WARMUP_MS });
    const load = await runLoad({ url, connections: CONNECTIONS, durationMs: DURATION_MS });
    ctx.log(`  earnest (${engine}): ${formatRate(load.requests / load.seconds)}/s, p99 ${load.latencyMs.p99.toFixed(2)} ms; stopping…`);
    child.kill('SIGTERM');
    const exitCode = await exited(child, STOP_TIMEOUT_MS);
    if (exitCode !== 0) throw new Error(`earnest serve (${engine}) exited ${exitCode} on SIGTERM`);
    const database = await place.open();
    try {
      const r = await sql<{ n: bigint }>`select count(*) as n from clicks`.execute(database.db);
      return { server: `earnest (${engine})`, load, written: Number(r.rows[0]?.n ?? 0n), answered: warm.redirects + load.redirects };
    } finally {
      await database.close();
    }
  } finally {
    kill(child);
    await place.remove();
  }
}

/** Two runs per server (warm-up and measured), each leaving at most one request in flight per connection. */
function clicksAccountedFor(r: Row): boolean {
  const written = r.written ?? 0;
  const answered = r.answered ?? 0;
  return written >= answered && written - answered <= 2 * CONNECTIONS;
}

function rate(row: Row | undefined): number | undefined {
  return row ? row.load.requests / row.load.seconds : undefined;
}

function aims(bare: Row, earnest: Row[], serverSkipped: string | undefined): Aim[] {
  const pg = earnest.find((r) => r.server === 'earnest (postgres)');
  const unmeasured = serverSkipped ? 'server skipped (see the notes)' : undefined;
  const ratio = pg ? (rate(pg) as number) / (rate(bare) as number) : undefined;
  return [
    {
      aim: `Earnest on the PostgreSQL server answers ≥ ${AIM_RATIO} of the bare node:http rate at ${CONNECTIONS} connections`,
      measured: pg ? `${formatRate(rate(pg) as number)}/s vs ${formatRate(rate(bare) as number)}/s = ${(ratio as number).toFixed(2)}` : unmeasured,
      met: ratio === undefined ? undefined : ratio >= AIM_RATIO,
    },
    {
      aim: `p99 latency < ${AIM_P99_MS} ms on the PostgreSQL server`,
      measured: pg ? `p99 ${pg.load.latencyMs.p99.toFixed(2)} ms` : unmeasured,
      met: pg ? pg.load.latencyMs.p99 < AIM_P99_MS : undefined,
    },
    {
      aim: 'every request answered 302 is a click written to the database (after SIGTERM)',
      measured: earnest.map((r) => `${r.server}: ${formatInt(r.written ?? 0)} written of ${formatInt(r.answered ?? 0)} answered`).join('; '),
      // The generator stops counting at its deadline: answers still in flight then (at most one per
      // connection per run) were written but not counted, so written may exceed answered by that much.
      met: earnest.length === 0 ? undefined : earnest.every((r) => clicksAccountedFor(r)),
    },
  ];
}

export const redirectSection: BenchSection = {
  name: 'redirect',
  async run(ctx: BenchContext): Promise<SectionResult> {
    ctx.log(`redirect: ${CONNECTIONS} connections, ${formatSeconds(DURATION_MS / 1000)} s per server after a ${formatSeconds(WARMUP_MS / 1000)} s warm-up`);
    const bare = await measureBare(ctx);
    const earnest: Row[] = [];
    if (ctx.serverUrl) earnest.push(await measureEarnest('postgres', ctx));
    earnest.push(await measureEarnest('pglite', ctx));
    const rows = [bare, ...earnest];
    const notes = [
      `The load generator — ${loadGeneratorName()} — runs in its own process on the ` +
        'same 2 cores as the server it drives, so both rates are lower than a separate load machine would see; the ratio ' +
        'compares them under the same conditions. Every request is another browser version, so every click is a distinct, ' +
        'valid visitor: written, checked for repeats, never deduplicated away. Without wrk installed the bench falls back to a ' +
        'node:http generator, which takes a whole core itself (BENCH_LOAD_GENERATOR=node forces it).',
      'Earnest runs as `node bin/earnest.js serve` with LOG_LEVEL=warn (at `info` every request is a JSON log line) and ' +
        'RATE_LIMIT_CLICKS_PER_MIN=0 (the generator is one IP); clicks are flushed every CLICK_FLUSH_INTERVAL_MS (50 ms). ' +
        'wrk keeps no cookies, so every redirect also makes a visitor id and sets its cookie (VISITOR_COOKIE_DAYS). ' +
        'The campaign pays per lead, so clicks cost no ledger work; CPC clicks add one `recordResults` per flush (see the ledger section).',
      `Latency here is mostly queueing: with ${CONNECTIONS} connections each waiting for its answer, the mean latency is ` +
        `${CONNECTIONS} / rate (Little's law), ${((1000 * CONNECTIONS) / (rate(bare) as number)).toFixed(1)} ms even for the bare ` +
        `server (whose p99 is ${bare.load.latencyMs.p99.toFixed(1)} ms). A p99 under ${AIM_P99_MS} ms at ${CONNECTIONS} connections ` +
        'needs a load generator that drives well over 10,000 requests/s, which one node:http client process sharing 2 cores does not.',
      'Why the 0.6 ratio is out of reach on this machine: the bare run already fills both cores (wrk about one, node:http about ' +
        'one: about 14 µs of CPU per request each). Earnest must also write every click durably — PostgreSQL spends about ' +
        '15–20 µs per click on the insert, its indexes, the repeat probe and the WAL (measured with psql on the same table) — and ' +
        'that CPU comes out of the same two cores. At 0.6 of bare, wrk and the HTTP handling alone take 1.2 cores, leaving 0.8 ' +
        'core for everything click-specific: about 19 µs per click, less than the database write by itself. Without the write ' +
        '(clicks discarded, an experiment, not a mode) the same request path answered about 0.68 of bare. A load generator on ' +
        'another machine, or PostgreSQL on its own cores, removes that contention; this section does not pretend it away.',
      ...rows.filter((r) => Object.keys(r.load.others).length > 0).map((r) => `${r.server}: answers other than 302: ${JSON.stringify(r.load.others)}`),
    ];
    if (ctx.serverSkipped) notes.unshift(`PostgreSQL server part skipped: ${ctx.serverSkipped}`);
    if (SCALE !== 1) notes.unshift(`Scaled run (BENCH_SCALE=${SCALE}): ${formatSeconds(DURATION_MS / 1000)} s runs, not the published 10 s.`);
    return {
      title: 'Redirect throughput',
      intro:
        `\`GET /c/{code}\` at ${CONNECTIONS} keep-alive connections for ${formatSeconds(DURATION_MS / 1000)} s (after a ` +
        `${formatSeconds(WARMUP_MS / 1000)} s warm-up), on a real Earnest server in its own process — on the PostgreSQL server ` +
        '(its own schema) and on the embedded engine — and on a bare node:http server answering the same 302. After each ' +
        'Earnest run the server gets SIGTERM and the clicks in its database are counted against the 302s it answered.',
      table: {
        columns: ['server', 'requests', 'seconds', 'requests/s', 'p50 ms', 'p99 ms', 'max ms', 'sockets', 'clicks written'],
        numeric: [false, true, true, true, true, true, true, true, true],
        rows: rows.map((r) => [
          r.server,
          formatInt(r.load.requests),
          formatSeconds(r.load.seconds),
          formatRate(r.load.requests / r.load.seconds),
          r.load.latencyMs.p50.toFixed(2),
          r.load.latencyMs.p99.toFixed(2),
          r.load.latencyMs.max.toFixed(1),
          String(r.load.sockets),
          r.written === undefined ? '—' : `${formatInt(r.written)} of ${formatInt(r.answered ?? 0)}`,
        ]),
      },
      aims: aims(bare, earnest, ctx.serverSkipped),
      notes,
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Child entry points

if (process.argv[1] && resolve(process.argv[1]) === THIS_FILE) {
  const [mode, arg] = process.argv.slice(2);
  if (mode === 'load') {
    const plan = JSON.parse(arg as string) as LoadPlan;
    // Bounded even if a server hangs: requests time out, and so does the whole process.
    setTimeout(() => process.exit(3), plan.durationMs + 20_000).unref();
    generateLoad(plan).then(
      (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
      (e) => {
        process.stderr.write(`load generator failed: ${(e as Error).stack}\n`);
        process.exitCode = 1;
      },
    );
  } else if (mode === 'bare') {
    serveBare(Number(arg));
    setTimeout(() => process.exit(3), 10 * 60_000).unref();
  }
}

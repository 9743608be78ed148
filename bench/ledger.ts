import { type Kysely, sql } from 'kysely';
import { type Engine, openDatabase } from '../src/db/index.js';
import {
  LedgerBatcher,
  AccountFlags,
  checkLedger,
  createAccounts,
  createTransfers,
  type TransferOutcome,
  type TransferRequest,
  TransferFlags as F,
} from '../src/ledger/index.js';
import { cpuSince, cpuSnapshot, type CpuSnapshot } from './cpu.js';
import { type BenchDatabase, withFreshDatabase } from './engines.js';
import { QueryProfiler, type StatementStats } from './profile.js';
import { formatInt, formatRate, formatSeconds } from './report.js';
import type { Aim, BenchContext, BenchSection, SectionResult } from './types.js';

/**
 * Ledger throughput: createTransfers() end to end (locks, state machine, journal insert, trigger,
 * postcondition check, commit), on a fresh database per engine. Every count is fixed, so the run is
 * bounded; every transfer must answer `ok`, or the run fails (a benchmark of refusals proves nothing).
 */

const USD = 'USD';
const CODE = 1;
const PAIRS = 400;
const POOL_SIZE = 20;
const FUNDING = 10n ** 15n;

interface Plan {
  /** Concurrent clients for one-transfer-per-call scenarios. */
  singleClients: number;
  singleTransfers: number;
  /** Concurrent clients for batched scenarios (each on its own accounts). */
  batchClients: number;
  batchSize: number;
  batchedTransfers: number;
  hotSingleTransfers: number;
  hotBatchedTransfers: number;
  /** Holds created (then as many posts). */
  twoPhaseHolds: number;
  /** Concurrent one-transfer callers sharing one LedgerBatcher (group commit). */
  groupedClients: number;
  groupedTransfers: number;
  groupedInFlight: number;
}

/** Sized so the whole run (both engines, setup, profile, checks) stays well under three minutes. */
const PLANS: Record<Engine, Plan> = {
  pglite: {
    singleClients: 1,
    singleTransfers: 2_000,
    batchClients: 1,
    batchSize: 2_000,
    batchedTransfers: 40_000,
    hotSingleTransfers: 2_000,
    hotBatchedTransfers: 20_000,
    twoPhaseHolds: 10_000,
    groupedClients: 16,
    groupedTransfers: 8_000,
    groupedInFlight: 1,
  },
  postgres: {
    singleClients: 16,
    singleTransfers: 8_000,
    batchClients: 4,
    batchSize: 2_000,
    batchedTransfers: 160_000,
    hotSingleTransfers: 4_000,
    hotBatchedTransfers: 80_000,
    twoPhaseHolds: 24_000,
    groupedClients: 32,
    groupedTransfers: 24_000,
    groupedInFlight: 2,
  },
};

const SERVER_SINGLE_ONE_CLIENT = 1_000;

/** BENCH_SCALE=0.1 runs a tenth of every count (a quick smoke run); the default is the full, published run. */
const SCALE = Math.min(1, Math.max(0.01, Number(process.env.BENCH_SCALE ?? 1) || 1));

function scaled(plan: Plan): Plan {
  if (SCALE === 1) return plan;
  const n = (x: number, min: number) => Math.max(min, Math.round(x * SCALE));
  return {
    ...plan,
    singleTransfers: n(plan.singleTransfers, plan.singleClients),
    batchedTransfers: n(plan.batchedTransfers, plan.batchSize * plan.batchClients),
    hotSingleTransfers: n(plan.hotSingleTransfers, plan.singleClients),
    hotBatchedTransfers: n(plan.hotBatchedTransfers, plan.batchSize * plan.batchClients),
    twoPhaseHolds: n(plan.twoPhaseHolds, plan.batchSize * plan.batchClients),
  };
}

export interface LedgerRow {
  engine: Engine;
  scenario: string;
  /** Stable key for aims. */
  key: string;
  transfers: number;
  seconds: number;
  cpu: CpuSnapshot;
}

const world = 'world';
const src = (k: number) => `src.${k}`;
const dst = (k: number) => `dst.${k}`;
const HOT = 'hot';

function plain(id: string, debit: string, credit: string, flags = 0): TransferRequest {
  return { id, debit_account_id: debit, credit_account_id: credit, amount: 1n + BigInt(id.length % 7), currency: USD, code: CODE, flags };
}

async function submit(db: Kysely<any>, requests: TransferRequest[]): Promise<void> {
  const outcomes = await createTransfers(db, requests);
  const bad = outcomes.find((o: TransferOutcome) => o.result !== 'ok');
  if (bad) throw new Error(`benchmark transfer ${bad.id} answered ${bad.result}, not ok`);
}

async function timed(work: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await work();
  return (performance.now() - t0) / 1000;
}

function clients(n: number, work: (client: number) => Promise<void>): Promise<void> {
  return Promise.all(Array.from({ length: n }, (_, c) => work(c))).then(() => undefined);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * PL/pgSQL caches the journal trigger's plans per session, planned for the size of the transition
 * table on the session's first insert (or first after an invalidation). A session whose first insert is
 * a big batch keeps hash-join plans that scan the whole journal on every later insert (see
 * `planProbe`). So the measured run opens every session with a one-row insert and runs the
 * one-transfer scenarios before any batch; the probe measures the other case.
 */
async function primeSessions(db: Kysely<any>, sessions: number): Promise<void> {
  await Promise.all(Array.from({ length: sessions }, (_, i) => submit(db, [plain(`prime.${i}`, world, dst(i % PAIRS))])));
}

async function setup(db: Kysely<any>, sessions: number): Promise<void> {
  const accounts = [
    { id: world, currency: USD, code: CODE },
    { id: HOT, currency: USD, code: CODE, flags: AccountFlags.debits_must_not_exceed_credits },
    ...Array.from({ length: PAIRS }, (_, k) => [
      { id: src(k), currency: USD, code: CODE, flags: AccountFlags.debits_must_not_exceed_credits },
      { id: dst(k), currency: USD, code: CODE },
    ]).flat(),
  ];
  const outcomes = await createAccounts(db, accounts);
  const bad = outcomes.find((o) => o.result !== 'ok');
  if (bad) throw new Error(`account ${bad.id}: ${bad.result}`);
  await primeSessions(db, sessions);
  const funding = [HOT, ...Array.from({ length: PAIRS }, (_, k) => src(k))].map((id) => ({
    id: `fund.${id}`,
    debit_account_id: world,
    credit_account_id: id,
    amount: FUNDING,
    currency: USD,
    code: CODE,
  }));
  await submit(db, funding);
  // Warm-up (untimed): JIT warm, a few pages in memory.
  for (let i = 0; i < 100; i++) await submit(db, [plain(`warm.${i}`, src(i % PAIRS), dst(i % PAIRS))]);
  await submit(db, Array.from({ length: 1000 }, (_, i) => plain(`warm.b.${i}`, src(i % PAIRS), dst(i % PAIRS))));
}

/** Pairs owned by batch client `c` of `n`: disjoint, so concurrent batches never wait on each other. */
function pairOf(c: number, n: number, i: number): number {
  const per = Math.floor(PAIRS / n);
  return c * per + (i % per);
}

async function runScenarios(database: BenchDatabase, ctx: BenchContext): Promise<LedgerRow[]> {
  const { db, engine } = database;
  const plan = scaled(PLANS[engine]);
  const rows: LedgerRow[] = [];
  const measure = async (key: string, scenario: string, transfers: number, work: () => Promise<void>) => {
    const before = cpuSnapshot();
    const seconds = await timed(work);
    rows.push({ engine, key, scenario, transfers, seconds, cpu: cpuSince(before) });
    ctx.log(`  ${engine} · ${scenario}: ${formatInt(transfers)} in ${formatSeconds(seconds)} s = ${formatRate(transfers / seconds)}/s`);
  };
  const singles = plural(plan.singleClients, 'client');
  const batchers = plural(plan.batchClients, 'client');

  // (1) One transfer per call, each client on its own account pair.
  if (engine === 'postgres') {
    const n = Math.max(10, Math.round(SERVER_SINGLE_ONE_CLIENT * SCALE));
    await measure('single-1', 'single transfer per call, 1 client', n, async () => {
      for (let i = 0; i < n; i++) await submit(db, [plain(`s1.${i}`, src(0), dst(0))]);
    });
  }
  {
    const per = Math.floor(plan.singleTransfers / plan.singleClients);
    await measure('single', `single transfer per call, ${singles}, distinct pairs`, per * plan.singleClients, () =>
      clients(plan.singleClients, async (c) => {
        for (let i = 0; i < per; i++) await submit(db, [plain(`s.${c}.${i}`, src(c), dst(c))]);
      }),
    );
  }

  // (1b) One transfer per call from many callers, grouped into shared transactions by the ledger's
  // group-commit client: what the API's request handlers do.
  {
    const per = Math.floor(plan.groupedTransfers / plan.groupedClients);
    const batcher = new LedgerBatcher(db, { maxInFlight: plan.groupedInFlight });
    await measure(
      'single-grouped',
      `single transfer per call, ${plural(plan.groupedClients, 'client')}, group commit (LedgerBatcher)`,
      per * plan.groupedClients,
      () =>
        clients(plan.groupedClients, async (c) => {
          for (let i = 0; i < per; i++) {
            const [o] = await batcher.submit([plain(`g.${c}.${i}`, src(c), dst(c))]);
            if (o?.result !== 'ok') throw new Error(`grouped transfer g.${c}.${i}: ${o?.result}`);
          }
        }),
    );
    const hotPer = Math.floor(per / 2);
    await measure(
      'hot-grouped',
      `hot account, single per call, ${plural(plan.groupedClients, 'client')}, group commit`,
      hotPer * plan.groupedClients,
      () =>
        clients(plan.groupedClients, async (c) => {
          for (let i = 0; i < hotPer; i++) {
            const [o] = await batcher.submit([plain(`hg.${c}.${i}`, HOT, dst(c))]);
            if (o?.result !== 'ok') throw new Error(`grouped hot transfer hg.${c}.${i}: ${o?.result}`);
          }
        }),
    );
  }

  // (3a) One hot account: every transfer debits the same funded, limited account. Before any batch
  // scenario, so an ANALYZE by autovacuum cannot leave these sessions with plans made for a batch.
  {
    const per = Math.floor(plan.hotSingleTransfers / plan.singleClients);
    await measure('hot-single', `hot account, single per call, ${singles}`, per * plan.singleClients, () =>
      clients(plan.singleClients, async (c) => {
        for (let i = 0; i < per; i++) await submit(db, [plain(`h.${c}.${i}`, HOT, dst(c))]);
      }),
    );
  }
  // (2) Batches over many pairs.
  {
    const batches = Math.floor(plan.batchedTransfers / plan.batchSize / plan.batchClients);
    await measure('batched', `batches of ${formatInt(plan.batchSize)}, ${batchers}`, batches * plan.batchSize * plan.batchClients, () =>
      clients(plan.batchClients, async (c) => {
        for (let b = 0; b < batches; b++) {
          await submit(
            db,
            Array.from({ length: plan.batchSize }, (_, i) => {
              const k = pairOf(c, plan.batchClients, i);
              return plain(`b.${c}.${b}.${i}`, src(k), dst(k));
            }),
          );
        }
      }),
    );
  }

  // (3b) One hot account, batched.
  {
    const batches = Math.floor(plan.hotBatchedTransfers / plan.batchSize / plan.batchClients);
    await measure('hot-batched', `hot account, batches of ${formatInt(plan.batchSize)}, ${batchers}`, batches * plan.batchSize * plan.batchClients, () =>
      clients(plan.batchClients, async (c) => {
        for (let b = 0; b < batches; b++) {
          await submit(db, Array.from({ length: plan.batchSize }, (_, i) => plain(`hb.${c}.${b}.${i}`, HOT, dst(i % PAIRS))));
        }
      }),
    );
  }

  // (4) Two-phase: batches of holds, then batches of posts of those holds.
  {
    const batches = Math.floor(plan.twoPhaseHolds / plan.batchSize / plan.batchClients);
    const holdId = (c: number, b: number, i: number) => `p.${c}.${b}.${i}`;
    await measure('two-phase', `holds then posts, batches of ${formatInt(plan.batchSize)}, ${batchers}`, 2 * batches * plan.batchSize * plan.batchClients, () =>
      clients(plan.batchClients, async (c) => {
        for (let b = 0; b < batches; b++) {
          await submit(
            db,
            Array.from({ length: plan.batchSize }, (_, i) => {
              const k = pairOf(c, plan.batchClients, i);
              return plain(holdId(c, b, i), src(k), dst(k), F.pending);
            }),
          );
        }
        for (let b = 0; b < batches; b++) {
          await submit(
            db,
            Array.from({ length: plan.batchSize }, (_, i) => ({
              id: `${holdId(c, b, i)}.post`,
              pending_id: holdId(c, b, i),
              flags: F.post_pending_transfer,
            })),
          );
        }
      }),
    );
  }
  return rows;
}

/**
 * Runs `work` on one session whose trigger plans are freshly made for a one-row insert: PGlite's only
 * session, or a dedicated one-connection pool on the server schema (a pooled session may have been
 * re-planned for a batch after autovacuum analysed the journal).
 */
async function withOneSession<T>(database: BenchDatabase, serverUrl: string | undefined, work: (db: Kysely<any>) => Promise<T>): Promise<T> {
  const own = database.engine === 'postgres' ? await openDatabase<any>({ url: serverUrl, schema: database.where, poolSize: 1 }) : undefined;
  const db = own?.db ?? database.db;
  try {
    await sql`discard plans`.execute(db);
    await submit(db, [plain(`session.${Date.now()}`, src(3), dst(3))]);
    return await work(db);
  } finally {
    await own?.close();
  }
}

interface Profile {
  engine: Engine;
  calls: number;
  msPerCall: number;
  statements: StatementStats[];
  /** One-row journal insert under EXPLAIN ANALYZE: execution and trigger ms, averaged. */
  singleInsert: { executionMs: number; triggerMs: number } | undefined;
  batch: { size: number; rounds: number; msPerBatch: number; insertMs: number; triggerMs: number; statements: StatementStats[] } | undefined;
}

/** Where a transfer's time goes: statements per call and their latency, and the trigger's share. */
async function profile(engine: Engine, session: Kysely<any>): Promise<Profile> {
  const single = new QueryProfiler();
  const calls = 300;
  const seconds = await timed(async () => {
    const db = session.withPlugin(single);
    for (let i = 0; i < calls; i++) await submit(db, [plain(`prof.${i}`, src(1), dst(1))]);
  });
  const explainedSingle = new QueryProfiler({ explainJournalInserts: true });
  {
    const db = session.withPlugin(explainedSingle);
    for (let i = 0; i < 100; i++) await submit(db, [plain(`prof.x.${i}`, src(1), dst(1))]);
  }
  const batched = new QueryProfiler({ explainJournalInserts: true });
  const size = 2000;
  const rounds = 3;
  const batchSeconds = await timed(async () => {
    const db = session.withPlugin(batched);
    for (let b = 0; b < rounds; b++) {
      await submit(db, Array.from({ length: size }, (_, i) => plain(`prof.b.${b}.${i}`, src(i % PAIRS), dst(i % PAIRS))));
    }
  });
  const insert = batched.stats.get('insert ledger_transfers');
  const average = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
  return {
    engine,
    calls,
    msPerCall: (seconds * 1000) / calls,
    statements: [...single.stats.values()],
    singleInsert:
      explainedSingle.explained.length > 0
        ? {
            executionMs: average(explainedSingle.explained.map((e) => e.executionMs)),
            triggerMs: average(explainedSingle.explained.map((e) => e.triggerMs)),
          }
        : undefined,
    batch:
      batched.explained.length > 0
        ? {
            size,
            rounds,
            msPerBatch: (batchSeconds * 1000) / rounds,
            insertMs: (insert?.totalMs ?? 0) / rounds,
            triggerMs: batched.explained.reduce((s, e) => s + e.triggerMs, 0) / rounds,
            statements: [...batched.stats.values()],
          }
        : undefined,
  };
}

function profileMarkdown(p: Profile): string {
  const perCall = p.statements.reduce((s, x) => s + x.calls, 0) / p.calls;
  const statementMs = p.statements.reduce((s, x) => s + x.totalMs, 0) / p.calls;
  const lines = [
    `**${p.engine}**, ${p.calls} sequential one-transfer calls: ${p.msPerCall.toFixed(2)} ms a call, ` +
      `${perCall.toFixed(1)} statements a call (+ BEGIN and COMMIT = ${(perCall + 2).toFixed(1)} round trips); ` +
      `the statements take ${statementMs.toFixed(2)} ms, the rest (BEGIN, COMMIT with its WAL flush, pool, JS) ${(p.msPerCall - statementMs).toFixed(2)} ms.`,
    '',
    '| statement (as seen from Node: round trip + server work) | per call | ms per call |',
    '|---|--:|--:|',
    ...p.statements
      .sort((a, b) => b.totalMs - a.totalMs)
      .map((s) => `| \`${s.label}\` | ${(s.calls / p.calls).toFixed(1)} | ${(s.totalMs / p.calls).toFixed(3)} |`),
  ];
  if (p.singleInsert) {
    lines.push(
      '',
      `A one-row journal insert under EXPLAIN ANALYZE: ${p.singleInsert.executionMs.toFixed(3)} ms of execution, of which the ` +
        `statement trigger ${p.singleInsert.triggerMs.toFixed(3)} ms (foreign-key checks are counted apart, as triggers of their own).`,
    );
  }
  if (p.batch) {
    const b = p.batch;
    lines.push(
      '',
      `Batches of ${formatInt(b.size)}: ${b.msPerBatch.toFixed(1)} ms a batch; the journal insert takes ${b.insertMs.toFixed(1)} ms ` +
        `(under EXPLAIN ANALYZE), of which the trigger ${b.triggerMs.toFixed(1)} ms ` +
        `(${((100 * b.triggerMs) / b.msPerBatch).toFixed(0)}% of the batch); ` +
        `the next costliest statements: ${b.statements
          .filter((s) => s.label !== 'insert ledger_transfers')
          .sort((x, y) => y.totalMs - x.totalMs)
          .slice(0, 4)
          .map((s) => `\`${s.label}\` ${(s.totalMs / b.rounds).toFixed(1)} ms`)
          .join(', ')}; the rest of the batch is the state machine in JS, BEGIN and COMMIT.`,
    );
  }
  return lines.join('\n');
}

function cpuMarkdown(rows: LedgerRow[]): string {
  const lines = [
    'CPU per transfer during each scenario (Node: this process, which for PGlite includes the database; PostgreSQL: all ' +
      'local `postgres` processes). When the sum, divided by the cores, approaches the wall time per transfer, the run is ' +
      'CPU-bound on this machine.',
    '',
    '| engine | scenario | wall ms/transfer | Node CPU ms/transfer | PostgreSQL CPU ms/transfer |',
    '|---|---|--:|--:|--:|',
  ];
  for (const r of rows) {
    const per = (s: number | undefined) => (s === undefined ? '—' : ((1000 * s) / r.transfers).toFixed(3));
    lines.push(
      `| ${r.engine} | ${r.scenario} | ${per(r.seconds)} | ${per(r.cpu.node)} | ${r.engine === 'pglite' ? '(in Node)' : per(r.cpu.postgres)} |`,
    );
  }
  return lines.join('\n');
}

interface PlanProbe {
  engine: Engine;
  journalRows: number;
  calls: number;
  /** ms per one-transfer call on a session whose trigger plans were made for a 2,000-row insert. */
  afterBatchMs: number;
  /** The same session after its plans were remade for a one-row insert. */
  afterSingleMs: number;
}

/**
 * The trigger's cached plans: DISCARD PLANS (what an ANALYZE of the journal, by autovacuum say, or a
 * new session also does), then a 2,000-row batch, then one-transfer calls; then DISCARD PLANS, a
 * one-row insert, and the same calls again, all on one session.
 */
async function planProbe(engine: Engine, db: Kysely<any>): Promise<PlanProbe> {
  const calls = 100;
  const singles = async (tag: string) => {
    const seconds = await timed(async () => {
      for (let i = 0; i < calls; i++) await submit(db, [plain(`probe.${tag}.${i}`, src(2), dst(2))]);
    });
    return (seconds * 1000) / calls;
  };
  await sql`discard plans`.execute(db);
  await submit(db, Array.from({ length: 2000 }, (_, i) => plain(`probe.batch.${i}`, src(i % PAIRS), dst(i % PAIRS))));
  const afterBatchMs = await singles('a');
  await sql`discard plans`.execute(db);
  await submit(db, [plain('probe.one', src(2), dst(2))]);
  const afterSingleMs = await singles('b');
  const count = await sql<{ n: bigint }>`select count(*) as n from ledger_transfers`.execute(db);
  return { engine, journalRows: Number(count.rows[0]?.n ?? 0), calls, afterBatchMs, afterSingleMs };
}

function probeMarkdown(probes: PlanProbe[]): string {
  return [
    'The journal trigger `ledger_apply_journal` is PL/pgSQL: its statements have no parameters, so each session plans them once ' +
      '(again only after an invalidation, such as an ANALYZE of the journal) for the size of the transition table of the insert ' +
      'that runs them first, and keeps that plan. After a big batch the cached plans hash-join `new_rows` with a sequential scan ' +
      'of all of `ledger_transfers` (and `ledger_pending`), so every later insert on that session costs time proportional to ' +
      'the journal. Measured on one session at the end of the run:',
    '',
    '| engine | journal rows | one-transfer call, plans made for a 2,000-row batch | the same, plans made for one row |',
    '|---|--:|--:|--:|',
    ...probes.map((p) => `| ${p.engine} | ${formatInt(p.journalRows)} | ${p.afterBatchMs.toFixed(2)} ms | ${p.afterSingleMs.toFixed(2)} ms |`),
    '',
    'It is not a one-off: an ANALYZE of the journal (autovacuum runs one after every ~10% of new rows) invalidates the plans ' +
      'of every session, and each re-plans for whatever it inserts next, so on a busy server the sessions that next run a ' +
      'batch go slow until the following ANALYZE. The main table avoids it on purpose — every session opens with a one-row ' +
      'insert and the one-transfer scenarios run before any batch — so it shows the healthy plans.',
  ].join('\n');
}

const AIM_UNBATCHED = 2_000;
const AIM_BATCHED = 15_000;
const BEST_PG_LEDGERS = [10_000, 15_000] as const;
const TIGERBEETLE = 42_000;

function aims(rows: LedgerRow[], serverSkipped: string | undefined): Aim[] {
  const find = (key: string) => rows.find((r) => r.engine === 'postgres' && r.key === key);
  const rate = (r: LedgerRow | undefined) => (r ? r.transfers / r.seconds : undefined);
  const describe = (r: LedgerRow | undefined) => (r ? `postgres · ${r.scenario}: ${formatRate(r.transfers / r.seconds)}/s` : undefined);
  const single = find('single-grouped');
  const batched = find('batched');
  const unmeasured = serverSkipped ? 'server skipped (see the notes)' : undefined;
  const judged = (aim: string, r: LedgerRow | undefined, target: number): Aim => ({
    aim,
    measured: describe(r) ?? unmeasured,
    met: rate(r) === undefined ? undefined : (rate(r) as number) >= target,
  });
  return [
    judged(
      `≥ ${formatInt(AIM_UNBATCHED)} transfers/s unbatched on the server (the issue's aim): callers submit one transfer per call, the ledger client groups concurrent calls`,
      single,
      AIM_UNBATCHED,
    ),
    judged(`≥ ${formatInt(AIM_BATCHED)} transfers/s batched on the server (the issue's aim)`, batched, AIM_BATCHED),
    judged(
      `batched at least on par with the best PostgreSQL ledgers (${formatInt(BEST_PG_LEDGERS[0])}–${formatInt(BEST_PG_LEDGERS[1])}/s)`,
      batched,
      BEST_PG_LEDGERS[1],
    ),
    judged(
      `batched reaches TigerBeetle's ~${formatInt(TIGERBEETLE)}/s on one machine (for scale only: TigerBeetle also replicates, and keeps that rate on hot accounts)`,
      batched,
      TIGERBEETLE,
    ),
  ];
}

export const ledgerSection: BenchSection = {
  name: 'ledger',
  async run(ctx: BenchContext): Promise<SectionResult> {
    const rows: LedgerRow[] = [];
    const profiles: Profile[] = [];
    const probes: PlanProbe[] = [];
    const notes: string[] = [];
    const engines: Engine[] = ctx.serverUrl ? ['pglite', 'postgres'] : ['pglite'];
    for (const engine of engines) {
      ctx.log(`ledger · ${engine}: fresh database, ${PAIRS * 2 + 2} accounts…`);
      await withFreshDatabase(
        engine,
        ctx.serverUrl,
        async (database) => {
          await setup(database.db, engine === 'postgres' ? POOL_SIZE : 1);
          rows.push(...(await runScenarios(database, ctx)));
          ctx.log(`  ${engine} · profiling…`);
          profiles.push(await withOneSession(database, ctx.serverUrl, (session) => profile(engine, session)));
          probes.push(await withOneSession(database, ctx.serverUrl, (session) => planProbe(engine, session)));
          const t0 = performance.now();
          const report = await checkLedger(database.db);
          const checkSeconds = (performance.now() - t0) / 1000;
          if (report.mismatches !== 0) throw new Error(`ledger check failed after the ${engine} run: ${report.problems.join('; ')}`);
          notes.push(
            `${engine}: after the run \`checkLedger\` recomputed ${formatInt(report.accounts)} accounts from ${formatInt(report.transfers)} journal rows in ${formatSeconds(checkSeconds)} s: 0 mismatches.`,
          );
        },
        { poolSize: POOL_SIZE },
      );
    }
    if (ctx.serverSkipped) notes.unshift(`PostgreSQL server part skipped: ${ctx.serverSkipped}`);
    if (SCALE !== 1) notes.unshift(`Scaled run (BENCH_SCALE=${SCALE}): not the published counts.`);
    return {
      title: 'Ledger throughput',
      intro:
        '`createTransfers()` end to end — advisory locks on the ids, row locks on holds and accounts, the state machine, ' +
        'the journal insert and its statement trigger, the postcondition check, COMMIT (synchronous, fsync on). Each engine starts ' +
        `from a fresh database (PGlite in a new temp data directory; the server in a new schema, dropped after; pool of ${POOL_SIZE}) ` +
        `with ${PAIRS} funded source accounts (\`debits_must_not_exceed_credits\`) and as many destinations. "Distinct pairs": ` +
        'each client moves money between its own accounts; "hot account": every transfer debits the same funded, limited ' +
        'account. PGlite is one session, so it gets one client; the server gets 16 clients for single transfers and 4 for ' +
        'batches (each on its own accounts). "Group commit": many callers each submit one transfer per call through one ' +
        '`LedgerBatcher`, which sends whatever queued while a batch was in flight as the next batch (one transaction, ' +
        'one commit for many callers, no timer) — how the API submits results. Every transfer must answer `ok`. ' +
        'Two-phase counts the holds and the posts.',
      table: {
        columns: ['engine', 'scenario', 'transfers', 'seconds', 'transfers/s'],
        numeric: [false, false, true, true, true],
        rows: rows.map((r) => [r.engine, r.scenario, formatInt(r.transfers), formatSeconds(r.seconds), formatRate(r.transfers / r.seconds)]),
      },
      aims: aims(rows, ctx.serverSkipped),
      notes,
      details: [
        { title: 'Where the time goes', markdown: `${cpuMarkdown(rows)}\n\n${profiles.map(profileMarkdown).join('\n\n')}` },
        { title: "The trigger's cached plans", markdown: probeMarkdown(probes) },
      ],
    };
  },
};

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine, engineDeps, parseEventLine, type Verdict } from '../src/validation/engine/index.js';
import { HONEST_PATTERNS, type Label, simulate } from '../src/simulate/index.js';
import { formatInt, formatSeconds } from './report.js';
import type { Aim, BenchContext, BenchSection, SectionResult } from './types.js';

/**
 * Detection quality of the validation engine on labelled traffic from `earnest simulate`: precision
 * and recall of "not paid" (a `review` or `invalid` verdict), per pattern and overall, over several
 * seeds — the seeds the rules were tuned on and seeds never looked at while tuning — and the time
 * `earnest score` takes over a million events, run as the real command.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCALE = Math.min(1, Math.max(0.01, Number(process.env.BENCH_SCALE ?? 1) || 1));
const SIZE = Math.max(5_000, Math.round(50_000 * SCALE));
const TUNING_SEEDS = [1, 2, 3, 4, 5];
const HELD_OUT_SEEDS = [1001, 1002, 1003, 1004, 1005];
const MILLION = Math.max(10_000, Math.round(1_000_000 * SCALE));
const AIM = { precision: 0.97, recall: 0.95, honestKept: 0.99, scoreSeconds: 60 };

interface Tally {
  events: number;
  /** Labelled dishonest: must not be paid. */
  shouldBlock: number;
  /** Given review or invalid. */
  blocked: number;
  /** Dishonest and blocked. */
  caught: number;
}

const empty = (): Tally => ({ events: 0, shouldBlock: 0, blocked: 0, caught: 0 });

function add(t: Tally, honest: boolean, blocked: boolean): void {
  t.events++;
  if (!honest) t.shouldBlock++;
  if (blocked) t.blocked++;
  if (!honest && blocked) t.caught++;
}

const precision = (t: Tally) => (t.blocked === 0 ? 1 : t.caught / t.blocked);
const recall = (t: Tally) => (t.shouldBlock === 0 ? 1 : t.caught / t.shouldBlock);
/** Of the honest events, the share left payable. */
const honestKept = (t: Tally) => {
  const honest = t.events - t.shouldBlock;
  return honest === 0 ? 1 : (honest - (t.blocked - t.caught)) / honest;
};

/**
 * What each rule costs honest traffic: per reason code, the events that should be paid and carry it,
 * how many of them it left unpaid, and which honest patterns they came from.
 */
interface RuleCost {
  carried: number;
  unpaid: number;
  patterns: Map<string, number>;
}

/** Scores one seed's traffic exactly as `earnest score` would (each line through the same parser). */
function scoreSeed(seed: number, costs: Map<string, RuleCost>): { byPattern: Map<string, Tally>; overall: Tally; events: number; honest: number } {
  const engine = createEngine(engineDeps());
  const labels = new Map<string, Label>();
  let line = 0;
  for (const { event, label } of simulate({ seed, size: SIZE })) {
    line++;
    const parsed = parseEventLine(JSON.stringify(event), line);
    if (!parsed.ok) throw new Error(`simulate(${seed}) wrote a line score rejects: ${parsed.error}`);
    engine.push(parsed.event);
    if (label) labels.set(`${label.kind}:${label.id}`, label);
  }
  const byPattern = new Map<string, Tally>();
  const overall = empty();
  let verdicts = 0;
  let honestEvents = 0;
  for (const v of engine.finish() as Iterable<Verdict>) {
    verdicts++;
    const label = labels.get(`${v.kind}:${v.id}`);
    if (!label) throw new Error(`seed ${seed}: a verdict for ${v.kind} ${v.id}, which has no label`);
    const blocked = v.verdict !== 'valid';
    const t = byPattern.get(label.pattern) ?? empty();
    add(t, label.honest, blocked);
    byPattern.set(label.pattern, t);
    add(overall, label.honest, blocked);
    if (!label.honest) continue;
    honestEvents++;
    for (const reason of v.reasons) {
      const cost = costs.get(reason) ?? { carried: 0, unpaid: 0, patterns: new Map() };
      cost.carried++;
      if (blocked) {
        cost.unpaid++;
        cost.patterns.set(label.pattern, (cost.patterns.get(label.pattern) ?? 0) + 1);
      }
      costs.set(reason, cost);
    }
  }
  if (verdicts !== labels.size) throw new Error(`seed ${seed}: ${verdicts} verdicts for ${labels.size} labelled events`);
  return { byPattern, overall, events: line, honest: honestEvents };
}

function sum(into: Tally, t: Tally): void {
  into.events += t.events;
  into.shouldBlock += t.shouldBlock;
  into.blocked += t.blocked;
  into.caught += t.caught;
}

function merge(into: Map<string, Tally>, from: Map<string, Tally>): void {
  for (const [k, t] of from) {
    const m = into.get(k) ?? empty();
    sum(m, t);
    into.set(k, m);
  }
}

const fmt = (x: number) => x.toFixed(3);

/** `earnest simulate` then `earnest score` over ~1M events, both as the real command; the score run is timed. */
async function timeScore(log: (m: string) => void): Promise<{ events: number; seconds: number; bytes: number }> {
  const dir = mkdtempSync(join(os.tmpdir(), 'earnest-detection-'));
  try {
    const events = join(dir, 'events.jsonl');
    log(`  detection: earnest simulate --size ${formatInt(MILLION)}…`);
    await run(['simulate', '--out', events, '--labels', join(dir, 'labels.jsonl'), '--seed', '7', '--size', String(MILLION)]);
    log('  detection: earnest score over it…');
    const started = performance.now();
    const stderr = await run(['score', '--input', events, '--output', join(dir, 'verdicts.jsonl')]);
    const seconds = (performance.now() - started) / 1000;
    const read = /read (\d+) events/.exec(stderr);
    return { events: read ? Number(read[1]) : Number.NaN, seconds, bytes: statSync(events).size };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => (code === 0 ? resolve(err) : reject(new Error(`earnest ${args[0]} exited ${code}: ${err.slice(-2000)}`))));
  });
}

export const detectionSection: BenchSection = {
  name: 'detection',
  async run(ctx: BenchContext): Promise<SectionResult> {
    const groups = [
      { name: 'tuning seeds', seeds: TUNING_SEEDS },
      { name: 'held-out seeds', seeds: HELD_OUT_SEEDS },
    ];
    const byPattern = new Map<string, Tally>();
    const costs = new Map<string, RuleCost>();
    let honestEvents = 0;
    const perGroup: Array<{ name: string; overall: Tally; worstSeed: { seed: number; precision: number; recall: number } }> = [];
    for (const g of groups) {
      const overall = empty();
      let worst = { seed: 0, precision: 1, recall: 1 };
      for (const seed of g.seeds) {
        ctx.log(`  detection: seed ${seed} (${formatInt(SIZE)} lines)…`);
        const r = scoreSeed(seed, costs);
        honestEvents += r.honest;
        merge(byPattern, r.byPattern);
        sum(overall, r.overall);
        const p = precision(r.overall);
        const q = recall(r.overall);
        if (p < worst.precision || q < worst.recall) worst = { seed, precision: Math.min(p, worst.precision), recall: Math.min(q, worst.recall) };
      }
      perGroup.push({ name: g.name, overall, worstSeed: worst });
    }
    const honest = new Set<string>(HONEST_PATTERNS);
    const patterns = [...byPattern.keys()].sort((a, b) => Number(honest.has(b)) - Number(honest.has(a)) || a.localeCompare(b));
    const rows = patterns.map((p) => {
      const t = byPattern.get(p) as Tally;
      return [
        p,
        honest.has(p) ? 'honest' : 'fraud / low quality',
        formatInt(t.events),
        formatInt(t.shouldBlock),
        formatInt(t.blocked),
        t.blocked === 0 || t.shouldBlock === 0 ? '—' : fmt(precision(t)),
        t.shouldBlock === 0 ? '—' : fmt(recall(t)),
        t.events - t.shouldBlock === 0 ? '—' : fmt(honestKept(t)),
      ];
    });
    for (const g of perGroup) {
      rows.push([`overall, ${g.name}`, '', formatInt(g.overall.events), formatInt(g.overall.shouldBlock), formatInt(g.overall.blocked), fmt(precision(g.overall)), fmt(recall(g.overall)), fmt(honestKept(g.overall))]);
    }
    const timed = await timeScore(ctx.log);
    const worstHonest = [...byPattern].filter(([p]) => honest.has(p)).map(([p, t]) => ({ p, kept: honestKept(t) })).sort((a, b) => a.kept - b.kept)[0];
    const heldOut = perGroup[1]?.overall as Tally;
    const aims: Aim[] = [
      { aim: `precision of "not paid" ≥ ${AIM.precision} overall (held-out seeds)`, measured: fmt(precision(heldOut)), met: precision(heldOut) >= AIM.precision },
      { aim: `recall of "not paid" ≥ ${AIM.recall} overall (held-out seeds)`, measured: fmt(recall(heldOut)), met: recall(heldOut) >= AIM.recall },
      {
        aim: `no honest pattern below ${AIM.honestKept}: at least that share of each honest pattern's events is paid`,
        measured: worstHonest ? `lowest: ${worstHonest.p} ${fmt(worstHonest.kept)}` : undefined,
        met: worstHonest ? worstHonest.kept >= AIM.honestKept : undefined,
      },
      {
        aim: `earnest score over ${formatInt(MILLION)} events in under ${AIM.scoreSeconds} s`,
        measured: `${formatInt(timed.events)} events in ${formatSeconds(timed.seconds)} s (${formatInt(timed.events / timed.seconds)} events/s)`,
        met: timed.seconds < AIM.scoreSeconds,
      },
    ];
    const perRule = [...costs]
      .sort((a, b) => b[1].unpaid - a[1].unpaid || a[0].localeCompare(b[0]))
      .map(([reason, c]) => {
        const top = [...c.patterns].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([p, n]) => `${p} ${formatInt(n)}`).join(', ');
        return `| \`${reason}\` | ${formatInt(c.carried)} | ${formatInt(c.unpaid)} | ${(c.unpaid / honestEvents).toFixed(5)} | ${top || '—'} |`;
      });
    const ruleTable = [
      `Every reason code found on an event that should be paid (both seed groups, ${formatInt(honestEvents)} such events). ` +
        '"Unpaid" counts those the verdict left unpaid (review or invalid); the false-positive rate is unpaid ÷ all events that should be paid. ' +
        'A code on an honest event that was still paid is a note (e.g. a repeat click passed over by its conversion). Rules that never touched an honest event are not listed.',
      '',
      '| reason | honest events carrying it | unpaid | false-positive rate | from (unpaid, top 3) |',
      '|---|--:|--:|--:|---|',
      ...(perRule.length > 0 ? perRule : ['| — | 0 | 0 | 0 | — |']),
    ].join('\n');
    return {
      details: [{ title: 'False positives per rule on honest traffic', markdown: ruleTable }],
      title: 'Detection quality',
      intro:
        `The validation engine over labelled traffic from \`earnest simulate\` (${formatInt(SIZE)} lines per seed), each line through ` +
        '`earnest score`\'s own parser. "Not paid" is a `review` or `invalid` verdict; a label says whether the event should be paid. ' +
        'Precision: of the events not paid, the share that should not have been; recall: of the events that should not be paid, the ' +
        'share caught; honest kept: of the events that should be paid, the share left payable. Seeds 1–5 are the ones the rules were ' +
        'looked at against while they were written; seeds 1001–1005 were not, and the aims are judged on them. The simulator draws every ' +
        "pattern's parameters per seed from wide ranges, and the rules' thresholds come from the field (docs/validation.md), not from " +
        'the simulator. The per-pattern rows sum both seed groups.',
      table: {
        columns: ['pattern', 'kind', 'events', 'should not pay', 'not paid', 'precision', 'recall', 'honest kept'],
        numeric: [false, false, true, true, true, true, true, true],
        rows,
      },
      aims,
      notes: [
        `worst single seed — tuning: seed ${perGroup[0]?.worstSeed.seed} (precision ${fmt(perGroup[0]?.worstSeed.precision ?? 1)}, recall ${fmt(perGroup[0]?.worstSeed.recall ?? 1)}); ` +
          `held out: seed ${perGroup[1]?.worstSeed.seed} (precision ${fmt(perGroup[1]?.worstSeed.precision ?? 1)}, recall ${fmt(perGroup[1]?.worstSeed.recall ?? 1)}).`,
        `\`earnest score\` timing: \`earnest simulate --size ${MILLION} --seed 7\` wrote ${formatInt(timed.bytes / 1e6)} MB; \`earnest score --input … --output …\` ` +
          'ran as its own process (parse, score, cohort pass, write), timed end to end.',
        'A pattern\'s "honest" events include the first occurrence of a duplicate lead or a repeat click, which should be paid; its later ones should not.',
        ...(SCALE < 1 ? [`Scaled run (BENCH_SCALE=${SCALE}).`] : []),
      ],
    };
  },
};

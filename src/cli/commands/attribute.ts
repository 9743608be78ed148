import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fitModel, isModelName, isRuleModel, type ModelFit, type ModelName, MODELS, parseJourneyLine, PathAggregator, quantise, type RuleModelName, ruleShares, SHAPLEY_EXACT_MAX_CREATORS, SHARE_SCALE } from '../../attribution/index.js';
import { Progress } from '../../runtime/index.js';
import { AppError } from '../../errors/index.js';
import { type CliContext, type Command, describeFileError, EXIT, type FlagValues } from '../command.js';

/** Inputs from this size on show progress on stderr. */
const PROGRESS_MIN_BYTES = 8 * 1024 * 1024;
/** Credits are printed in millionths of a conversion, shares in billionths: both sum exactly. */
const CREDIT_SCALE = 1_000_000n;

export const attributeCommand: Command = {
  name: 'attribute',
  usage: '--model MODEL --input FILE [--half-life-days N] [--min-conversions N] [--json]',
  summary: `share conversions among creators from a JSON Lines file of journeys; MODEL: ${MODELS.join(', ')}`,
  options: {
    model: { type: 'string' },
    input: { type: 'string' },
    'half-life-days': { type: 'string' },
    'min-conversions': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(flags, context) {
    const started = performance.now();
    const model = modelFlag(flags);
    const halfLifeDays = positiveFlag(flags, 'half-life-days', model, ['time_decay'], 'number');
    const minConversions = positiveFlag(flags, 'min-conversions', model, ['markov', 'shapley'], 'integer');
    const input = stringFlag(flags, 'input');
    if (input === undefined) throw new AppError('invalid_request', `--input FILE is required; usage: earnest attribute ${attributeCommand.usage}`);

    const read = await readJourneys(input, model, halfLifeDays);
    const totals = read.aggregator.totals();
    if (totals.conversions === 0) throw new AppError('invalid_request', `${input} has no conversions: nothing to attribute`);
    let credits = read.credits;
    let fit: ModelFit | undefined;
    if (!isRuleModel(model)) {
      read.progress?.step(`fitting ${model}`, 0);
      fit = fitModel(model, read.aggregator.paths(), minConversions === undefined ? {} : { minConversions });
      credits = new Map([...fit.weights].map(([creator, weight]) => [creator, weight * totals.conversions]));
    }
    read.progress?.finish();

    const rows = rounded(read.creators, credits, totals.conversions);
    const seconds = (performance.now() - started) / 1000;
    context.err(
      `attribute: read ${read.lines} lines (${totals.journeys} journeys, ${totals.conversions} conversions, ` +
        `${totals.distinctPaths} distinct paths, ${read.creators.size} creators) in ${seconds.toFixed(1)} s`,
    );
    if (fit?.fallback) context.err(`attribute: ${model} fell back to linear: ${fit.fallback.reason}`);
    if (flags.json === true) context.out(JSON.stringify(jsonReport(model, rows, fit)));
    else context.out(table(model, rows, fit, totals.conversions));
    return EXIT.ok;
  },
};

function stringFlag(flags: FlagValues, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}

function modelFlag(flags: FlagValues): ModelName {
  const model = stringFlag(flags, 'model');
  if (model === undefined) throw new AppError('invalid_request', `--model is required: one of ${MODELS.join(', ')}`);
  if (!isModelName(model)) throw new AppError('invalid_request', `unknown model ${JSON.stringify(model)}; valid models: ${MODELS.join(', ')}`);
  return model;
}

/** A positive number flag that only makes sense for some models: given with another, it is refused. */
function positiveFlag(
  flags: FlagValues,
  name: string,
  model: ModelName,
  appliesTo: readonly ModelName[],
  kind: 'integer' | 'number',
): number | undefined {
  const text = stringFlag(flags, name);
  if (text === undefined) return undefined;
  if (!appliesTo.includes(model)) throw new AppError('invalid_request', `--${name} applies to --model ${appliesTo.join(' or ')} only`);
  const value = Number(text);
  const valid = text.trim() !== '' && value > 0 && (kind === 'integer' ? Number.isSafeInteger(value) : Number.isFinite(value));
  if (!valid) throw new AppError('invalid_request', `--${name} must be a positive ${kind}, got ${JSON.stringify(text)}`);
  return value;
}

interface ReadResult {
  lines: number;
  /** Every creator seen, in order of first appearance, so those credited nothing still show with 0. */
  creators: Set<string>;
  /** Rule-based models: Σ conversions × share per creator. */
  credits: Map<string, number>;
  /** Identical paths counted together: what a data-driven model is fitted on, and the summary's distinct paths. */
  aggregator: PathAggregator;
  progress: Progress | undefined;
}

/**
 * Streams the file once: a rule-based model credits each line as it is read; a data-driven one only
 * aggregates identical paths, since it needs every journey before it can weigh any creator.
 * The first malformed line stops the run: credits from part of a file would look complete.
 */
async function readJourneys(path: string, model: ModelName, halfLifeDays: number | undefined): Promise<ReadResult> {
  const handle = await open(path, 'r').catch((e: unknown) => {
    throw new AppError('invalid_request', `cannot read ${path}: ${describeFileError(e)}`, { cause: e });
  });
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new AppError('invalid_request', `cannot read ${path}: is a directory`);
    const result: ReadResult = {
      lines: 0,
      creators: new Set(),
      credits: new Map(),
      aggregator: new PathAggregator(),
      progress: stat.size >= PROGRESS_MIN_BYTES ? new Progress(100) : undefined,
    };
    const rule = isRuleModel(model) ? model : undefined;
    let bytes = 0;
    let shown = 0;
    const stream = handle.createReadStream({ encoding: 'utf8', autoClose: false });
    try {
      for await (const raw of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
        result.lines++;
        bytes += raw.length + 1; // characters: close enough to bytes for a progress bar
        const reached = Math.min(18, Math.floor((bytes / stat.size) * 18));
        if (result.progress && reached > shown) {
          result.progress.step(`reading: ${result.lines} lines`, 5 * (reached - shown));
          shown = reached;
        }
        const text = result.lines === 1 ? raw.replace(/^\uFEFF/, '') : raw;
        if (text.trim() !== '') readLine(result, parseJourneyLine(text, result.lines), rule, halfLifeDays);
      }
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw new AppError('invalid_request', `cannot read ${path}: ${describeFileError(e)}`, { cause: e });
    } finally {
      stream.destroy();
    }
    return result;
  } finally {
    await handle.close();
  }
}

function readLine(
  result: ReadResult,
  line: ReturnType<typeof parseJourneyLine>,
  rule: RuleModelName | undefined,
  halfLifeDays: number | undefined,
): void {
  for (const creator of line.path) result.creators.add(creator);
  result.aggregator.add(line.path, line.conversions, line.nulls);
  if (rule === undefined) return;
  if (rule === 'time_decay' && line.daysBefore === undefined) {
    throw new AppError('invalid_request', `line ${result.lines}: days_before: missing, and time_decay needs it (days before the conversion, one per touch)`);
  }
  const journey = { path: line.path, daysBefore: line.daysBefore };
  const shares = ruleShares(rule, journey, halfLifeDays === undefined ? {} : { halfLifeDays });
  if (line.conversions === 0) return;
  for (const { creator, share } of shares.shares) {
    result.credits.set(creator, (result.credits.get(creator) ?? 0) + line.conversions * share);
  }
}

interface Row {
  creator: string;
  credit: number;
  /** Exact integers: shares in billionths (sum 1e9), credits in millionths of a conversion (sum total × 1e6). */
  shareUnits: bigint;
  creditUnits: bigint;
}

/**
 * Largest-remainder rounding (the allocate that splits money) of the credits: the printed shares sum
 * to exactly 1 and the printed credits to exactly the conversions, as decimals. Highest credit first.
 */
function rounded(creators: ReadonlySet<string>, credits: ReadonlyMap<string, number>, conversions: number): Row[] {
  const names = [...creators];
  const values = names.map((c) => credits.get(c) ?? 0);
  const shareUnits = quantise(values, BigInt(SHARE_SCALE));
  const creditUnits = quantise(values, BigInt(conversions) * CREDIT_SCALE);
  return names
    .map((creator, i) => ({ creator, credit: values[i]!, shareUnits: shareUnits[i]!, creditUnits: creditUnits[i]! }))
    .sort((a, b) => b.credit - a.credit || (a.creator < b.creator ? -1 : a.creator > b.creator ? 1 : 0));
}

function jsonReport(model: ModelName, rows: readonly Row[], fit: ModelFit | undefined): Record<string, unknown> {
  const report: Record<string, unknown> = {
    model,
    shares: Object.fromEntries(rows.map((r) => [r.creator, Number(r.shareUnits) / SHARE_SCALE])),
    credits: Object.fromEntries(rows.map((r) => [r.creator, Number(r.creditUnits) / Number(CREDIT_SCALE)])),
  };
  if (fit?.fallback) report.fallback = fit.fallback;
  if (fit?.model === 'shapley' && fit.standardErrors) {
    report.standard_errors = Object.fromEntries(rows.map((r) => [r.creator, fit.standardErrors?.get(r.creator) ?? 0]));
    report.permutations = fit.permutations;
  }
  return report;
}

/**
 * The readable form: one row per creator, highest credit first, share as a percentage with two
 * decimals and credits with two decimals, both rounded by largest remainder so the columns add up
 * to the total row; a sampled Shapley fit adds the standard error of each share.
 */
function table(model: ModelName, rows: readonly Row[], fit: ModelFit | undefined, conversions: number): string {
  const percent = quantise(rows.map((r) => r.credit), 10_000n);
  const hundredths = quantise(rows.map((r) => r.credit), BigInt(conversions) * 100n);
  const sampled = fit?.model === 'shapley' ? fit.standardErrors : undefined;
  const body = rows.map((r, i) => [
    r.creator,
    `${fixed(percent[i]!, 2)} %`,
    fixed(hundredths[i]!, 2),
    ...(sampled ? [`± ${((sampled.get(r.creator) ?? 0) * 100).toFixed(2)} %`] : []),
  ]);
  const header = ['creator', 'share', 'credits', ...(sampled ? ['std. error'] : [])];
  const total = ['total', '100.00 %', fixed(BigInt(conversions) * 100n, 2), ...(sampled ? [''] : [])];
  const all = [header, ...body, total];
  const widths = header.map((_, col) => Math.max(...all.map((row) => row[col]!.length)));
  const render = (row: string[]) => row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('  ').trimEnd();
  const notes = [
    `model: ${model}${fit?.fallback ? ' (fell back to linear, see above)' : ''}`,
    ...(sampled && fit?.model === 'shapley'
      ? [`shapley: sampled estimate over ${fit.permutations} permutations (more than ${SHAPLEY_EXACT_MAX_CREATORS} creators on converting journeys)`]
      : []),
  ];
  return [...notes, '', ...all.map(render)].join('\n');
}

/** An integer count of 10^-decimals units as a fixed-point decimal: 12345n, 2 → "123.45". */
function fixed(units: bigint, decimals: number): string {
  const digits = units.toString().padStart(decimals + 1, '0');
  return `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}

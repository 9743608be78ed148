import { once } from 'node:events';
import { type FileHandle, open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Progress } from '../../runtime/index.js';
import { AppError } from '../../errors/index.js';
import { createEngine, engineDeps, loadRangesFile, parseEventLine } from '../../validation/index.js';
import { type CliContext, type Command, describeFileError, EXIT, type FlagValues } from '../command.js';

/** Malformed lines are all counted; only the first ones are printed, so a wrong file cannot flood the terminal. */
const MAX_REPORTED_ERRORS = 1000;
/** Inputs from this size on show progress on stderr (about 40,000 events). */
const PROGRESS_MIN_BYTES = 8 * 1024 * 1024;
/** Verdict lines are written in chunks: one write per line would dominate a million-line run. */
const CHUNK_LINES = 2000;

export const scoreCommand: Command = {
  name: 'score',
  usage: '--input FILE [--output FILE] [--datacenter-ranges FILE]',
  summary: 'validate clicks and conversions from a JSON Lines file: one verdict line each (stdout unless --output)',
  options: { input: { type: 'string' }, output: { type: 'string' }, 'datacenter-ranges': { type: 'string' } },
  async run(flags, context) {
    const started = performance.now();
    const inputPath = pathFlag(flags, 'input');
    const input = await openInput(inputPath);
    let sink: Sink | undefined;
    try {
      const outputPath = flags.output === undefined ? undefined : pathFlag(flags, 'output');
      sink = outputPath === undefined ? stdoutSink(context) : await fileSink(outputPath);
      // An updated list of data-centre ranges (`<cidr> <provider>` lines) replaces the shipped one.
      const ranges = flags['datacenter-ranges'] === undefined ? undefined : loadRangesFile(pathFlag(flags, 'datacenter-ranges'));
      const engine = createEngine(engineDeps(ranges));
      const counts = { lines: 0, skipped: 0, campaign: 0, creator: 0, click: 0, conversion: 0 };
      const size = (await input.stat()).size;
      const progress = size >= PROGRESS_MIN_BYTES ? new Progress(100) : undefined;
      let bytes = 0;
      let shown = 0;

      await readLines(input, inputPath, (line) => {
        counts.lines++;
        bytes += line.length + 1; // characters: close enough to bytes for a progress bar
        // Reading is the first 90 % of the bar, in steps of 5 %.
        const reached = Math.min(18, Math.floor((bytes / size) * 18));
        if (progress && reached > shown) {
          progress.step(`reading: ${counts.lines} lines`, 5 * (reached - shown));
          shown = reached;
        }
        const text = counts.lines === 1 ? line.replace(/^\uFEFF/, '') : line;
        if (text.trim() === '') return;
        const parsed = parseEventLine(text, counts.lines);
        if (!parsed.ok) {
          counts.skipped++;
          if (counts.skipped <= MAX_REPORTED_ERRORS) context.err(parsed.error);
          if (counts.skipped === MAX_REPORTED_ERRORS) context.err('(more malformed lines are counted but not shown)');
          return;
        }
        counts[parsed.event.type]++;
        engine.push(parsed.event);
      });

      progress?.step('scoring creators and writing verdicts', 0);
      const verdicts = { valid: 0, review: 0, invalid: 0 };
      let chunk: string[] = [];
      for (const verdict of engine.finish()) {
        verdicts[verdict.verdict]++;
        chunk.push(JSON.stringify(verdict));
        if (chunk.length === CHUNK_LINES) {
          await sink.write(chunk.join('\n'));
          chunk = [];
        }
      }
      if (chunk.length > 0) await sink.write(chunk.join('\n'));
      await sink.close();
      sink = undefined;
      progress?.finish();

      const seconds = (performance.now() - started) / 1000;
      const events = counts.campaign + counts.creator + counts.click + counts.conversion;
      context.err(
        `score: read ${events} events from ${counts.lines} lines (${counts.campaign} campaigns, ${counts.creator} creators, ` +
          `${counts.click} clicks, ${counts.conversion} conversions); skipped ${counts.skipped} malformed lines; ` +
          `verdicts: ${verdicts.valid} valid, ${verdicts.review} review, ${verdicts.invalid} invalid; ` +
          `${seconds.toFixed(1)} s, ${Math.round(events / Math.max(seconds, 0.001))} events/s`,
      );
      return EXIT.ok;
    } finally {
      await input.close();
      await sink?.close();
    }
  },
};

function pathFlag(flags: FlagValues, name: string): string {
  const value = flags[name];
  if (typeof value !== 'string' || value === '') throw new AppError('invalid_request', `--${name} FILE is required; usage: earnest score ${scoreCommand.usage}`);
  return value;
}

async function openInput(path: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw new AppError('invalid_request', `cannot read ${path}: ${describeFileError(e)}`, { cause: e });
  }
  if ((await handle.stat()).isDirectory()) {
    await handle.close();
    throw new AppError('invalid_request', `cannot read ${path}: is a directory`);
  }
  return handle;
}

/** Streams the file line by line: a million-line input is never one string. */
async function readLines(handle: FileHandle, path: string, onLine: (line: string) => void): Promise<void> {
  const stream = handle.createReadStream({ encoding: 'utf8', autoClose: false });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let readFailure: unknown;
  let lineFailure: unknown;
  const stop = () => {
    lines.close();
    stream.destroy();
  };
  stream.on('error', (e) => {
    readFailure = e;
    stop();
  });
  lines.on('error', (e) => {
    readFailure = e;
    stop();
  });
  lines.on('line', (line) => {
    if (lineFailure !== undefined) return;
    try {
      onLine(line);
    } catch (e) {
      lineFailure = e;
      stop();
    }
  });
  await new Promise<void>((resolve) => lines.once('close', resolve));
  if (lineFailure !== undefined) throw lineFailure;
  if (readFailure !== undefined) throw new AppError('invalid_request', `cannot read ${path}: ${describeFileError(readFailure)}`, { cause: readFailure });
}

interface Sink {
  /** Writes lines (joined by newlines, no trailing one). */
  write(lines: string): Promise<void>;
  close(): Promise<void>;
}

function stdoutSink(context: CliContext): Sink {
  return {
    write: async (lines) => context.out(lines),
    close: async () => {},
  };
}

async function fileSink(path: string): Promise<Sink> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'w');
  } catch (e) {
    throw new AppError('invalid_request', `cannot write ${path}: ${describeFileError(e)}`, { cause: e });
  }
  const stream = handle.createWriteStream({ encoding: 'utf8' });
  let closed = false;
  return {
    async write(lines) {
      if (!stream.write(`${lines}\n`)) await once(stream, 'drain');
    },
    async close() {
      if (closed) return;
      closed = true;
      stream.end();
      await once(stream, 'close');
    },
  };
}

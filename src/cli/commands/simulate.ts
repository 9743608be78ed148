import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { Progress } from '../../runtime/index.js';
import { AppError } from '../../errors/index.js';
import { DEFAULT_SIZE, MAX_SIZE, MIN_SIZE, simulate } from '../../simulate/index.js';
import { type Command, EXIT, type FlagValues } from '../command.js';

/** Lines are gathered into chunks of about this many characters before each write. */
const CHUNK = 1 << 16;
const PROGRESS_EVERY = 10_000;

export const simulateCommand: Command = {
  name: 'simulate',
  usage: '--out FILE --labels FILE [--seed N] [--size N]',
  summary: "write labelled traffic (campaigns, creators, clicks, conversions) in `score`'s input format, and its labels",
  options: { out: { type: 'string' }, labels: { type: 'string' }, seed: { type: 'string' }, size: { type: 'string' } },
  async run(flags, context) {
    const out = requiredPath(flags, 'out', 'where to write the events');
    const labels = requiredPath(flags, 'labels', 'where to write the labels');
    if (resolve(out) === resolve(labels)) throw new AppError('invalid_request', '--out and --labels must be different files');
    const seed = integerFlag(flags, 'seed', 1, 0, 0xffff_ffff);
    const size = integerFlag(flags, 'size', DEFAULT_SIZE, MIN_SIZE, MAX_SIZE);

    const events = await ChunkedWriter.open(out);
    const labelled = await ChunkedWriter.open(labels).catch((e: unknown) => {
      events.discard();
      throw e;
    });
    const progress = new Progress(size, { write: (text) => process.stderr.write(text) });
    const counts = { lines: 0, clicks: 0, conversions: 0, notPayable: 0 };
    try {
      let sinceStep = 0;
      for (const { event, label } of simulate({ seed, size })) {
        await events.write(JSON.stringify(event));
        counts.lines++;
        if (label) {
          await labelled.write(JSON.stringify(label));
          if (label.kind === 'click') counts.clicks++;
          else counts.conversions++;
          if (!label.honest) counts.notPayable++;
        }
        if (++sinceStep === PROGRESS_EVERY) {
          progress.step('simulating', sinceStep);
          sinceStep = 0;
        }
      }
      await Promise.all([events.close(), labelled.close()]);
    } catch (e) {
      // A partial file would pass for a complete one: remove both.
      events.discard();
      labelled.discard();
      throw e;
    }
    progress.finish();
    context.out(
      `Wrote ${counts.lines} lines to ${out} (${counts.clicks} clicks, ${counts.conversions} conversions) and their labels to ${labels}: ` +
        `${counts.notPayable} not payable. Seed ${seed}, size ${size}.`,
    );
    return EXIT.ok;
  },
};

function requiredPath(flags: FlagValues, name: string, what: string): string {
  const value = flags[name];
  if (typeof value !== 'string' || value === '') throw new AppError('invalid_request', `--${name} FILE is required (${what})`);
  return value;
}

function integerFlag(flags: FlagValues, name: string, fallback: number, min: number, max: number): number {
  const value = flags[name];
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new AppError('invalid_request', `--${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** Newline-terminated lines into a file, in chunks, waiting whenever the stream asks to (back-pressure). */
class ChunkedWriter {
  readonly #stream: WriteStream;
  readonly #path: string;
  #chunk = '';
  #failure: Error | null = null;

  private constructor(path: string) {
    this.#path = path;
    this.#stream = createWriteStream(path);
    this.#stream.on('error', (e) => {
      this.#failure = e;
    });
  }

  /** Opens the file first, so a bad path fails before any work is done. */
  static async open(path: string): Promise<ChunkedWriter> {
    const writer = new ChunkedWriter(path);
    await writer.#until('open');
    writer.#check();
    return writer;
  }

  async write(line: string): Promise<void> {
    this.#chunk += `${line}\n`;
    if (this.#chunk.length >= CHUNK) await this.#flush();
  }

  async close(): Promise<void> {
    await this.#flush();
    this.#stream.end();
    await this.#until('finish');
    this.#check();
  }

  /** Stops writing and removes the file. */
  discard(): void {
    this.#stream.destroy();
    rmSync(this.#path, { force: true });
  }

  async #flush(): Promise<void> {
    this.#check();
    if (this.#chunk === '') return;
    const ok = this.#stream.write(this.#chunk);
    this.#chunk = '';
    if (!ok) await this.#until('drain');
    this.#check();
  }

  /** Resolves on the event or on a failure (recorded by the constructor's listener, reported by #check). */
  #until(event: 'open' | 'drain' | 'finish'): Promise<void> {
    if (this.#failure) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#stream.off(event, done);
        this.#stream.off('error', done);
        resolve();
      };
      this.#stream.on(event, done);
      this.#stream.on('error', done);
    });
  }

  #check(): void {
    if (this.#failure) throw new AppError('invalid_request', `cannot write ${this.#path}: ${this.#failure.message}`);
  }
}

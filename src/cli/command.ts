import type { ParseArgsConfig } from 'node:util';
import { type Config, loadConfig } from '../config/index.js';

/** Exit codes: what scripts and supervisors may rely on. */
export const EXIT = {
  ok: 0,
  /** Something went wrong at run time, or `ledger check` found mismatches. */
  failure: 1,
  /** The command line or the configuration is wrong: fix it and run again. */
  usage: 2,
} as const;

export type FlagValues = { [flag: string]: string | boolean | undefined };

/** What a command may touch of the outside world; tests can supply their own. */
export interface CliContext {
  /** Environment for the configuration; undefined means the process's own. */
  readonly env?: Record<string, string | undefined>;
  /** Writes a line to stdout: the command's result. */
  out(line: string): void;
  /** Writes a line to stderr: messages for the person at the terminal. */
  err(line: string): void;
  /** Resolves on the first stop signal (SIGTERM, SIGINT). */
  waitForStopSignal(): Promise<string>;
}

export interface Command {
  /** One or more words, e.g. `ledger check`. */
  readonly name: string;
  /** The flags part of the usage line, e.g. `[--json] [--data-dir DIR]`. */
  readonly usage: string;
  readonly summary: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /** How many positional arguments it takes (the first arrives as flags._positional). */
  readonly positionals?: number;
  run(flags: FlagValues, context: CliContext): Promise<number>;
}

export const DATA_DIR_OPTION = { 'data-dir': { type: 'string' } } as const;
export const PORT_OPTION = { port: { type: 'string' } } as const;

function stringFlag(flags: FlagValues, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}

/** The configuration, with the flags a command accepts taking precedence over the environment. */
export function configFrom(context: CliContext, flags: FlagValues): Config {
  return loadConfig(context.env, {
    PORT: { value: stringFlag(flags, 'port'), source: '--port' },
    DATA_DIR: { value: stringFlag(flags, 'data-dir'), source: '--data-dir' },
  });
}

/** Why a file cannot be opened, read or written, in words (for one-line CLI errors). */
export function describeFileError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return e instanceof Error ? e.message : String(e);
}

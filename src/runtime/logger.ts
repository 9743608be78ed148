import type { LogLevel } from '../config/index.js';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const SEVERITY: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Log lines go to stdout by default, where a supervisor (systemd, Docker) collects them. */
function writeToStdout(line: string): void {
  process.stdout.write(line);
}

/**
 * A logger writing one JSON object per line: `{"time","level","msg",...fields}`. Lines below
 * `level` are dropped. bigint fields are written as strings, since JSON has no integer type wide
 * enough for them.
 */
export function createLogger(level: LogLevel, write: (line: string) => void = writeToStdout): Logger {
  const threshold = SEVERITY[level];
  const log = (lineLevel: LogLevel) => (msg: string, fields: LogFields = {}) => {
    if (SEVERITY[lineLevel] < threshold) return;
    const entry = { time: new Date().toISOString(), level: lineLevel, msg, ...fields };
    write(`${JSON.stringify(entry, (_key, value) => (typeof value === 'bigint' ? value.toString() : value))}\n`);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** An exception as log fields: for operators only, never for a client. */
export function errorFields(e: unknown): LogFields {
  if (e instanceof Error) return { error: e.message, error_name: e.name, stack: e.stack };
  return { error: String(e) };
}

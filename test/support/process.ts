import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dropSchema, openDatabase } from '../../src/db/index.js';
import { TEST_DATABASE_URL } from './database.js';

/** Helpers for tests that run the real command as a process: ports, output, exit, children. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A port nothing listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A port this test holds open, so whatever else tries to listen on it finds it taken. */
export function occupiedPort(): Promise<{ port: number; server: Server }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, server }));
  });
}

/** Whether something accepts connections on the port (a listener left behind). */
export function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

export interface Spawned {
  readonly child: ChildProcess;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves when the output (stdout or stderr) contains `text`; rejects if the process exits first. */
  waitForOutput(text: string, timeoutMs: number): Promise<void>;
  /** Resolves with the exit code (or the signal's name). */
  exited(timeoutMs: number): Promise<number | string>;
}

export function spawnProcess(command: string, args: readonly string[], env: Record<string, string>): Spawned {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exit = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  const output = () => `stdout:\n${out}\nstderr:\n${err}`;
  return {
    child,
    pid: child.pid,
    stdout: () => out,
    stderr: () => err,
    waitForOutput(text, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`no "${text}" within ${timeoutMs} ms; ${output()}`)), timeoutMs);
        const check = () => (out.includes(text) || err.includes(text)) && finish();
        const onExit = () => setImmediate(() => check() || finish(new Error(`exited before "${text}"; ${output()}`)));
        function finish(error?: Error) {
          clearTimeout(timer);
          child.stdout?.off('data', check);
          child.stderr?.off('data', check);
          child.off('exit', onExit);
          if (error) reject(error);
          else resolve();
          return true;
        }
        child.stdout?.on('data', check);
        child.stderr?.on('data', check);
        child.once('exit', onExit);
        check();
      });
    },
    exited(timeoutMs) {
      return Promise.race([
        exit,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running after ${timeoutMs} ms; ${output()}`)), timeoutMs).unref()),
      ]);
    },
  };
}

/** The direct children of a process, from /proc (Linux). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Whether a process is still alive (a zombie, exited but not yet reaped, counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** For `finally`: ends the given processes (only these) if they are still running. */
export function killIfAlive(pids: readonly number[]): void {
  for (const pid of pids) {
    if (isAlive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/**
 * Where a server process under test keeps its data: a data directory (the embedded engine) by default,
 * or, when TEST_DATABASE_URL is set, a schema of its own on that PostgreSQL server (made here, dropped
 * by `drop()`).
 */
export async function serverDatabase(dataDir: string): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  if (!TEST_DATABASE_URL) return { env: { DATA_DIR: dataDir }, drop: async () => {} };
  const schema = `t_proc_${randomBytes(4).toString('hex')}`;
  const made = await openDatabase({ url: TEST_DATABASE_URL, schema, poolSize: 1 });
  await made.close();
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { env: { DATABASE_URL: url.toString() }, drop: () => dropSchema(TEST_DATABASE_URL as string, schema) };
}

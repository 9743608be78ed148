import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/index.js';
import { createAccounts } from '../ledger/index.js';

/** The real command, as `npm run earnest` runs it, in its own process. */
const CWD = new URL('../..', import.meta.url).pathname;
const CONFIG_VARIABLES = ['PORT', 'HOST', 'DATABASE_URL', 'DATA_DIR', 'LOG_LEVEL', 'HOLD_EXPIRY_INTERVAL_MS', 'DB_POOL_SIZE'];

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Running {
  child: ChildProcess;
  finished: Promise<Finished>;
}

const children = new Set<ChildProcess>();

/** The test runner's environment without any Earnest setting, plus `extra`. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of CONFIG_VARIABLES) delete env[name];
  return { ...env, ...extra };
}

function start(args: string[], extraEnv: Record<string, string> = {}): Running {
  // node --import tsx, as `npm start` runs it (the tsx CLI's signal relay SIGKILLs a child slow to answer).
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: CWD, env: childEnv(extraEnv) });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const finished = new Promise<Finished>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, finished };
}

function earnest(args: string[], extraEnv: Record<string, string> = {}): Promise<Finished> {
  return start(args, extraEnv).finished;
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function waitForHttp(url: string, server: Running, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void server.finished.then(() => {
    exited = true;
  });
  while (Date.now() < deadline && !exited) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const { stderr } = await Promise.race([server.finished, Promise.resolve({ stderr: '(still running)' })]);
  throw new Error(`${url} did not answer; stderr: ${stderr}`);
}

/** Corrupts a stored counter behind the journal's back: the guard triggers are off for this transaction only. */
async function setCreditsPosted(db: Kysely<any>, accountId: string, amount: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`set local session_replication_role = replica`.execute(trx);
    await sql`update ledger_accounts set credits_posted = ${amount} where id = ${accountId}`.execute(trx);
  });
}

let dataDir: string;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'earnest-cli-'));
});

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('earnest migrate and ledger check', () => {
  it('on a fresh data dir: migrate applies, check --json prints one report with no mismatches', async () => {
    const migrated = await earnest(['migrate', '--data-dir', dataDir]);
    expect(migrated.stderr).toBe('');
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toContain('applied 0001_clock');

    const checked = await earnest(['ledger', 'check', '--json', '--data-dir', dataDir]);
    expect(checked.stderr).toBe('');
    expect(checked.code).toBe(0);
    expect(lines(checked.stdout)).toHaveLength(1);
    expect(checked.stdout).toContain('"mismatches":0');
    expect(JSON.parse(checked.stdout)).toMatchObject({ accounts: 0, transfers: 0, mismatches: 0, problems: [] });
  });

  it('migrate again is up to date; DATA_DIR from the environment works like --data-dir', async () => {
    const again = await earnest(['migrate'], { DATA_DIR: dataDir });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/up to date/);
  });

  it('ledger check exits 1 and lists the problem when a balance disagrees with the journal', async () => {
    const database = await openDatabase<any>({ dataDir });
    try {
      await createAccounts(database.db, [{ id: 'cli.tampered', currency: 'USD', code: 1 }]);
      await setCreditsPosted(database.db, 'cli.tampered', 5);
    } finally {
      await database.close();
    }
    const human = await earnest(['ledger', 'check', '--data-dir', dataDir]);
    expect(human.code).toBe(1);
    expect(human.stderr).toBe('');
    expect(human.stdout).toContain('Ledger check: FAILED, 2 mismatches.');
    expect(human.stdout).toContain('account cli.tampered');
    expect(human.stdout).toMatch(/USD\s+posted 0 \/ 5/);

    const json = await earnest(['ledger', 'check', '--json', '--data-dir', dataDir]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ accounts: 1, mismatches: 2, counter_mismatches: 1, unbalanced_currencies: 1 });

    // Put it back, so the data dir is sound again for the tests after this one.
    const repair = await openDatabase<any>({ dataDir });
    try {
      await setCreditsPosted(repair.db, 'cli.tampered', 0);
    } finally {
      await repair.close();
    }
  });
});

// Independent of each other and of any data dir: run them side by side.
describe.concurrent('errors are one line on stderr', () => {
  it.each<[string, string[], Record<string, string>, RegExp]>([
    ['a bad PORT', ['serve'], { PORT: 'abc' }, /^earnest: PORT must be an integer from 1 to 65535, got "abc"$/],
    ['a bad --port', ['serve', '--port', '70000'], {}, /^earnest: --port must be an integer from 1 to 65535, got "70000"$/],
    ['an unknown command', ['frobnicate'], {}, /^earnest: unknown command "frobnicate"/],
    ['an unknown flag', ['migrate', '--force'], {}, /^earnest: unknown option --force/],
    ['a missing data dir for a check', ['ledger', 'check', '--data-dir', '/nonexistent/earnest'], {}, /does not exist/],
  ])('%s exits 2', async (_case, args, env, message) => {
    const result = await earnest(args, env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr.trimEnd()).toMatch(message);
  });

  it('help exits 0 and lists the commands', async () => {
    const result = await earnest(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('earnest ledger check [--json] [--data-dir DIR]');
  });
});

describe('earnest serve', () => {
  it('serves, refuses a second server on its data dir, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const first = start(['serve', '--port', String(port), '--data-dir', dataDir], { HOST: '127.0.0.1' });
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, first);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
    expect(existsSync(join(dataDir, 'earnest.lock'))).toBe(true);

    const second = await earnest(['serve', '--port', String(await freePort()), '--data-dir', dataDir]);
    expect(second.code).not.toBe(0);
    expect(lines(second.stderr)).toHaveLength(1);
    expect(second.stderr).toMatch(/^earnest: data directory .* is in use by process \d+/);

    first.child.kill('SIGTERM');
    const stopped = await first.finished;
    expect(stopped.code).toBe(0);
    expect(existsSync(join(dataDir, 'earnest.lock'))).toBe(false);
    expect(stopped.stderr).toContain(`Earnest listening on http://127.0.0.1:${port} (embedded PostgreSQL in ${dataDir})`);
    // stdout is the log: JSON lines only, one of them per request.
    const log = lines(stopped.stdout).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(log.some((entry) => entry.msg === 'request' && entry.path === '/readyz' && entry.status === 200)).toBe(true);
    expect(log.at(-1)?.msg).toBe('server stopped');
  });
});

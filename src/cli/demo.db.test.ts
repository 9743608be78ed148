import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { withDemoDatabase } from './commands/demo.js';
import { killIfAlive, ROOT, spawnProcess } from '../../test/support/process.js';

/**
 * `earnest demo` as a person runs it, on the real command with stderr piped: no progress drawn, the
 * temporary data directory gone afterwards (even when the demo fails), and a closing hint whose
 * commands work when pasted. Runs on the embedded engine.
 */
const RUN_TIMEOUT_MS = 240_000;
const tmp = mkdtempSync(join(tmpdir(), 'earnest-demo-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function demo(args: string[], env: Record<string, string> = {}) {
  return spawnProcess(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', ...args], { LOG_LEVEL: 'error', ...env });
}

it('piped: draws no progress, removes its temporary directory, and hints at a command that works as printed', async () => {
  const ownTmp = join(tmp, 'tmpdir');
  mkdirSync(ownTmp);
  const run = demo([], { TMPDIR: ownTmp });
  try {
    expect(await run.exited(RUN_TIMEOUT_MS)).toBe(0);
    expect(run.stderr()).not.toMatch(/\[#*\s*\]\s+\d+%/);
    expect(run.stderr()).toContain('(temporary: removed when the demo ends)');
    // (tsx keeps its compile cache there too: only the demo's own directory matters.)
    expect(readdirSync(ownTmp).filter((name) => name.startsWith('earnest-demo-'))).toEqual([]);
    expect(run.stdout().trimEnd().split('\n').at(-1)).toBe(
      'To keep a demo database to inspect: npm run earnest -- demo --data-dir ./demo-data',
    );
  } finally {
    killIfAlive([run.pid]);
  }
});

it('keeps a --data-dir it was given, and its hints run as printed', async () => {
  const dir = join(tmp, 'kept demo');
  const run = demo(['--data-dir', dir]);
  try {
    expect(await run.exited(RUN_TIMEOUT_MS)).toBe(0);
    expect(readdirSync(dir).length).toBeGreaterThan(0);
    const hint = run.stdout().split('\n').find((line) => line.startsWith('Inspect it: '));
    expect(hint).toBe(`Inspect it: npm run earnest -- ledger check --data-dir '${dir}'`);
    const check = spawnSync('sh', ['-c', (hint as string).slice('Inspect it: '.length)], { cwd: ROOT, encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
    expect(check.status, check.stderr).toBe(0);
  } finally {
    killIfAlive([run.pid]);
  }
});

it('removes the temporary directory when the demo fails', async () => {
  let dir = '';
  const failing = withDemoDatabase(undefined, undefined, async (target) => {
    dir = /in (\S+) \(temporary/.exec(target.where)?.[1] ?? '';
    expect(existsSync(dir)).toBe(true);
    throw new Error('the demo broke');
  });
  await expect(failing).rejects.toThrow('the demo broke');
  expect(dir).not.toBe('');
  expect(existsSync(dir)).toBe(false);
});

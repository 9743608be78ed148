import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { killIfAlive, occupiedPort, serverDatabase, spawnProcess } from '../../test/support/process.js';

/**
 * A start that cannot happen says why in one line and exits 2 (a configuration error), on the real
 * command: no stack trace, and no background job left to fail against the closed database. The
 * port case runs on the PostgreSQL server too when TEST_DATABASE_URL is set.
 */
const EXIT_TIMEOUT_MS = 90_000;
const tmp = mkdtempSync(join(tmpdir(), 'earnest-start-errors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function serve(env: Record<string, string>) {
  return spawnProcess(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], { HOST: '127.0.0.1', ...env });
}

function nonEmptyLines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

it('refuses a port already in use with one line, and no job runs against the closed database', async () => {
  const { port, server } = await occupiedPort();
  const database = await serverDatabase(join(tmp, 'data'));
  const earnest = serve({ ...database.env, PORT: String(port) });
  try {
    expect(await earnest.exited(EXIT_TIMEOUT_MS)).toBe(2);
    expect(nonEmptyLines(earnest.stderr())).toEqual([
      `earnest: port ${port} on 127.0.0.1 is already in use; choose another with PORT or --port`,
    ]);
    const output = earnest.stdout() + earnest.stderr();
    expect(output).not.toContain('"level":"error"');
    expect(output).not.toContain('destroyed');
    expect(output).not.toMatch(/\n\s+at /);
  } finally {
    killIfAlive([earnest.pid]);
    server.close();
    await database.drop();
  }
});

it('refuses a DATA_DIR under a regular file with one line naming DATA_DIR and why, exit 2', async () => {
  const file = join(tmp, 'a-file');
  writeFileSync(file, 'not a directory\n');
  const earnest = serve({ DATA_DIR: join(file, 'sub'), PORT: '1' });
  try {
    expect(await earnest.exited(EXIT_TIMEOUT_MS)).toBe(2);
    expect(nonEmptyLines(earnest.stderr())).toEqual([
      `earnest: DATA_DIR ${join(file, 'sub')} cannot be used: part of its path is a file, not a directory; ` +
        'choose another with DATA_DIR or --data-dir',
    ]);
    expect(earnest.stdout()).toBe('');
  } finally {
    killIfAlive([earnest.pid]);
  }
});

it('refuses a DATA_DIR that is a regular file, exit 2', async () => {
  const file = join(tmp, 'another-file');
  writeFileSync(file, 'not a directory\n');
  const earnest = serve({ DATA_DIR: file, PORT: '1' });
  try {
    expect(await earnest.exited(EXIT_TIMEOUT_MS)).toBe(2);
    expect(nonEmptyLines(earnest.stderr())).toEqual([
      `earnest: DATA_DIR ${file} cannot be used: it is a file, not a directory; choose another with DATA_DIR or --data-dir`,
    ]);
  } finally {
    killIfAlive([earnest.pid]);
  }
});

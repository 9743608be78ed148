import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { childrenOf, freePort, isAlive, killIfAlive, portTaken, serverDatabase, spawnProcess } from '../../test/support/process.js';

/**
 * `npm start` as a supervisor runs it (Docker, systemd): the stop signal goes to the npm process's pid
 * only. It must reach the server, which drains and exits 0, so npm exits 0 too, with no node process
 * left behind holding the port. Runs on the embedded engine, in a data directory of its own, or on
 * the PostgreSQL server in a schema of its own when TEST_DATABASE_URL is set.
 */
const START_TIMEOUT_MS = 90_000;
const EXIT_TIMEOUT_MS = 30_000;

const dataDir = mkdtempSync(join(tmpdir(), 'earnest-npm-start-'));
const database = serverDatabase(join(dataDir, 'data'));
afterAll(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  await (await database).drop();
});

/** npm's process tree below it: with `exec` in the script, node replaces the shell. */
function descendantsOf(pid: number): number[] {
  const children = childrenOf(pid);
  return [...children, ...children.flatMap(descendantsOf)];
}

it.each(['SIGTERM', 'SIGINT'] as const)('stops the server and exits 0 when npm alone gets %s', async (signal) => {
  const port = await freePort();
  const npm = spawnProcess('npm', ['start'], { ...(await database).env, PORT: String(port), HOST: '127.0.0.1' });
  let descendants: number[] = [];
  try {
    await npm.waitForOutput('"server started"', START_TIMEOUT_MS);
    descendants = descendantsOf(npm.pid);
    expect(descendants.length).toBeGreaterThan(0);
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(res.status).toBe(200);

    process.kill(npm.pid, signal);
    expect(await npm.exited(EXIT_TIMEOUT_MS)).toBe(0);
    expect(npm.stderr()).toContain(`Stopping on ${signal}`);
    expect(npm.stdout()).toContain('"server stopped"');
    expect(descendants.filter(isAlive)).toEqual([]);
    expect(await portTaken(port)).toBe(false);
  } finally {
    killIfAlive([npm.pid, ...descendants, ...descendantsOf(npm.pid)]);
  }
});

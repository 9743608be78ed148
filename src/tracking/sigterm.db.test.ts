import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { dropSchema, openDatabase } from '../db/index.js';
import { freePort } from '../../test/support/process.js';
import { TEST_DATABASE_URL } from '../../test/support/database.js';

/**
 * The SIGTERM guarantee, on the real command: `earnest serve` answers clicks from memory, and a
 * SIGTERM right after writes every one of them before the process exits 0. The flush timer is set to
 * a minute, so only the stop can have written them. Runs on the embedded engine (a data directory),
 * or on the PostgreSQL server in a schema of its own when TEST_DATABASE_URL is set.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLICKS = 300;
const START_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 30_000;

const dataDir = mkdtempSync(join(tmpdir(), 'earnest-sigterm-'));
const schema = TEST_DATABASE_URL ? `t_sigterm_${randomBytes(4).toString('hex')}` : undefined;
let child: ChildProcess | undefined;

afterAll(async () => {
  if (child && child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
  if (TEST_DATABASE_URL && schema) await dropSchema(TEST_DATABASE_URL, schema);
});


/** The URL the server uses for this test's own schema (pg reads `options` from the URL). */
function serverDatabaseUrl(): string | undefined {
  if (!TEST_DATABASE_URL || !schema) return undefined;
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

function operatorKeyFrom(process: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`no operator key within ${START_TIMEOUT_MS} ms; stderr:\n${stderr}`)), START_TIMEOUT_MS);
    process.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /Operator API key[^:]*: (ek_[0-9a-z_]+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    process.once('exit', (code) => reject(new Error(`the server exited (${code}) before it started; stderr:\n${stderr}`)));
  });
}

function exitCodeOf(process: ChildProcess): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (process.exitCode !== null) return resolve(process.exitCode);
    const timer = setTimeout(() => reject(new Error(`the server did not exit within ${EXIT_TIMEOUT_MS} ms of SIGTERM`)), EXIT_TIMEOUT_MS);
    process.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

it('writes every click it answered before it exits on SIGTERM', async () => {
  if (TEST_DATABASE_URL && schema) {
    // The schema must exist before the server migrates into it.
    const made = await openDatabase({ url: TEST_DATABASE_URL, schema, poolSize: 1 });
    await made.close();
  }
  const port = await freePort();
  const env: Record<string, string | undefined> = { ...process.env, CLICK_FLUSH_INTERVAL_MS: '60000', LOG_LEVEL: 'warn', HOST: '127.0.0.1' };
  env.DATABASE_URL = serverDatabaseUrl();
  if (!env.DATABASE_URL) delete env.DATABASE_URL;
  // node --import tsx, as `npm start` runs it: the tsx CLI relays a signal and, when the child does not
  // answer within 30 ms (a loaded machine), SIGKILLs it and exits 143, losing the buffered clicks.
  child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', String(port), '--data-dir', dataDir], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const operatorKey = await operatorKeyFrom(child);
  const base = `http://127.0.0.1:${port}`;
  const call = async (method: string, path: string, key: string, body?: unknown) => {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await r.json()) as any;
    expect(r.status, `${method} ${path}: ${JSON.stringify(json)}`).toBeLessThan(300);
    return json;
  };

  const org = await call('POST', '/v1/organizations', operatorKey, { name: 'Sigterm Shoes' });
  const creator = await call('POST', '/v1/creators', operatorKey, { name: 'Ada', email: 'ada@sigterm.example' });
  await call('POST', '/v1/deposits', org.api_key, { amount: '100.00', currency: 'USD', reference: 'dep-1' });
  const terms = {
    objective: 'cpc',
    rate: '0.01',
    currency: 'USD',
    budget: '10.00',
    destination_url: 'https://shop.example/?utm_source=earnest',
    starts_at: '2026-01-01T00:00:00Z',
    ends_at: '2030-01-01T00:00:00Z',
    kpi_target: 10,
    hold_days: 14,
  };
  const campaign = await call('POST', '/v1/campaigns', org.api_key, { name: 'Sigterm', terms });
  await call('POST', `/v1/campaigns/${campaign.id}/fund`, org.api_key, { reference: 'f1' });
  await call('POST', `/v1/campaigns/${campaign.id}/activate`, org.api_key, {});
  const joined = await call('POST', `/v1/campaigns/${campaign.id}/enrolments`, creator.api_key, {
    terms_version: campaign.terms_version,
    terms_sha256: campaign.terms_sha256,
  });

  // Each click another browser version, so every one is a distinct visitor (valid, and paid).
  const statuses = await Promise.all(
    Array.from({ length: CLICKS }, async (_, i) => {
      const r = await fetch(`${base}/c/${joined.link_code}`, {
        redirect: 'manual',
        headers: { 'user-agent': `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.${i}.0 Safari/537.36` },
      });
      await r.arrayBuffer();
      return r.status;
    }),
  );
  expect(statuses.filter((s) => s === 302)).toHaveLength(CLICKS);
  // Nothing is written yet: the clicks are only in the server's memory.
  expect((await call('GET', '/v1/clicks?limit=100', operatorKey)).data).toEqual([]);

  child.kill('SIGTERM');
  expect(await exitCodeOf(child)).toBe(0);

  const database = TEST_DATABASE_URL ? await openDatabase<any>({ url: TEST_DATABASE_URL, schema, poolSize: 1 }) : await openDatabase<any>({ dataDir });
  try {
    const clicks = await sql<{ status: string; n: bigint }>`select status, count(*) as n from clicks group by status`.execute(database.db);
    expect(clicks.rows.map((r) => [r.status, Number(r.n)])).toEqual([['valid', CLICKS]]);
    const results = await sql<{ n: bigint }>`select count(*) as n from results r join clicks c on c.result_id = r.id
      where r.kind = 'click' and r.status = 'pending'`.execute(database.db);
    expect(Number(results.rows[0]?.n)).toBe(CLICKS);
  } finally {
    await database.close();
  }
});

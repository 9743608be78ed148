import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBrand, createCreator, launchCampaign, type Launched, type Party } from '../../test/support/conversions.js';
import type { TestApi } from '../../test/support/api.js';
import { loadConfig } from '../config/index.js';
import { createLogger, startServer } from '../server/index.js';
import { type CliContext, runCli } from './index.js';

/** `earnest insights import` on an embedded data directory a real server filled (then stopped: one process owns it). */
const root = mkdtempSync(join(tmpdir(), 'earnest-insights-'));
const dir = join(root, 'data');
let cpm: Launched;
let reportId: string;

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const context: CliContext = { env: {}, out: (l) => out.push(l), err: (l) => err.push(l), waitForStopSignal: () => new Promise(() => {}) };
  const code = await runCli(argv, context);
  return { code, out, err };
}

function file(name: string, text: string): string {
  const path = join(root, name);
  writeFileSync(path, text);
  return path;
}

beforeAll(async () => {
  const server = await startServer({ ...loadConfig({ HOST: '127.0.0.1', LOG_LEVEL: 'error', DATA_DIR: dir }), PORT: 0 }, { logger: createLogger('error') });
  try {
    const call: TestApi['call'] = async (method, path, options = {}) => {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...(options.key ? { authorization: `Bearer ${options.key}` } : {}) };
      const response = await fetch(`${server.url}${path}`, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
      return { status: response.status, headers: response.headers, body: await response.json() };
    };
    const api = { call, operatorKey: server.operatorKey as string } as TestApi;
    const brand: Party = await createBrand(api, 'Acme');
    const creator: Party = await createCreator(api, 'ada@creators.example');
    cpm = await launchCampaign(api, brand, creator, { objective: 'cpm', rate: '2.50', budget: '500.00' });
    const r = await call('POST', '/v1/views', { key: creator.key, body: { campaign_id: cpm.id, views: 100_000, platform: 'youtube', post_id: 'v1', evidence_url: 'https://video.example/v1' } });
    expect(r.body.status).toBe('in_review');
    reportId = r.body.id;
  } finally {
    await server.stop();
  }
}, 60_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('earnest insights import', () => {
  it('refuses a malformed file with one line naming its line', async () => {
    const bad = file('bad.csv', 'post_id,date,views\nv1,2026-01-02,100000\nv1,2026-01-03,lots\n');
    const r = await run('insights', 'import', cpm.enrolmentId, '--file', bad, '--platform', 'youtube', '--data-dir', dir);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toContain('csv line 3: views');
  });

  it.each([
    [['insights', 'import', 'enr_nope'], 'enrolment id'],
    [['insights', 'import', 'enr_01jdx3m5a7b9c1d3e5f7g9h1j3'], '--file'],
  ])('refuses %j with one line', async (argv, text) => {
    const r = await run(...argv, '--data-dir', dir);
    expect([r.code, r.err.length]).toEqual([2, 1]);
    expect(r.err[0]).toContain(text);
  });

  it('refuses a missing file and an unknown enrolment', async () => {
    expect((await run('insights', 'import', cpm.enrolmentId, '--file', join(root, 'none.csv'), '--data-dir', dir)).err[0]).toContain('no such file');
    const good = file('good.csv', 'platform,post_id,date,views\nyoutube,v1,2026-01-02,100000\n');
    expect((await run('insights', 'import', 'enr_01jdx3m5a7b9c1d3e5f7g9h1j3', '--file', good, '--data-dir', dir)).err[0]).toContain('no enrolment');
  });

  it('imports as an operator (official): the report in review is verified', async () => {
    const good = file('good.csv', 'platform,post_id,date,views\nyoutube,v1,2026-01-02,60210\nyoutube,v1,2026-01-03,40001\n');
    const r = await run('insights', 'import', cpm.enrolmentId, '--file', good, '--json', '--data-dir', dir);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(JSON.parse(r.out[0] as string)).toEqual({ import_id: expect.stringMatching(/^ins_/), rows: 2, reports: [reportId] });
  });
});

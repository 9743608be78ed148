import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliContext, runCli } from '../../cli/index.js';
import { campaign, click, converted, creator } from './test-fixtures.js';

/** `earnest score` end to end: in process through runCli, and once as the real command in its own process. */

const CWD = new URL('../../..', import.meta.url).pathname;
const TSX = join(CWD, 'node_modules/.bin/tsx');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'earnest-score-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const human = click('c1', 0);
const bot = click('c2', 1, { ua: 'curl/8.4.0' });
const INPUT_LINES = [
  JSON.stringify(campaign()),
  JSON.stringify(creator('cr1')),
  JSON.stringify(human),
  '{"type":"click", "id": broken',
  '',
  JSON.stringify(bot),
  JSON.stringify({ type: 'view', id: 'x' }),
  JSON.stringify({ ...converted(human, 'v1', 600), customer: { id: 'u1', email: 'eve.martin@gmail.com', phone: null, country: 'US', age: 30 } }),
  JSON.stringify({ ...click('c3', 700), ip: 'not-an-ip' }),
];
const EXPECTED = [
  { id: 'c1', kind: 'click', verdict: 'valid', score: 100, reasons: [] },
  { id: 'c2', kind: 'click', verdict: 'invalid', score: 30, reasons: ['bot_agent'] },
  { id: 'v1', kind: 'conversion', verdict: 'valid', score: 100, reasons: [] },
];

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function score(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const context: CliContext = { out: (l) => out.push(l), err: (l) => err.push(l), waitForStopSignal: () => new Promise(() => {}) };
  const code = await runCli(['score', ...args], context);
  return { code, stdout: out.join('\n').split('\n').filter(Boolean), stderr: err };
}

describe('earnest score', () => {
  it('prints one verdict per click and conversion, reports malformed lines by number and skips them, then a summary', async () => {
    const input = write('events.jsonl', `${INPUT_LINES.join('\n')}\n`);
    const { code, stdout, stderr } = await score(['--input', input]);
    expect(code).toBe(0);
    expect(stdout.map((l) => JSON.parse(l))).toEqual(EXPECTED);
    expect(stderr.slice(0, 3)).toEqual([
      'line 4: not valid JSON',
      'line 7: unknown type "view" (expected campaign, creator, click or conversion)',
      'line 9: click.ip: must be an IPv4 or IPv6 address',
    ]);
    expect(stderr[3]).toMatch(
      /^score: read 5 events from 9 lines \(1 campaigns, 1 creators, 2 clicks, 1 conversions\); skipped 3 malformed lines; verdicts: 2 valid, 0 review, 1 invalid; [\d.]+ s, \d+ events\/s$/,
    );
    expect(stderr).toHaveLength(4);
  });

  it('--output writes the verdicts to a file and nothing to stdout; CRLF line ends and a byte-order mark are fine', async () => {
    const input = write('crlf.jsonl', `\uFEFF${INPUT_LINES.join('\r\n')}`);
    const output = join(dir, 'verdicts.jsonl');
    const { code, stdout } = await score(['--input', input, '--output', output]);
    expect(code).toBe(0);
    expect(stdout).toEqual([]);
    const text = readFileSync(output, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trim().split('\n').map((l) => JSON.parse(l))).toEqual(EXPECTED);
  });

  it('shows the first 1,000 malformed lines and counts them all', async () => {
    const input = write('garbage.jsonl', Array(1005).fill('not json').join('\n'));
    const { code, stdout, stderr } = await score(['--input', input]);
    expect(code).toBe(0);
    expect(stdout).toEqual([]);
    expect(stderr).toHaveLength(1002);
    expect(stderr[999]).toBe('line 1000: not valid JSON');
    expect(stderr[1000]).toBe('(more malformed lines are counted but not shown)');
    expect(stderr[1001]).toMatch(/^score: read 0 events from 1005 lines .*; skipped 1005 malformed lines;/);
  });

  it('an input that is missing, a directory, or no --input at all: exit 2 with one line', async () => {
    const missing = await score(['--input', join(dir, 'nope.jsonl')]);
    expect([missing.code, missing.stderr]).toEqual([2, [`earnest: cannot read ${join(dir, 'nope.jsonl')}: no such file`]]);
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    const directory = await score(['--input', folder]);
    expect([directory.code, directory.stderr]).toEqual([2, [`earnest: cannot read ${folder}: is a directory`]]);
    const none = await score([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toEqual(['earnest: --input FILE is required; usage: earnest score --input FILE [--output FILE] [--datacenter-ranges FILE]']);
    const unwritable = await score(['--input', write('ok.jsonl', INPUT_LINES[0] as string), '--output', join(dir, 'no-such-dir', 'v.jsonl')]);
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toEqual([`earnest: cannot write ${join(dir, 'no-such-dir', 'v.jsonl')}: no such file`]);
  });

  it('flags data-centre IPs from the shipped ranges, or from an updated list given with --datacenter-ranges', async () => {
    const lines = [campaign(), creator('cr1'), click('h1', 0), click('aws1', 5, { ip: '3.5.140.9' })].map((e) => JSON.stringify(e));
    const input = write('datacenter.jsonl', lines.join('\n'));
    const shipped = await score(['--input', input]);
    expect(shipped.stdout.map((l) => JSON.parse(l)).map((v) => [v.id, v.verdict, v.reasons])).toEqual([
      ['h1', 'valid', []],
      ['aws1', 'invalid', ['datacenter_ip']],
    ]);
    // The fixture's visitor IP (198.51.100.7) is in no provider's list; an operator's list can name it.
    const ranges = write('ranges.txt', '# my list\n198.51.100.0/24 examplecloud\n');
    const updated = await score(['--input', input, '--datacenter-ranges', ranges]);
    expect(updated.stdout.map((l) => JSON.parse(l)).map((v) => [v.id, v.verdict, v.reasons])).toEqual([
      ['h1', 'invalid', ['datacenter_ip']],
      ['aws1', 'valid', []],
    ]);
    const broken = await score(['--input', input, '--datacenter-ranges', write('broken.txt', '198.51.100.0/24 examplecloud\nnot-a-range x\n')]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toHaveLength(1);
    expect(broken.stderr[0]).toMatch(/line 2/);
  });

  it('runs as the real command: verdicts on stdout, reports on stderr, exit 0', async () => {
    const input = write('real.jsonl', INPUT_LINES.join('\n'));
    const child = spawn(TSX, ['src/cli/main.ts', 'score', '--input', input], { cwd: CWD });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual(EXPECTED);
    expect(stderr).toContain('line 4: not valid JSON\n');
    expect(stderr).toMatch(/score: read 5 events from 9 lines/);
  });
});

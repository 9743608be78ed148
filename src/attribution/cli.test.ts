import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliContext, runCli } from '../cli/index.js';

/** `earnest attribute` end to end, in process through runCli, on temporary files. */

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'earnest-attribute-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let files = 0;
function input(lines: Array<object | string>): string {
  const path = join(dir, `journeys-${++files}.jsonl`);
  writeFileSync(path, `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`);
  return path;
}

async function attribute(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const context: CliContext = { out: (l) => out.push(l), err: (l) => err.push(l), waitForStopSignal: () => new Promise(() => {}) };
  const code = await runCli(['attribute', ...args], context);
  return { code, stdout: out.join('\n'), stderr: err };
}

async function json(args: string[]) {
  const result = await attribute([...args, '--json']);
  expect(result.stderr.filter((l) => l.startsWith('earnest:'))).toEqual([]);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as { model: string; shares: Record<string, number>; credits: Record<string, number>; [k: string]: unknown };
}

/** Sums decimals as integers of 10^-digits, so "sums to exactly 1" is checked exactly. */
const exactSum = (values: Record<string, number>, digits: number) =>
  Object.values(values).reduce((sum, v) => sum + Math.round(v * 10 ** digits), 0);

const REFERENCE_PATHS = [
  { path: ['C1', 'C2', 'C3'], conversions: 1, nulls: 0 },
  { path: ['C1'], conversions: 0, nulls: 1 },
  { path: ['C2', 'C3'], conversions: 0, nulls: 1 },
];

describe('earnest attribute', () => {
  it('markov on the REFERENCE.md paths: shares and credits {C1: 0.2, C2: 0.4, C3: 0.4}', async () => {
    const report = await json(['--model', 'markov', '--input', input(REFERENCE_PATHS), '--min-conversions', '1']);
    expect(report).toEqual({
      model: 'markov',
      shares: { C1: 0.2, C2: 0.4, C3: 0.4 },
      credits: { C1: 0.2, C2: 0.4, C3: 0.4 },
    });
  });

  it('time_decay on the reference touches: 1/15, 2/15, 4/15, 8/15, printed so they sum to exactly 1', async () => {
    const file = input([{ path: ['a', 'b', 'c', 'd'], conversions: 3, nulls: 2, days_before: [22, 15, 8, 1] }]);
    const report = await json(['--model', 'time_decay', '--input', file]);
    expect(report.shares.a).toBeCloseTo(1 / 15, 8);
    expect(report.shares.b).toBeCloseTo(2 / 15, 8);
    expect(report.shares.c).toBeCloseTo(4 / 15, 8);
    expect(report.shares.d).toBeCloseTo(8 / 15, 8);
    expect(report.credits.d).toBeCloseTo(1.6, 6);
    expect(exactSum(report.shares, 9)).toBe(1e9);
    expect(exactSum(report.credits, 6)).toBe(3e6);
    const slower = await json(['--model', 'time_decay', '--input', file, '--half-life-days', '14']);
    expect(slower.shares.a).toBeGreaterThan(report.shares.a!);
  });

  it('rule-based credits are Σ conversions × the journey\'s shares; a creator only on non-converting journeys gets 0', async () => {
    const file = input([
      { path: ['a', 'b'], conversions: 3, nulls: 1 },
      { path: ['b'], conversions: 1, nulls: 0 },
      { path: ['c', 'a'], conversions: 0, nulls: 5 },
    ]);
    expect(await json(['--model', 'linear', '--input', file])).toEqual({
      model: 'linear',
      shares: { b: 0.625, a: 0.375, c: 0 },
      credits: { b: 2.5, a: 1.5, c: 0 },
    });
    expect((await json(['--model', 'first_click', '--input', file])).credits).toEqual({ a: 3, b: 1, c: 0 });
    expect((await json(['--model', 'last_click', '--input', file])).credits).toEqual({ b: 4, a: 0, c: 0 });
    expect((await json(['--model', 'position_based', '--input', file])).credits).toEqual({ b: 2.5, a: 1.5, c: 0 });
  });

  it('thirds are printed so shares sum to exactly 1 and credits to exactly the conversions', async () => {
    const report = await json(['--model', 'linear', '--input', input([{ path: ['x', 'y', 'z'], conversions: 10, nulls: 0 }])]);
    expect(report.shares).toEqual({ x: 0.333333334, y: 0.333333333, z: 0.333333333 });
    expect(report.credits).toEqual({ x: 3.333334, y: 3.333333, z: 3.333333 });
  });

  it('a data-driven model below the minimum falls back to linear and says so, in the output and on stderr', async () => {
    const result = await attribute(['--model', 'shapley', '--input', input(REFERENCE_PATHS), '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.fallback).toEqual({ model: 'linear', reason: '1 converting journey, fewer than the 100 the shapley model needs' });
    expect(report.credits).toEqual({ C1: 0.333334, C2: 0.333333, C3: 0.333333 });
    expect(result.stderr).toContain('attribute: shapley fell back to linear: 1 converting journey, fewer than the 100 the shapley model needs');
  });

  it('shapley with more than 20 creators on converting journeys reports standard errors', async () => {
    const lines = Array.from({ length: 24 }, (_, i) => ({ path: [`k${i}`, `k${(i + 1) % 24}`], conversions: 1 + (i % 3), nulls: 4 }));
    const report = await json(['--model', 'shapley', '--input', input(lines), '--min-conversions', '1']);
    expect(report.permutations).toBe(1000);
    expect(Object.keys(report.standard_errors as object)).toHaveLength(24);
    expect(exactSum(report.shares, 9)).toBe(1e9);
  });

  it('prints a readable table without --json: creators by credit, percentages and credits adding up to the total row', async () => {
    const result = await attribute(['--model', 'linear', '--input', input([{ path: ['x', 'y', 'z'], conversions: 1, nulls: 0 }, { path: ['longer-name'], conversions: 0, nulls: 2 }])]);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')).toEqual([
      'model: linear',
      '',
      'creator         share  credits',
      'x             33.34 %     0.34',
      'y             33.33 %     0.33',
      'z             33.33 %     0.33',
      'longer-name    0.00 %     0.00',
      'total        100.00 %     1.00',
    ]);
    expect(result.stderr).toHaveLength(1);
    expect(result.stderr[0]).toMatch(/^attribute: read 2 lines \(3 journeys, 1 conversions, 2 distinct paths, 4 creators\) in [\d.]+ s$/);
  });

  it('takes a byte-order mark, CRLF line ends and blank lines', async () => {
    const path = join(dir, 'crlf.jsonl');
    writeFileSync(path, `\uFEFF${JSON.stringify({ path: ['a'], conversions: 1, nulls: 0 })}\r\n\r\n${JSON.stringify({ path: ['b'], conversions: 1, nulls: 0 })}\r\n`);
    expect((await json(['--model', 'linear', '--input', path])).shares).toEqual({ a: 0.5, b: 0.5 });
  });

  describe('refuses, with one line and exit 2', () => {
    const good = { path: ['a', 'b'], conversions: 1, nulls: 0, days_before: [3, 1] };
    it.each([
      ['a malformed line, by number', ['--model', 'linear'], [good, '{"path": ["a"], "conversions": 1,'], 'line 2: not valid JSON'],
      ['an unknown model, listing the valid ones', ['--model', 'u_shaped'], [good], 'unknown model "u_shaped"; valid models: first_click, last_click, linear, time_decay, position_based, markov, shapley'],
      ['time_decay without days_before', ['--model', 'time_decay'], [good, { path: ['a'], conversions: 1, nulls: 0 }], 'line 2: days_before: missing, and time_decay needs it (days before the conversion, one per touch)'],
      ['a negative count', ['--model', 'linear'], [{ ...good, nulls: -1 }], 'line 1: nulls: must be a non-negative integer'],
      ['a non-integer count', ['--model', 'markov'], [{ ...good, conversions: 0.5 }], 'line 1: conversions: must be a non-negative integer'],
      ['a missing count', ['--model', 'linear'], [{ path: ['a'], conversions: 1 }], 'line 1: nulls: missing'],
      ['a path / days_before length mismatch', ['--model', 'first_click'], [good, { ...good, days_before: [1] }], 'line 2: days_before has 1 entries for a path of 2 touches'],
      ['touches out of time order', ['--model', 'time_decay'], [{ ...good, days_before: [1, 3] }], 'line 1: days_before[1]: 3 is further from the conversion than the touch before it (1); touches go oldest first'],
      ['an empty path', ['--model', 'linear'], [{ path: [], conversions: 1, nulls: 0 }], 'line 1: path: must list at least one creator'],
      ['a file without conversions', ['--model', 'linear'], [{ ...good, conversions: 0, nulls: 4 }], /has no conversions: nothing to attribute$/],
      ['--half-life-days with another model', ['--model', 'linear', '--half-life-days', '3'], [good], '--half-life-days applies to --model time_decay only'],
      ['a half-life that is not a positive number', ['--model', 'time_decay', '--half-life-days', '0'], [good], '--half-life-days must be a positive number, got "0"'],
      ['--min-conversions with a rule-based model', ['--model', 'linear', '--min-conversions', '5'], [good], '--min-conversions applies to --model markov or shapley only'],
      ['a fractional --min-conversions', ['--model', 'markov', '--min-conversions', '2.5'], [good], '--min-conversions must be a positive integer, got "2.5"'],
      ['no --model', [], [good], /^--model is required: one of first_click, /],
    ] as const)('%s', async (_, args, lines, message) => {
      const { code, stdout, stderr } = await attribute([...args, '--input', input([...lines])]);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      const errors = stderr.filter((l) => l.startsWith('earnest: '));
      expect(errors).toHaveLength(1);
      if (typeof message === 'string') expect(errors[0]).toBe(`earnest: ${message}`);
      else expect(errors[0]!.slice('earnest: '.length)).toMatch(message);
    });

    it('no --input, or one that cannot be read', async () => {
      expect((await attribute(['--model', 'linear'])).stderr).toEqual([expect.stringMatching(/^earnest: --input FILE is required; usage: earnest attribute --model MODEL/)]);
      const missing = join(dir, 'nope.jsonl');
      expect(await attribute(['--model', 'linear', '--input', missing])).toEqual({ code: 2, stdout: '', stderr: [`earnest: cannot read ${missing}: no such file`] });
      expect(await attribute(['--model', 'linear', '--input', dir])).toEqual({ code: 2, stdout: '', stderr: [`earnest: cannot read ${dir}: is a directory`] });
    });
  });
});

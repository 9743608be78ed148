import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliContext, runCli } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'earnest-keys-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const context: CliContext = {
    env: {},
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    waitForStopSignal: () => new Promise(() => {}),
  };
  const code = await runCli(argv, context);
  return { code, out, err };
}

describe('earnest keys', () => {
  const dir = join(root, 'data');
  it('creates an operator key shown once, and revokes it by id', async () => {
    const created = await run('keys', 'create', '--operator', '--data-dir', dir);
    expect(created.code).toBe(0);
    expect(created.out[0]).toMatch(/^ek_[0-9a-z]{26}_[0-9a-z]{43}$/);
    const id = `key_${created.out[0]?.slice(3, 29)}`;
    expect((await run('keys', 'revoke', id, '--data-dir', dir)).code).toBe(0);
    const again = await run('keys', 'revoke', id, '--data-dir', dir);
    expect(again.code).toBe(2);
    expect(again.err.join('\n')).toContain('no active key');
  });

  it.each([
    [['keys', 'create'], 'exactly one of'],
    [['keys', 'create', '--operator', '--org', 'x'], 'exactly one of'],
    [['keys', 'create', '--creator', 'cr_nobody'], 'no creator'],
    [['keys', 'revoke', 'nonsense'], 'key id'],
  ])('refuses %j with one line', async (argv, text) => {
    const r = await run(...argv, '--data-dir', dir);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toContain(text);
  });
});

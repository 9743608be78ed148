import { describe, expect, it } from 'vitest';
import { COMMANDS, HELP_WIDTH, runCli } from './index.js';

/** Every help text the CLI prints, in process: each line fits HELP_WIDTH columns and nothing is cut. */
async function helpOf(argv: string[]): Promise<{ code: number; lines: string[] }> {
  const out: string[] = [];
  const code = await runCli(argv, {
    env: {},
    out: (line) => out.push(line),
    err: (line) => out.push(line),
    waitForStopSignal: () => new Promise(() => {}),
  });
  return { code, lines: out.join('\n').split('\n') };
}

const flat = (lines: string[]) => lines.join(' ').replace(/\s+/g, ' ');

const invocations: Array<[string, string[]]> = [
  ['help', ['help']],
  ['--help', ['--help']],
  ['no arguments', []],
  ...COMMANDS.flatMap((c): Array<[string, string[]]> => [
    [`help ${c.name}`, ['help', ...c.name.split(' ')]],
    [`${c.name} --help`, [...c.name.split(' '), '--help']],
  ]),
];

describe('help', () => {
  it.each(invocations)('`earnest %s` fits in the width, every line', async (_name, argv) => {
    const { code, lines } = await helpOf(argv);
    expect(code).toBe(0);
    const tooWide = lines.filter((line) => line.length > HELP_WIDTH);
    expect(tooWide).toEqual([]);
  });

  it.each(COMMANDS.map((c) => [c.name, c] as const))('keeps all of `%s`: its usage and summary, only wrapped', async (_name, command) => {
    const everything = flat((await helpOf(['help'])).lines);
    const own = flat((await helpOf(['help', ...command.name.split(' ')])).lines);
    for (const text of [everything, own]) {
      expect(text).toContain(`earnest ${command.name} ${command.usage}`.trimEnd());
      expect(text).toContain(command.summary);
    }
  });
});

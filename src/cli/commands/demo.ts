import { mkdtempSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openDatabase } from '../../db/index.js';
import { AppError } from '../../errors/index.js';
import { type DemoResult, runDemo } from '../../demo/index.js';
import { Progress } from '../../demo/progress.js';
import { type Command, configFrom, DATA_DIR_OPTION, EXIT } from '../command.js';

export const demoCommand: Command = {
  name: 'demo',
  usage: '[--data-dir DIR] [--json] [--seed N]',
  summary: 'run a whole simulated campaign season on a fresh database and print its statement',
  options: { ...DATA_DIR_OPTION, json: { type: 'boolean' }, seed: { type: 'string' } },
  async run(flags, context) {
    const config = configFrom(context, flags);
    const seed = flags.seed === undefined ? 7 : Number(flags.seed);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new AppError('invalid_request', '--seed must be a non-negative integer');
    const target = await openFresh(config.DATABASE_URL, typeof flags['data-dir'] === 'string' ? flags['data-dir'] : undefined);
    context.err(`Demo database: ${target.where}`);
    const progress = new Progress(100, { write: (text) => process.stderr.write(text) });
    let result: DemoResult;
    try {
      result = await runDemo(target.database, config, { seed, progress });
    } finally {
      await target.database.close();
    }
    if (flags.json) context.out(JSON.stringify(jsonSummary(result)));
    else for (const line of describe(result)) context.out(line);
    return EXIT.ok;
  },
};

async function openFresh(url: string | undefined, dataDir: string | undefined) {
  if (url) {
    const schema = `earnest_demo_${Date.now().toString(36)}`;
    const database = await openDatabase<any>({ url, schema });
    return { database, where: `PostgreSQL server, schema ${schema} (drop it with: drop schema ${schema} cascade)` };
  }
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'earnest-demo-'));
  if (dataDir && existsSync(dir) && readdirSync(dir).length > 0) {
    throw new AppError('invalid_request', `${resolve(dir)} is not empty: the demo needs a fresh data directory`);
  }
  return { database: await openDatabase<any>({ dataDir: dir }), where: `embedded PostgreSQL in ${resolve(dir)}` };
}

function jsonSummary(r: DemoResult) {
  return { currency: r.currency, ...r.totals, results: r.results, clicks: r.clicks, payouts: r.payouts, campaigns: r.statements };
}

function describe(r: DemoResult): string[] {
  const lines = ['', 'Earnest demo: two campaigns, three creators'];
  for (const s of r.statements) {
    lines.push('', `${s.name} (${s.campaign_id})`, ...JSON.stringify(s.statement, null, 2).split('\n').map((l) => `  ${l}`));
  }
  lines.push('', `Totals (${r.currency} minor units): ${JSON.stringify(r.totals)}`, `Results: ${JSON.stringify(r.results)}`);
  return lines;
}

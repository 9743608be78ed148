import { mkdtempSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openDatabase } from '../../db/index.js';
import { AppError } from '../../errors/index.js';
import { type DemoResult, runDemo } from '../../demo/index.js';
import { Progress } from '../../demo/progress.js';
import { campaignStatement } from '../../settlement/index.js';
import { type Command, configFrom, DATA_DIR_OPTION, EXIT } from '../command.js';
import { formatStatement } from './statement.js';

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
    try {
      const result = await runDemo(target.database, config, { seed, progress });
      if (flags.json) {
        context.out(JSON.stringify(jsonSummary(result)));
        return EXIT.ok;
      }
      context.out('');
      for (const s of result.statements) {
        const statement = await campaignStatement(target.database.db, { kind: 'operator' }, s.campaign_id);
        for (const line of formatStatement(statement)) context.out(line);
        context.out('');
      }
      context.out(`Clicks: ${result.clicks.total} (${result.clicks.flagged} from bots); payouts sent: ${result.payouts}.`);
      context.out('Inspect it: earnest ledger check --data-dir <the directory above>, or serve it with earnest serve --data-dir …');
      return EXIT.ok;
    } finally {
      await target.database.close();
    }
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

import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Database, openDatabase } from '../../db/index.js';
import { AppError } from '../../errors/index.js';
import { type DemoResult, runDemo } from '../../demo/index.js';
import { Progress } from '../../runtime/index.js';
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
    const dataDir = typeof flags['data-dir'] === 'string' ? flags['data-dir'] : undefined;
    return withDemoDatabase(config.DATABASE_URL, dataDir, async (target) => {
      context.err(`Demo database: ${target.where}`);
      const progress = new Progress(100, { write: (text) => process.stderr.write(text) });
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
      for (const line of closingHint(target)) context.out(line);
      return EXIT.ok;
    });
  },
};

export interface DemoTarget {
  database: Database<any>;
  /** Where the data is, for people. */
  where: string;
  /** The data directory the demo keeps (one the user chose); undefined for a temporary one or a server. */
  keptDir: string | undefined;
}

/**
 * Runs `work` on a fresh database and always closes it. Without --data-dir (and no DATABASE_URL) the
 * data lives in a temporary directory (about 40 MB) that is removed afterwards, even when the demo
 * fails; a directory the user named is kept for inspection.
 */
export async function withDemoDatabase<T>(url: string | undefined, dataDir: string | undefined, work: (target: DemoTarget) => Promise<T>): Promise<T> {
  if (url) {
    const schema = `earnest_demo_${Date.now().toString(36)}`;
    const database = await openDatabase<any>({ url, schema });
    const where = `PostgreSQL server, schema ${schema} (drop it with: drop schema ${schema} cascade)`;
    return closing(database, () => work({ database, where, keptDir: undefined }));
  }
  if (dataDir) {
    if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
      throw new AppError('invalid_request', `${resolve(dataDir)} is not empty: the demo needs a fresh data directory`);
    }
    const database = await openDatabase<any>({ dataDir });
    return closing(database, () => work({ database, where: `embedded PostgreSQL in ${resolve(dataDir)}`, keptDir: resolve(dataDir) }));
  }
  const dir = mkdtempSync(join(tmpdir(), 'earnest-demo-'));
  try {
    const database = await openDatabase<any>({ dataDir: dir });
    const where = `embedded PostgreSQL in ${dir} (temporary: removed when the demo ends)`;
    return await closing(database, () => work({ database, where, keptDir: undefined }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function closing<T>(database: Database<any>, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } finally {
    await database.close();
  }
}

/** What to run next, as commands that work when pasted from a clone of the repository. */
export function closingHint(target: Pick<DemoTarget, 'keptDir'>): string[] {
  if (target.keptDir) {
    const dir = shellWord(target.keptDir);
    return [
      `Inspect it: npm run earnest -- ledger check --data-dir ${dir}`,
      `Serve it:   npm run earnest -- serve --data-dir ${dir}`,
    ];
  }
  return ['To keep a demo database to inspect: npm run earnest -- demo --data-dir ./demo-data'];
}

/** A path as one shell word: as is when plain, else single-quoted. */
function shellWord(text: string): string {
  return /^[\w./@%+=:,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

function jsonSummary(r: DemoResult) {
  return { currency: r.currency, ...r.totals, results: r.results, clicks: r.clicks, payouts: r.payouts, campaigns: r.statements };
}

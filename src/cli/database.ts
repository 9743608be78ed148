import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config/index.js';
import type { Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { openConfiguredDatabase } from '../server/index.js';

/** Where the data lives, for people; never the server URL, which may hold a password. */
export function describeDatabase(config: Config): string {
  return config.DATABASE_URL ? 'PostgreSQL server' : `embedded PostgreSQL in ${resolve(config.DATA_DIR)}`;
}

/**
 * Runs `work` on the configured database and always closes it, releasing the data-dir lock.
 * `mustExist`: a read-only command refuses a missing data directory rather than creating an empty
 * database there (a mistyped --data-dir would otherwise "pass" every check).
 */
export async function withDatabase<T>(
  config: Config,
  work: (database: Database<any>) => Promise<T>,
  options: { mustExist?: boolean } = {},
): Promise<T> {
  if (options.mustExist && !config.DATABASE_URL && !existsSync(config.DATA_DIR)) {
    throw new AppError('invalid_config', `data directory ${resolve(config.DATA_DIR)} does not exist; run \`earnest migrate\` first`);
  }
  const database = await openConfiguredDatabase(config);
  try {
    return await work(database);
  } finally {
    await database.close();
  }
}

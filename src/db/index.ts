export { advanceClock, databaseNow } from './clock.js';
export { type Database, dropSchema, type Engine, type OpenOptions, openDatabase, ping } from './connect.js';
export { lockDataDir } from './lock.js';
export { loadMigrations, type Migration, migrate, pendingMigrations } from './migrate.js';
export {
  DEFAULT_MAX_ATTEMPTS,
  inTransaction,
  isRetryable,
  isSystemic,
  RetryableConflict,
  sqlState,
  type TransactionOptions,
} from './transaction.js';
export { GroupCommit, type GroupCommitOptions } from './group-commit.js';
export { CURSOR_TIME, type Cursor, type Keyset, keyset, PAGE_LIMIT_MAX, type Page, type PageRequest, type PageTime } from './page.js';

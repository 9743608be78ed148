export * from './types.js';
export {
  accountTransfers,
  createAccounts,
  createTransfers,
  createTransfersIn,
  expireDueHolds,
  lockAccounts,
  type HoldState,
  lookupAccounts,
  lookupHolds,
  lookupTransfers,
} from './repository.js';
export { checkLedger, type CurrencyTotals, type LedgerCheckReport } from './check.js';
export * from './service.js';
export { LedgerBatcher, type LedgerBatcherOptions } from './batcher.js';

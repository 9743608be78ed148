export * from './types.js';
export {
  accountTransfers,
  createAccounts,
  createTransfers,
  expireDueHolds,
  type HoldState,
  lookupAccounts,
  lookupHolds,
  lookupTransfers,
} from './repository.js';

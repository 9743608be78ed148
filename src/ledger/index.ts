/** The double-entry ledger with TigerBeetle's semantics: accounts, transfers, holds, the checker, the chart of accounts and the money movements (docs/ledger.md). */
export { type Account, ACCOUNT_RESULTS, AccountFlags, type AccountOutcome, type AccountRequest, type AccountResult, CLIENT_TRANSFER_FLAGS, hasFlag, ID_PATTERN, LEDGER_LIMITS, type PendingStatus, type Transfer, TRANSFER_RESULTS, TransferFlags, type TransferOutcome, type TransferRequest, type TransferResult, TRANSIENT_RESULTS } from './types.js';
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
export { AccountCode, AccountId, clawback, clawbackRequests, clawbackToWallet, completePayout, deposit, failPayout, type FeeReturn, type FeeReturnEvent, fundEscrow, hold, holdLegIds, holdRequests, linkChain, type Movement, openBrandWallet, openCreatorAccounts, openEscrow, payoutRequest, postHold, refundFees, resolveHoldRequests, sendPayout, settleEscrow, TransferCode, voidHold, withdrawalRequest } from './service.js';
export { LedgerBatcher, type LedgerBatcherOptions } from './batcher.js';

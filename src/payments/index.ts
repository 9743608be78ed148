/** The brand wallet's deposits and withdrawals through a payment-provider interface (`test` ships): reserved in the ledger before the provider is asked, then posted or voided. */
export {
  FAILURE_CODES,
  type FailureCode,
  finishPendingMovements,
  listMovements,
  type MoneyMovement,
  MOVEMENT_RECOVERY,
  type MovementRecoveryReport,
  moveMoney,
  type PaymentProvider,
  type ProviderOutcome,
  testPaymentProvider,
} from './payments.js';
export { type WalletBalance, walletBalances } from './repository.js';

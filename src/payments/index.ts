/** The face of src/payments/: see ./payments.ts. */
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

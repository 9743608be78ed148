/** `AppError` with a closed list of codes mapped to HTTP statuses; `assert` for programmer errors. */
export {
  AppError,
  assert,
  AssertionFailure,
  ERROR_STATUS,
  type ErrorCode,
  isAppError,
} from './errors.js';

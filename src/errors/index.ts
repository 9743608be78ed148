/** The face of src/errors/: see ./errors.ts. */
export {
  AppError,
  assert,
  AssertionFailure,
  ERROR_STATUS,
  type ErrorCode,
  isAppError,
} from './errors.js';

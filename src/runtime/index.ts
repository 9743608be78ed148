/**
 * What a process shares, below every module: the JSON logger, the periodic-job runner and rate
 * limits. The container of a process's services is assembled above the modules (src/flows/services.ts),
 * because it holds their clients.
 */
export { createLogger, errorFields, type Logger } from './logger.js';
export { type LogFields } from './logger.js';
export { type Periodic, startPeriodic, startRepeating } from './periodic.js';
export { type Budget, type Bucket, budgetHeaders, clientIp, type RateLimits, RateLimiter, refusal } from './rate-limit.js';
export { Progress } from './progress.js';

export * from './campaigns.js';
export * from './enrolments.js';
export * from './scope.js';
export * from './standing.js';
export { pauseForBudget } from './repository.js';

export * from './campaigns.js';
export * from './enrolments.js';
export * from './terms.js';
export * from './scope.js';
export * from './standing.js';
export { pauseForBudget } from './repository.js';

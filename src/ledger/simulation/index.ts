export { LedgerModel } from './model.js';
export { SimulationFailure, type SimulationOptions, type SimulationReport, simulate } from './simulate.js';

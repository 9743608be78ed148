/** Configuration, parsed once with Zod from the environment: the only reader of `process.env` (README, "Configuration"). */
export {
  type Config,
  CONFIG_VARIABLES,
  type ConfigOverrides,
  type ConfigVariable,
  loadConfig,
  LOG_LEVELS,
  type LogLevel,
  publicUrl,
} from './config.js';

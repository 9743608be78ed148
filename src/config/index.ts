/** The face of src/config/: see ./config.ts. */
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

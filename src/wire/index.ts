/** The face of src/wire/: see ./wire.ts. */
export {
  badCharacter,
  isSaneTime,
  requireCleanStrings,
  TIME_MIN,
  timestamp,
  WIRE_LIMITS,
} from './wire.js';

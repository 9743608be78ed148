/** The shared schema layer: what every string and time the API accepts must be, checked once at the edge. */
export {
  badCharacter,
  isSaneTime,
  requireCleanStrings,
  TIME_MIN,
  timestamp,
  WIRE_LIMITS,
} from './wire.js';

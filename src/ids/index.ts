/** The face of src/ids/: see ./ids.ts. */
export {
  hasPrefix,
  ID_PREFIXES,
  type IdPrefix,
  newId,
  randomCode,
  randomToken,
} from './ids.js';

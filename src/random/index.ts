/** The face of src/random/: see ./random.ts. */
export {
  type Random,
  seededRandom,
} from './random.js';

/** A small seeded generator (mulberry32) for simulations and the demo: the same seed gives the same run. Not for secrets (src/ids). */
export {
  type Random,
  seededRandom,
} from './random.js';

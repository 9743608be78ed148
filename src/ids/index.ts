/** Prefixed, time-sortable ids (`cmp_…`), link and promo codes, secret tokens. */
export {
  hasPrefix,
  ID_PREFIXES,
  type IdPrefix,
  newId,
  randomCode,
  randomToken,
} from './ids.js';

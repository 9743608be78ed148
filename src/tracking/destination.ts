/**
 * Where a click lands: the campaign's destination URL with the click id appended as `ern_cid`, its
 * own query string and fragment kept byte for byte (a brand's UTM parameters must reach its
 * analytics unchanged, so the URL is never re-serialised). The destination is split once per cached
 * link; each redirect only concatenates.
 */
export const CLICK_ID_PARAM = 'ern_cid';

export interface Destination {
  /** Everything before the fragment, with any `ern_cid` the brand put there itself removed. */
  base: string;
  /** What goes between `base` and `ern_cid=`: `?` (no query), `&` (a query), `` (base ends in `?`). */
  separator: '' | '?' | '&';
  /** `#…` or ``. */
  fragment: string;
}

/** Printable ASCII only: what an HTTP header may carry as is. */
const HEADER_SAFE = /^[\x21-\x7e]*$/;

export function parseDestination(destination: string): Destination {
  // Non-ASCII (a path with "café") or whitespace cannot go into a Location header: let the URL parser
  // percent-encode those (and only those) URLs.
  const url = HEADER_SAFE.test(destination) ? destination : new URL(destination).href;
  const hash = url.indexOf('#');
  const beforeFragment = hash === -1 ? url : url.slice(0, hash);
  const fragment = hash === -1 ? '' : url.slice(hash);
  const question = beforeFragment.indexOf('?');
  if (question === -1) return { base: beforeFragment, separator: '?', fragment };
  const path = beforeFragment.slice(0, question);
  // A stale ern_cid in the destination would shadow ours for parsers that read the first value.
  const params = beforeFragment
    .slice(question + 1)
    .split('&')
    .filter((p) => p !== '' && p.split('=')[0] !== CLICK_ID_PARAM);
  if (params.length === 0) return { base: `${path}?`, separator: '', fragment };
  return { base: `${path}?${params.join('&')}`, separator: '&', fragment };
}

/** The landing URL for one click: ids are `[a-z0-9_]`, so nothing needs encoding. */
export function landingUrl(d: Destination, clickId: string): string {
  return `${d.base}${d.separator}${CLICK_ID_PARAM}=${clickId}${d.fragment}`;
}

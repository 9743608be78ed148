import { describe, expect, it } from 'vitest';
import { landingUrl, parseDestination } from './destination.js';

const id = 'clk_01jd0000000000000000000000';

describe('landingUrl', () => {
  it.each([
    ['https://shop.example/landing', `https://shop.example/landing?ern_cid=${id}`],
    ['https://shop.example/landing?utm_source=earnest', `https://shop.example/landing?utm_source=earnest&ern_cid=${id}`],
    ['https://shop.example/p?a=1&b=x%20y#reviews', `https://shop.example/p?a=1&b=x%20y&ern_cid=${id}#reviews`],
    ['https://shop.example/p#top', `https://shop.example/p?ern_cid=${id}#top`],
    ['https://shop.example/p?#top', `https://shop.example/p?ern_cid=${id}#top`],
    ['https://shop.example/p?a=1&#x?y=2', `https://shop.example/p?a=1&ern_cid=${id}#x?y=2`],
    ['https://shop.example/p?ern_cid=stale&a=1', `https://shop.example/p?a=1&ern_cid=${id}`],
    ['https://shop.example/p?ern_cid=stale', `https://shop.example/p?ern_cid=${id}`],
    ['https://shop.example/p?ern_cidx=1', `https://shop.example/p?ern_cidx=1&ern_cid=${id}`],
    ['https://shop.example', `https://shop.example?ern_cid=${id}`],
    ['https://shop.example/café?q=crème brûlée#à', `https://shop.example/caf%C3%A9?q=cr%C3%A8me%20br%C3%BBl%C3%A9e&ern_cid=${id}#%C3%A0`],
    ['https://shop.example/a\nb?x=1', `https://shop.example/ab?x=1&ern_cid=${id}`],
  ])('%s → %s', (destination, expected) => {
    expect(landingUrl(parseDestination(destination), id)).toBe(expected);
  });

  it('keeps the query and fragment byte for byte, as URL parsing sees them', () => {
    const destination = 'https://shop.example/p?q=caf%C3%A9+latte&empty=&flag#sec-2';
    const url = new URL(landingUrl(parseDestination(destination), id));
    expect(url.searchParams.get('q')).toBe('café latte');
    expect(url.searchParams.get('empty')).toBe('');
    expect(url.searchParams.has('flag')).toBe(true);
    expect(url.searchParams.getAll('ern_cid')).toEqual([id]);
    expect(url.hash).toBe('#sec-2');
  });
});

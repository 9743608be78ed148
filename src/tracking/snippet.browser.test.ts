import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../test/support/api.js';

/**
 * The browser snippet (/s.js) in a real browser (Debian's Chromium, driven by playwright-core): a
 * visitor follows a creator's tracking link, the redirect lands them on the brand's page with
 * ern_cid, and the snippet on that page — another origin than Earnest's — keeps the click ids for the
 * attribution window, offers them to the brand's code and fills the brand's hidden form field.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// What the workplace's probe found Chromium needs here: no sandbox as root, no background networking.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let api: TestApi;
let shop: Server;
let shopUrl: string;
let browser: Browser;

function landingPage(windowDays: number | null): string {
  const days = windowDays === null ? '' : ` data-window-days="${windowDays}"`;
  return `<!doctype html><html><body><h1>Shoes</h1>
<form id="signup"><input type="email" name="email"><input type="hidden" name="ern_click_ids"></form>
<script src="${api.url}/s.js"${days}></script></body></html>`;
}

beforeAll(async () => {
  api = await startTestApi();
  shop = createServer((req, res) => {
    const short = req.url?.startsWith('/short');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(landingPage(short ? 1 : null));
  });
  await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
  shopUrl = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => shop?.close(resolve));
  await api?.close();
});

/** A brand whose campaign lands on the local shop, and a creator's tracking link into it. */
let links = 0;

async function trackingLink(path: string): Promise<string> {
  const n = ++links;
  const org = await api.call('POST', '/v1/organizations', { key: api.operatorKey, body: { name: `Shop ${n}` } });
  const brand = org.body.api_key as string;
  await api.call('POST', '/v1/deposits', { key: brand, body: { amount: '100.00', currency: 'USD', reference: `d${n}` } });
  const creator = (await api.call('POST', '/v1/creators', { key: api.operatorKey, body: { name: 'Ada', email: `ada${n}@creators.example` } })).body.api_key as string;
  const terms = {
    objective: 'cpl', rate: '1.00', currency: 'USD', budget: '100.00', destination_url: `${shopUrl}${path}?utm_source=earnest`,
    starts_at: '2026-01-01T00:00:00Z', ends_at: '2030-01-01T00:00:00Z', kpi_target: 1,
  };
  const c = await api.call('POST', '/v1/campaigns', { key: brand, body: { name: 'Shoes', terms } });
  expect(c.status, JSON.stringify(c.body)).toBe(201);
  const funded = await api.call('POST', `/v1/campaigns/${c.body.id}/fund`, { key: brand, body: { reference: `f${n}` } });
  expect(funded.status, JSON.stringify(funded.body)).toBe(200);
  const active = await api.call('POST', `/v1/campaigns/${c.body.id}/activate`, { key: brand, body: {} });
  expect(active.status, JSON.stringify(active.body)).toBe(200);
  const joined = await api.call('POST', `/v1/campaigns/${c.body.id}/enrolments`, {
    key: creator,
    body: { terms_version: c.body.terms_version, terms_sha256: c.body.terms_sha256 },
  });
  expect(joined.status, JSON.stringify(joined.body)).toBe(201);
  return `${api.url}/c/${joined.body.link_code}`;
}

describe('the browser snippet', () => {
  it('is small, minified and gzipped, and revalidates by ETag', async () => {
    const r = await fetch(`${api.url}/s.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(r.headers.get('content-encoding')).toBe('gzip');
    expect(Number(r.headers.get('content-length'))).toBeLessThan(2048);
    const again = await fetch(`${api.url}/s.js`, { headers: { 'if-none-match': r.headers.get('etag') as string } });
    expect(again.status).toBe(304);
  });

  it('keeps the click ids a visitor arrives with through tracking links and fills the hidden field', async () => {
    const first = await trackingLink('/landing');
    const second = await trackingLink('/landing');
    const page = await (await browser.newContext()).newPage();
    await page.goto(first);
    const landed = new URL(page.url());
    expect(landed.origin).toBe(shopUrl);
    expect(landed.searchParams.get('utm_source')).toBe('earnest');
    const firstId = landed.searchParams.get('ern_cid') as string;
    expect(firstId).toMatch(/^clk_/);
    await page.goto(second);
    const secondId = new URL(page.url()).searchParams.get('ern_cid') as string;
    await page.goto(`${shopUrl}/landing`); // later visit, no click id: the earlier ones are still there
    expect(await page.evaluate(() => (globalThis as any).Earnest.clickIds())).toEqual([firstId, secondId]);
    expect(await page.inputValue('input[name="ern_click_ids"]')).toBe(`${firstId},${secondId}`);
    // The same click id twice is kept once, as the latest.
    await page.goto(`${shopUrl}/landing?ern_cid=${firstId}`);
    expect(await page.evaluate(() => (globalThis as any).Earnest.clickIds())).toEqual([secondId, firstId]);
  });

  it('forgets click ids older than the window, and ignores a malformed ern_cid', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${shopUrl}/short?ern_cid=clk_recent`);
    const twoDaysAgo = Date.now() - 2 * 86_400_000;
    await page.evaluate((t) => {
      const list = JSON.parse((globalThis as any).localStorage.getItem('ern_clicks') ?? '[]');
      (globalThis as any).localStorage.setItem('ern_clicks', JSON.stringify([{ id: 'clk_old', t }, ...list]));
    }, twoDaysAgo);
    await page.goto(`${shopUrl}/short?ern_cid=<script>`);
    expect(await page.evaluate(() => (globalThis as any).Earnest.clickIds())).toEqual(['clk_recent']);
  });
});

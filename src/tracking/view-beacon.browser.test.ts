import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_AGENT, createBrand, createCreator, launchCampaign, type Party } from '../../test/support/conversions.js';
import { startTestApi, type TestApi } from '../../test/support/api.js';

/**
 * The snippet's viewability beacon in a real browser (Debian's Chromium, driven by playwright-core): a
 * visitor follows a creator's tracking link onto the brand's page (another origin than Earnest's) where
 * an element is marked data-earnest-view; the real IntersectionObserver, timers and sendBeacon decide
 * and send, and the server stores the view. Headless Chromium keeps every page visible whatever tab or
 * window is in front, so a hidden tab is emulated the one way the page sees it: document.visibilityState
 * reads 'hidden' and a visibilitychange event fires (the Page Visibility API the snippet listens to).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let api: TestApi;
let shop: Server;
let shopUrl: string;
let browser: Browser;
let brand: Party;
let creator: Party;
let trackingUrl: string;
let enrolmentId: string;

/** The brand's page: the marked element far below the fold, so it is out of view until scrolled to. */
function page(kind: string, id: string): string {
  return `<!doctype html><html><body style="margin:0">
<div style="height:3000px">top</div>
<div id="${id}" data-earnest-view="${kind}" style="height:300px;background:#c00">the ad</div>
<div style="height:3000px">bottom</div>
<script src="${api.url}/s.js"></script></body></html>`;
}

beforeAll(async () => {
  api = await startTestApi();
  shop = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://shop');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(url.searchParams.get('kind') ?? 'video', url.searchParams.get('el') ?? 'promo'));
  });
  await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
  shopUrl = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
  brand = await createBrand(api, 'Shoes');
  creator = await createCreator(api, 'ada@creators.example');
  const cpm = await launchCampaign(api, brand, creator, { objective: 'cpm', rate: '5.00', budget: '50.00', destination_url: `${shopUrl}/watch` });
  enrolmentId = cpm.enrolmentId;
  const code = (await sql<{ link_code: string }>`select link_code from enrolments where id = ${cpm.enrolmentId}`.execute(api.database.db)).rows[0]?.link_code;
  trackingUrl = `${api.url}/c/${code}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => shop?.close(resolve));
  await api?.close();
});

/** A visitor (a browser's user agent: headless Chromium's own is a bot's) who arrived through the creator's link. */
async function visitor(): Promise<{ page: Page; clickId: string }> {
  const context = await browser.newContext({ userAgent: BROWSER_AGENT, viewport: { width: 800, height: 600 } });
  const p = await context.newPage();
  await p.goto(trackingUrl);
  const clickId = new URL(p.url()).searchParams.get('ern_cid') as string;
  expect(clickId).toMatch(/^clk_/);
  return { page: p, clickId };
}

async function open(p: Page, kind: string, el: string): Promise<void> {
  await p.goto(`${shopUrl}/watch?kind=${kind}&el=${el}`);
  await p.waitForFunction(() => (globalThis as any).Earnest?.watchViews !== undefined);
}

const scrollTo = (p: Page, el: string) => p.evaluate((id) => (globalThis as any).document.getElementById(id).scrollIntoView({ block: 'center' }), el);
const scrollTop = (p: Page) => p.evaluate(() => (globalThis as any).window.scrollTo(0, 0));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function setHidden(p: Page, hidden: boolean): Promise<void> {
  return p.evaluate((h) => {
    const d = (globalThis as any).document;
    Object.defineProperty(d, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
    Object.defineProperty(d, 'hidden', { configurable: true, get: () => h });
    d.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

async function stored(element: string): Promise<Array<{ kind: string; status: string; click_id: string; visible_ms: number }>> {
  await api.services.views?.flush();
  const r = await sql<{ kind: string; status: string; click_id: string; visible_ms: number }>`select kind, status, click_id, visible_ms
    from verified_views where element = ${element} and enrolment_id = ${enrolmentId}`.execute(api.database.db);
  return r.rows;
}

/** Waits out a beacon that might still be on its way, then answers what was stored. */
async function storedAfterSettling(element: string) {
  await sleep(500);
  return stored(element);
}

describe('the viewability beacon', () => {
  it('counts a video scrolled into view for 2 continuous seconds, once, credited to the visitor’s click', async () => {
    const { page: p, clickId } = await visitor();
    await open(p, 'video', 'promo');
    await sleep(2_500); // below the fold all along: no view
    expect(await storedAfterSettling('promo')).toEqual([]);
    await scrollTo(p, 'promo');
    await expect.poll(() => stored('promo'), { timeout: 10_000, interval: 250 }).toEqual([
      { kind: 'video', status: 'valid', click_id: clickId, visible_ms: expect.any(Number) },
    ]);
    expect((await stored('promo'))[0]?.visible_ms).toBeGreaterThanOrEqual(2_000);
    // Scrolling away and back on the same page view sends nothing more; a new page view of the same
    // visitor and element is one view already (the unique key).
    await scrollTop(p);
    await scrollTo(p, 'promo');
    await open(p, 'video', 'promo');
    await scrollTo(p, 'promo');
    await sleep(2_800);
    expect(await storedAfterSettling('promo')).toHaveLength(1);
  });

  it('does not count a view that is too short', async () => {
    const { page: p } = await visitor();
    await open(p, 'video', 'short');
    await scrollTo(p, 'short');
    await sleep(1_200); // enough for display, not for a video
    await scrollTop(p);
    await sleep(2_500);
    expect(await storedAfterSettling('short')).toEqual([]);
    // The same element as display: 1 second counts.
    await open(p, 'display', 'short-display');
    await scrollTo(p, 'short-display');
    await expect.poll(() => stored('short-display'), { timeout: 10_000, interval: 250 }).toHaveLength(1);
  });

  it('does not count while the tab is hidden, and a hidden tab restarts the continuous timer', async () => {
    const { page: p } = await visitor();
    await open(p, 'video', 'hidden');
    await setHidden(p, true);
    await scrollTo(p, 'hidden');
    await sleep(3_000); // in view but hidden
    expect(await storedAfterSettling('hidden')).toEqual([]);
    await setHidden(p, false);
    await sleep(1_200);
    await setHidden(p, true); // 1.2 s visible, then hidden again
    await sleep(300);
    await setHidden(p, false);
    await sleep(1_200); // 1.2 s more: 2.4 s in all, but not continuous
    expect(await storedAfterSettling('hidden')).toEqual([]);
    await expect.poll(() => stored('hidden'), { timeout: 10_000, interval: 250 }).toHaveLength(1);
  });
});

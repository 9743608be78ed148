import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { Config } from '../../config/index.js';
import { assert } from '../../errors/index.js';
import { type Click, CLICK_STATUSES, countryFrom, listClicks, parseViewBeacon, viewBeaconBody, type Visit } from '../../tracking/index.js';
import { endpoint, type Endpoint, respond } from '../endpoint.js';
import { newId } from '../../ids/index.js';
import { PAID_AD_PARAMS } from '../../validation/index.js';
import { clientIp } from '../../runtime/index.js';
import type { Services } from '../../flows/index.js';
import { page, pageQuery, pageRequest } from '../schemas.js';
import { clickListSchema } from '../views/tracking.js';

/** Header values are kept, but bounded: they come from anyone on the internet. */
const USER_AGENT_LENGTH_MAX = 512;
const REFERRER_LENGTH_MAX = 2048;

/** What the tracker needs of the request: the client IP (behind a trusted proxy, its first hop) and headers. */
export function visitFrom(request: IncomingMessage, config: Pick<Config, 'TRUST_PROXY' | 'COUNTRY_HEADER'>, visitorId: string | null = null): Visit {
  return {
    method: request.method ?? 'GET',
    ip: clientIp(request, config.TRUST_PROXY),
    userAgent: bounded(request.headers['user-agent'], USER_AGENT_LENGTH_MAX),
    referrer: bounded(request.headers.referer, REFERRER_LENGTH_MAX),
    country: config.COUNTRY_HEADER ? countryFrom(request.headers[config.COUNTRY_HEADER]) : null,
    visitorId,
    adClickParam: adClickParamOf(request.url),
  };
}

/**
 * The ad platform's click id a tracking link was opened with (`/c/abc?gclid=…`: the creator put the
 * link in a paid ad), so a campaign that forbids paid traffic does not pay for it. Only the name is kept.
 */
export function adClickParamOf(url: string | undefined): string | null {
  const q = url?.indexOf('?') ?? -1;
  if (q === -1) return null;
  const params = new URLSearchParams((url as string).slice(q + 1));
  return PAID_AD_PARAMS.find((name) => (params.get(name) ?? '') !== '') ?? null;
}

/**
 * The first-party visitor cookie of the tracking domain: set by the redirect the first time a browser
 * follows any tracking link (on a brand's own tracking domain it is first-party to the brand), sent
 * back only on tracking links (Path=/c/), so the same visitor's clicks on several creators' links form
 * one journey. Anything but a well-formed id in it is ignored and replaced.
 */
export const VISITOR_COOKIE = 'ern_vid';
const VISITOR_COOKIE_VALUE = /(?:^|;\s*)ern_vid=(vis_[0-9a-hjkmnp-tv-z]{26})(?:;|$)/;

export function visitorIdFrom(request: IncomingMessage): string | null {
  const header = request.headers.cookie;
  if (header === undefined) return null;
  return VISITOR_COOKIE_VALUE.exec(header)?.[1] ?? null;
}

function visitorCookie(id: string, days: number, secure: boolean): string {
  return `${VISITOR_COOKIE}=${id}; Path=/c/; Max-Age=${days * 86_400}; SameSite=Lax; HttpOnly${secure ? '; Secure' : ''}`;
}

/** The visitor reached us over HTTPS: directly, or through a proxy we trust that says so. */
function overHttps(request: IncomingMessage, trustProxy: boolean): boolean {
  if ((request.socket as { encrypted?: boolean }).encrypted) return true;
  return trustProxy && String(request.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim() === 'https';
}

function bounded(value: string | undefined, max: number): string | null {
  if (value === undefined || value === '') return null;
  return value.length > max ? value.slice(0, max) : value;
}

/**
 * Where `GET /c/{code}` sends the visitor, the click accepted: synchronous when the link is cached.
 * The server calls this directly for `/c/` paths, ahead of the router and the endpoint wrapper (the
 * redirect is the hottest path; see docs/tracking.md); the table entry below documents it in OpenAPI
 * and serves what the fast path leaves to the router. A key sent along is ignored: the link is public.
 */
export function redirect(services: Services, request: IncomingMessage, code: string): Redirect | Promise<Redirect> {
  assert(services.tracker, 'the click tracker is started with the server');
  services.limiter.takeClick(request);
  const { config } = services;
  const known = config.VISITOR_COOKIE_DAYS > 0 ? visitorIdFrom(request) : null;
  const visitorId = config.VISITOR_COOKIE_DAYS > 0 ? (known ?? newId('vis')) : null;
  const setCookie = visitorId !== null && known === null ? visitorCookie(visitorId, config.VISITOR_COOKIE_DAYS, overHttps(request, config.TRUST_PROXY)) : null;
  const location = services.tracker.track(code, visitFrom(request, config, visitorId));
  return typeof location === 'string' ? { location, setCookie } : location.then((l) => ({ location: l, setCookie }));
}

/**
 * `POST /b/view`, the viewability beacon of the browser snippet (docs/tracking.md#viewability-beacons):
 * the per-IP budget of the click redirect, the body checked (coded 400/413), the view pushed onto the
 * view tracker's buffer. No database work is waited for: undefined when accepted at once, else a
 * promise that resolves once the full buffer has room. The server calls this ahead of the router for
 * every `POST /b/view` (text/plain as sendBeacon sends, or application/json); the table entry below
 * documents it in OpenAPI.
 */
export function viewBeacon(services: Services, request: IncomingMessage, body: Buffer): Promise<void> | undefined {
  assert(services.views, 'the view tracker is started with the server');
  services.limiter.takeClick(request);
  const beacon = parseViewBeacon(body);
  return services.views.accept(beacon, {
    ip: clientIp(request, services.config.TRUST_PROXY),
    userAgent: bounded(request.headers['user-agent'], USER_AGENT_LENGTH_MAX),
  });
}

/** Where the redirect sends the visitor, and the visitor cookie to set (only when it was not there). */
export interface Redirect {
  location: string;
  setCookie: string | null;
}

/** A click as the API shows it: never the IP hash. */
export function clickView(c: Click) {
  return {
    id: c.id,
    campaign_id: c.campaign_id,
    enrolment_id: c.enrolment_id,
    creator_id: c.creator_id,
    occurred_at: c.occurred_at,
    status: c.status,
    result_id: c.result_id,
    user_agent: c.user_agent,
    referrer: c.referrer,
    country: c.country,
    landing_url: c.landing_url,
  };
}

const codeParams = z.strictObject({ code: z.string().max(64) });
const listQuery = pageQuery.extend({
  campaign_id: z.string().max(100).optional(),
  status: z.enum(CLICK_STATUSES).optional(),
});

export const trackingEndpoints: Endpoint<any, any, any>[] = [
  endpoint({
    method: 'GET',
    path: '/c/{code}',
    summary:
      "A creator's tracking link: 302 to the campaign's destination with ern_cid=<click id> appended (HEAD answers the same). " +
      'The click is recorded within moments; bots, HEAD requests and repeats are recorded but never paid.',
    tag: 'tracking',
    response: null,
    access: ['public'],
    limit: 'own',
    params: codeParams,
    status: 302,
    handle: async ({ params, services, context }) => {
      const r = await redirect(services, context.request, params.code);
      return respond(302, undefined, { location: r.location, ...(r.setCookie ? { 'set-cookie': r.setCookie } : {}) });
    },
  }),
  endpoint({
    method: 'POST',
    path: '/b/view',
    summary:
      'A viewability beacon from the browser snippet (/s.js): an element the brand marked data-earnest-view was at least half in view on a visible page ' +
      'for 2 continuous seconds (video) or 1 (display). Answers 202 at once (the view is written within moments); sendBeacon sends it as text/plain, ' +
      'which is read like application/json. Credited to the newest of the click ids on a CPM campaign; one view per visitor, element and enrolment ' +
      '(Idempotency-Key is not needed); bots, data-centre addresses and flagged clicks are stored but never paid',
    tag: 'tracking',
    response: null,
    access: ['public'],
    limit: 'own',
    body: viewBeaconBody,
    status: 202,
    handle: async ({ body, services, context }) => {
      await viewBeacon(services, context.request, Buffer.from(JSON.stringify(body)));
      return respond(202, undefined);
    },
  }),
  endpoint({
    method: 'GET',
    path: '/v1/clicks',
    summary:
      "Recorded clicks with their status (valid, bot, repeat, head): a brand's campaigns', a creator's own, or all (operators); " +
      'newest first (occurred_at: the time of the click; created_from/created_to filter on it)',
    tag: 'tracking',
    response: clickListSchema,
    access: ['organization', 'creator', 'operator'],
    query: listQuery,
    handle: async ({ query, principal, services }) => {
      const scope =
        principal.kind === 'organization' ? { orgId: principal.id } : principal.kind === 'creator' ? { creatorId: principal.id } : {};
      return page(await listClicks(services.db, { ...scope, campaignId: query.campaign_id, status: query.status }, pageRequest(query)), clickView);
    },
  }),
];

import type { Route } from './router.js';
import { type Endpoint, toRoute } from './endpoint.js';
import { openApiDocument } from './openapi.js';
import { attributionEndpoints } from './routes/attribution.js';
import { campaignEndpoints } from './routes/campaigns.js';
import { conversionsEndpoints } from './routes/conversions.js';
import { paymentEndpoints } from './routes/payments.js';
import { payoutsEndpoints } from './routes/payouts.js';
import { resultEndpoints } from './routes/results.js';
import { settlementEndpoints } from './routes/settlement.js';
import { tenantEndpoints } from './routes/tenants.js';
import { trackingEndpoints } from './routes/tracking.js';
import type { Services } from '../flows/index.js';

export type { Principal } from '../tenants/index.js';
export { errorResponse, pathOf, requestIdOf, sendJson } from './http.js';
export { createRouter, type JsonResponse, type Method, type RequestContext, type Route, type RouteMatch, type Router } from './router.js';
export { conversionAnswer } from './routes/conversions.js';
export { redirect, type Redirect, viewBeacon } from './routes/tracking.js';
export { settlementReportView, statementView } from './routes/settlement.js';

/** Every endpoint of the REST API, in one table. */
export function allEndpoints(extra: readonly Endpoint<any, any, any>[] = []): Endpoint<any, any, any>[] {
  return [
    ...tenantEndpoints,
    ...campaignEndpoints,
    ...paymentEndpoints,
    ...trackingEndpoints,
    ...conversionsEndpoints,
    ...resultEndpoints,
    ...settlementEndpoints,
    ...attributionEndpoints,
    ...payoutsEndpoints,
    ...extra,
  ];
}

export function apiRoutes(services: Services, extra: readonly Endpoint<any, any, any>[] = []): Route[] {
  const endpoints = allEndpoints(extra);
  const document = openApiDocument(endpoints, '0.1.0');
  // `servers` names this server's public URL (PUBLIC_URL, or the address it listens on), read per request
  // because the port is known only once the server listens.
  return [
    ...endpoints.map((e) => toRoute(e, services)),
    {
      method: 'GET',
      path: '/openapi.json',
      handle: async () => ({ status: 200, body: { ...document, servers: [{ url: services.publicUrl, description: 'This Earnest server' }] } }),
    },
  ];
}

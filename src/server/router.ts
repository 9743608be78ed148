import type { IncomingMessage } from 'node:http';
import type { Database } from '../db/index.js';
import { AppError, assert } from '../errors/index.js';
import { errorResponse } from './http.js';
import type { Logger } from './logger.js';

/**
 * A deliberately small routing table over node:http: exact paths, one handler per method. A later
 * issue replaces it with a framework; handlers only see a RequestContext and return a JsonResponse,
 * so they move over unchanged.
 */

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestContext {
  readonly request: IncomingMessage;
  readonly requestId: string;
  readonly database: Database<any>;
  readonly logger: Logger;
}

export interface JsonResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: Method;
  /** An exact path, e.g. `/healthz`. */
  path: string;
  handle(context: RequestContext): Promise<JsonResponse>;
}

/** Either the route to run, or the response for a path or method that has none. */
export type RouteMatch = { found: true; route: Route } | { found: false; response: JsonResponse };

export interface Router {
  match(method: string, path: string): RouteMatch;
}

export function createRouter(routes: readonly Route[]): Router {
  const byPath = new Map<string, Map<string, Route>>();
  for (const route of routes) {
    const methods = byPath.get(route.path) ?? new Map<string, Route>();
    assert(!methods.has(route.method), `route ${route.method} ${route.path} is defined twice`);
    methods.set(route.method, route);
    byPath.set(route.path, methods);
  }
  return {
    match(method, path) {
      const methods = byPath.get(path);
      if (!methods) return { found: false, response: errorResponse(new AppError('not_found', `no such path: ${path}`)) };
      // HEAD is a GET without a body; node:http drops the body for HEAD requests itself.
      const route = methods.get(method === 'HEAD' ? 'GET' : method);
      if (route) return { found: true, route };
      const allowed = [...methods.keys(), ...(methods.has('GET') ? ['HEAD'] : [])].join(', ');
      const error = new AppError('invalid_request', `method ${method} is not allowed on ${path}; use ${allowed}`);
      return { found: false, response: errorResponse(error, 405, { allow: allowed }) };
    },
  };
}

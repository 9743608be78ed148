import type { IncomingMessage } from 'node:http';
import type { Database } from '../db/index.js';
import { AppError, assert } from '../errors/index.js';
import { errorResponse } from './http.js';
import type { Logger } from '../runtime/index.js';

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
  /** Values of the `{name}` segments of the route's path. */
  readonly params: Readonly<Record<string, string>>;
  /** The query string, parsed. */
  readonly query: URLSearchParams;
  /** Sets a header on whatever this request answers, an error included (the rate-limit headers). */
  readonly setHeader: (name: string, value: string) => void;
}

export interface JsonResponse {
  status: number;
  /** JSON to send; for a redirect (`location` header) or an empty answer, leave it undefined. */
  body: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: Method;
  /** A path, exact (`/healthz`) or with `{name}` segments (`/v1/campaigns/{id}`). */
  path: string;
  handle(context: RequestContext): Promise<JsonResponse>;
}

/** Either the route to run, or the response for a path or method that has none. */
export type RouteMatch =
  | { found: true; route: Route; params: Record<string, string> }
  | { found: false; response: JsonResponse };

export interface Router {
  match(method: string, path: string): RouteMatch;
}

interface Pattern {
  segments: string[];
  methods: Map<string, Route>;
}

const PARAM = /^\{([a-z_]+)\}$/;

export function createRouter(routes: readonly Route[]): Router {
  const byPath = new Map<string, Map<string, Route>>();
  for (const route of routes) {
    const methods = byPath.get(route.path) ?? new Map<string, Route>();
    assert(!methods.has(route.method), `route ${route.method} ${route.path} is defined twice`);
    methods.set(route.method, route);
    byPath.set(route.path, methods);
  }
  // Exact paths first (a map lookup); patterns are tried in the order they were defined.
  const patterns: Pattern[] = [...byPath]
    .filter(([path]) => path.includes('{'))
    .map(([path, methods]) => ({ segments: path.split('/'), methods }));
  const find = (path: string): { methods: Map<string, Route>; params: Record<string, string> } | undefined => {
    const exact = byPath.get(path);
    if (exact && !path.includes('{')) return { methods: exact, params: {} };
    const parts = path.split('/');
    for (const pattern of patterns) {
      const params = matchSegments(pattern.segments, parts);
      if (params) return { methods: pattern.methods, params };
    }
    return undefined;
  };
  return {
    match(method, path) {
      const found = find(path);
      if (!found) return { found: false, response: errorResponse(new AppError('not_found', `no such path: ${path}`)) };
      const { methods, params } = found;
      // HEAD is a GET without a body; node:http drops the body for HEAD requests itself.
      const route = methods.get(method === 'HEAD' ? 'GET' : method);
      if (route) return { found: true, route, params };
      const allowed = [...methods.keys(), ...(methods.has('GET') ? ['HEAD'] : [])].join(', ');
      const error = new AppError('method_not_allowed', `method ${method} is not allowed on ${path}; use ${allowed}`);
      return { found: false, response: errorResponse(error, 405, { allow: allowed }) };
    },
  };
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i] as string;
    const got = parts[i] as string;
    const param = PARAM.exec(want);
    if (param) {
      if (got === '') return undefined;
      try {
        params[param[1] as string] = decodeURIComponent(got);
      } catch {
        return undefined;
      }
    } else if (want !== got) {
      return undefined;
    }
  }
  return params;
}

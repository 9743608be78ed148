import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAppError } from '../errors/index.js';
import type { JsonResponse } from './router.js';

/** The one place an error becomes `{error:{code,message}}`. Anything but an AppError hides its details. */
export function errorResponse(e: unknown, status?: number, headers: Record<string, string> = {}): JsonResponse {
  if (isAppError(e)) {
    const retryAfter = e.details?.retry_after;
    const extra: Record<string, string> = typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : {};
    const field = typeof e.details?.field === 'string' ? { field: e.details.field } : {};
    return { status: status ?? e.status, body: { error: { code: e.code, message: e.message, ...field } }, headers: { ...headers, ...extra } };
  }
  return { status: 500, body: { error: { code: 'internal', message: 'internal error' } }, headers };
}

export function sendJson(res: ServerResponse, response: JsonResponse): void {
  if (response.body === undefined) {
    // Redirects and empty answers.
    res.writeHead(response.status, { ...response.headers, 'content-length': 0, 'cache-control': 'no-store' });
    res.end();
    return;
  }
  const body = JSON.stringify(response.body);
  res.writeHead(response.status, {
    ...response.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/** Request ids are echoed into logs and headers, so only a short, plain token is taken from the client. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
}

const LOGGED_PATH_LENGTH_MAX = 512;

/** The path without its query string; query strings may carry tokens and are never logged. */
export function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const query = raw.indexOf('?');
  const path = query === -1 ? raw : raw.slice(0, query);
  return path.length > LOGGED_PATH_LENGTH_MAX ? `${path.slice(0, LOGGED_PATH_LENGTH_MAX)}…` : path;
}

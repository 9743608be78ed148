import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { AppError } from '../errors/index.js';
import { requireCleanStrings } from '../wire/index.js';
import type { JsonResponse, Method, RequestContext, Route } from './router.js';
import type { Principal } from '../tenants/index.js';
import { filledPath, idempotent } from './idempotency.js';
import { type Bucket, budgetHeaders, refusal } from '../runtime/index.js';
import type { Services } from '../flows/index.js';

/**
 * An API endpoint: one table entry with its access rule, its Zod schemas (which validate requests
 * and generate the OpenAPI document) and a thin handler that calls one domain function.
 */
export type Access = 'public' | 'operator' | 'organization' | 'creator';

export interface HandlerInput<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  principal: Principal;
  services: Services;
  context: RequestContext;
}

export interface Endpoint<B = unknown, Q = unknown, P = unknown> {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  /** Who may call it; `public` needs no key. */
  access: readonly Access[];
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  params?: z.ZodType<P>;
  /**
   * The success answer's schema, as it travels (JSON): it makes the OpenAPI document, and the tests
   * check every answer against it (test/support/contract.ts). `null`: the answer has no body (a redirect).
   */
  response?: z.ZodType | null;
  /** The success status (200 unless said). */
  status?: number;
  /** Which rate-limit bucket the call draws from; `own`: the handler takes from its bucket itself. */
  limit?: 'api' | 'conversions' | 'own';
  handle(input: HandlerInput<B, Q, P>): Promise<unknown | JsonResponse>;
}

/** Helps TypeScript infer B, Q, P from the schemas. */
export function endpoint<B = undefined, Q = undefined, P = undefined>(e: Endpoint<B, Q, P>): Endpoint<B, Q, P> {
  return e;
}

export const MAX_BODY_BYTES = 64 * 1024;

export function toRoute(e: Endpoint<any, any, any>, services: Services): Route {
  return {
    method: e.method,
    path: e.path,
    async handle(context) {
      const { principal, keyId } = await services.auth.authenticate(context.request.headers.authorization, e.access);
      if (e.limit !== 'own') drawBudget(services, e.limit ?? 'api', keyId, context);
      const raw = await readJson(context.request);
      if (!e.body) requireNoBody(raw);
      const body = e.body ? parse(e.body, raw, 'body') : undefined;
      const rawQuery = queryOf(context.request.url);
      if (!e.query && Object.keys(rawQuery).length > 0) {
        throw new AppError('invalid_request', `this operation takes no query parameters (got ${Object.keys(rawQuery).join(', ')})`);
      }
      const query = e.query ? parse(e.query, rawQuery, 'query') : undefined;
      requireCleanStrings(context.params, 'path');
      const params = e.params ? parse(e.params, context.params, 'path') : context.params;
      const run = async (): Promise<JsonResponse> => {
        const result = await e.handle({ body, query, params, principal, services, context });
        return isJsonResponse(result) ? result : { status: e.status ?? 200, body: result };
      };
      return idempotent(services, { principal, method: e.method, path: filledPath(e.path, params), body, context }, run);
    },
  };
}

/**
 * One request from the API key's budget (per key, not per owner: two keys of one brand have two), or
 * from the client IP's without a key. From here on every answer — success, refusal or failure —
 * carries RateLimit-Limit and RateLimit-Remaining, so they are set on the response, not the answer.
 */
function drawBudget(services: Services, bucket: Bucket, keyId: string | null, context: RequestContext): void {
  const budget = services.limiter.take(bucket, keyId ?? services.limiter.anonymousCaller(context.request));
  if (!budget) return;
  for (const [name, value] of Object.entries(budgetHeaders(budget))) context.setHeader(name, value);
  if (budget.retryAfterSeconds !== null) throw refusal(budget);
}

function isJsonResponse(x: unknown): x is JsonResponse {
  return typeof x === 'object' && x !== null && '__response' in x;
}

/** A response with a status or headers of its own (redirects, 201 vs 200 on idempotent replays). */
export function respond(status: number, body: unknown, headers?: Record<string, string>): JsonResponse {
  return Object.assign({ status, body, ...(headers ? { headers } : {}) }, { __response: true });
}

function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.length ? issue.path.join('.') : where;
  const appError = appErrorIn(result.error);
  if (appError) throw appError;
  throw new AppError('invalid_request', `${path}: ${describeIssue(issue)}`, { details: { field: path } });
}

/** Money parsing inside a schema (refinements) throws coded AppErrors: keep their codes. */
function appErrorIn(error: z.ZodError): AppError | undefined {
  for (const issue of error.issues) {
    const params = (issue as { params?: { appError?: AppError } }).params;
    if (params?.appError) return params.appError;
  }
  return undefined;
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'invalid';
  if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.join(', ')}`;
  return issue.message;
}

/** An operation without a body takes none, an empty one, or `{}`. */
function requireNoBody(raw: unknown): void {
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw) && Object.keys(raw).length === 0) return;
  throw new AppError('invalid_request', 'this operation takes no body (send none, or {})', { details: { field: 'body' } });
}

/**
 * The query string as one value per name, each strictly decoded and checked like body strings: a
 * malformed escape or a repeated name is refused rather than guessed at (URLSearchParams would turn
 * `%FF` into U+FFFD and keep the last of repeated names).
 */
function queryOf(url: string | undefined): Record<string, string> {
  const i = url?.indexOf('?') ?? -1;
  const text = i >= 0 ? (url as string).slice(i + 1) : '';
  const out: Record<string, string> = {};
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeQueryPart(eq === -1 ? pair : pair.slice(0, eq), 'query');
    const value = decodeQueryPart(eq === -1 ? '' : pair.slice(eq + 1), name);
    if (Object.hasOwn(out, name)) throw new AppError('invalid_request', `${name}: given more than once`, { details: { field: name } });
    out[name] = value;
  }
  requireCleanStrings(out, 'query');
  return out;
}

function decodeQueryPart(part: string, field: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    throw new AppError('invalid_request', `${field}: malformed percent-encoding in the query string`, { details: { field } });
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

async function readJson(request: IncomingMessage): Promise<unknown> {
  const type = request.headers['content-type'] ?? '';
  const length = Number(request.headers['content-length'] ?? 0);
  if (length > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  if (!/^application\/json\b/i.test(type)) {
    throw new AppError('unsupported_media_type', 'send the body as JSON with content-type: application/json');
  }
  let text: string;
  try {
    text = UTF8.decode(Buffer.concat(chunks));
  } catch {
    throw new AppError('invalid_request', 'the body is not valid UTF-8', { details: { field: 'body' } });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('invalid_request', 'the body is not valid JSON', { details: { field: 'body' } });
  }
  requireCleanStrings(value, 'body');
  return value;
}

function tooLarge(): AppError {
  return new AppError('payload_too_large', `the body is larger than ${MAX_BODY_BYTES} bytes`);
}

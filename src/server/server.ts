import { createServer, type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Config } from '../config/index.js';
import { type Database, migrate, openDatabase } from '../db/index.js';
import { apiRoutes, conversionAnswer, createRouter, errorResponse, type JsonResponse, pathOf, redirect, type Redirect, requestIdOf, type Route, type Router, sendJson, viewBeacon } from '../api/index.js';
import { AppError } from '../errors/index.js';
import { createServices, type Services as ApiServices, startBackgroundWork } from '../flows/index.js';
import { createLogger, errorFields, type Logger } from '../runtime/index.js';
import { countOperatorKeys, createApiKey } from '../tenants/index.js';
import { browserSnippet, VIEW_BEACON_LIMITS } from '../tracking/index.js';
import { loadRangesFile, useDatacenterRanges } from '../validation/index.js';
import { healthRoutes } from './health.js';

export { createLogger, errorFields, type LogFields, type Logger } from '../runtime/index.js';
export type { JsonResponse, Method, RequestContext, Route } from '../api/index.js';

export interface ServerOptions {
  /** An already open database. The caller keeps ownership: stop() leaves it open. */
  database?: Database<any>;
  /** Defaults to JSON lines on stdout at config.LOG_LEVEL. */
  logger?: Logger;
  /** Routes served besides the health probes. */
  routes?: readonly Route[];
}

export interface RunningServer {
  /** The port actually bound (useful when config.PORT is 0). */
  readonly port: number;
  readonly url: string;
  /** Stops accepting, lets in-flight requests finish, stops background work, closes the database. Idempotent. */
  stop(): Promise<void>;
  readonly services: ApiServices;
  /** Set when this start found no operator key and made one: show it once, it is not stored. */
  readonly operatorKey?: string;
}

async function bootstrapOperatorKey(database: Database<any>): Promise<string | undefined> {
  if ((await countOperatorKeys(database.db)) > 0) return undefined;
  return (await createApiKey(database.db, { kind: 'operator' }, 'made at first start')).api_key;
}

/** After this long, connections still open at shutdown are cut so stop() always ends. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Opens the database (unless given one), applies pending migrations, then serves HTTP and, once
 * listening, runs the background work. Installs no signal handlers: that is the caller's choice (the CLI).
 */
export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  // An operator's updated data-centre list replaces the shipped one before any traffic is judged; a bad
  // line stops the start with its file and line number.
  if (config.DATACENTER_RANGES_FILE) useDatacenterRanges(loadRangesFile(config.DATACENTER_RANGES_FILE));
  const database = options.database ?? (await openConfiguredDatabase(config));
  const ownsDatabase = options.database === undefined;
  const services = createServices(database, config, logger);
  let http: Server | undefined;
  try {
    const { applied } = await migrate(database.db);
    if (applied.length > 0) logger.info('migrations applied', { versions: applied.map((m) => m.version) });
    const operatorKey = await bootstrapOperatorKey(database);
    const router = createRouter([...healthRoutes, ...apiRoutes(services), ...(options.routes ?? [])]);
    const state: ServerState = { stopping: false, inFlight: 0 };
    http = createHttpServer({
      router,
      database,
      logger,
      state,
      redirect: (request, code) => redirect(services, request, code),
      viewBeacon: (request, body) => viewBeacon(services, request, body),
    });
    await listen(http, config.PORT, config.HOST);
    // In the same turn as `listening`: node serves no connection before this returns, so the click
    // writer is in place for the first request.
    startBackgroundWork(services, { presentConversion: conversionAnswer });
    const server = http;
    const port = (server.address() as AddressInfo).port;
    const url = `http://${displayHost(config.HOST)}:${port}`;
    if (config.PUBLIC_URL === undefined) services.publicUrl = url;
    logger.info('server started', { url, engine: database.engine });
    const stop = once(async () => {
      state.stopping = true;
      await closeHttp(server);
      await handlersDone(state);
      await services.stop();
      if (ownsDatabase) await database.close();
      logger.info('server stopped');
    });
    return { port, url, stop, services, ...(operatorKey ? { operatorKey } : {}) };
  } catch (e) {
    if (http?.listening) await closeHttp(http);
    await services.stop();
    if (ownsDatabase) await database.close();
    throw e;
  }
}

/** A second stop() (a signal during a stop, say) waits for the first instead of closing twice. */
function once(work: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => {
    running ??= work();
    return running;
  };
}

/** The database the configuration names: a PostgreSQL server, or the embedded engine in DATA_DIR. */
export function openConfiguredDatabase(config: Config): Promise<Database<any>> {
  return openDatabase<any>({
    url: config.DATABASE_URL,
    dataDir: config.DATABASE_URL ? undefined : config.DATA_DIR,
    poolSize: config.DB_POOL_SIZE,
  });
}

interface ServerState {
  /** Set by stop(): responses then close their connection instead of keeping it alive. */
  stopping: boolean;
  /** Handlers running, including those whose client hung up (their work must end before the database closes). */
  inFlight: number;
  idle?: (() => void) | undefined;
}

interface Services {
  router: Router;
  database: Database<any>;
  logger: Logger;
  state: ServerState;
  /** The click redirect: where `/c/{code}` goes (synchronously when it can), the click accepted. */
  redirect(request: IncomingMessage, code: string): Redirect | Promise<Redirect>;
  /** The view beacon: the body checked and the view buffered (a promise only while the buffer is full). */
  viewBeacon(request: IncomingMessage, body: Buffer): Promise<void> | undefined;
}

const CLICK_PREFIX = '/c/';

function createHttpServer(services: Services): Server {
  const server = createServer((req, res) => {
    if (!serveClick(req, res, services) && !serveSnippet(req, res) && !serveViewBeacon(req, res, services)) void handleRequest(req, res, services);
  });
  server.on('clientError', answerMalformedRequest);
  return server;
}

async function handleRequest(req: IncomingMessage, res: ServerResponse, services: Services): Promise<void> {
  services.state.inFlight++;
  try {
    await handle(req, res, services);
  } finally {
    if (--services.state.inFlight === 0) services.state.idle?.();
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, services: Services): Promise<void> {
  const { router, database, logger, state } = services;
  const started = performance.now();
  const requestId = requestIdOf(req);
  const method = req.method ?? 'GET';
  const path = pathOf(req.url);
  res.setHeader('x-request-id', requestId);
  res.once('close', () => {
    const fields = { request_id: requestId, method, path, status: res.statusCode, duration_ms: elapsedMs(started) };
    logger.info('request', res.writableFinished ? fields : { ...fields, aborted: true });
  });
  try {
    const match = router.match(method, path);
    const query = new URLSearchParams(queryOf(req.url));
    const setHeader = (name: string, value: string) => void res.setHeader(name, value);
    const response = match.found
      ? await match.route.handle({ request: req, requestId, database, logger, params: match.params, query, setHeader })
      : match.response;
    respond(res, response, state);
  } catch (e) {
    if (!(e instanceof AppError)) logger.error('request failed', { request_id: requestId, ...errorFields(e) });
    if (res.headersSent) res.destroy();
    else respond(res, errorResponse(e), state);
  }
}

/**
 * `GET|HEAD /c/{code}` ahead of the router and the endpoint wrapper: the redirect is the one path
 * served tens of thousands of times a second, so it parses nothing it does not need, answers with raw
 * headers and logs a success only at debug level (every click is recorded in the clicks table
 * anyway). Returns false for what it does not serve (other methods, nested paths): the router answers
 * those as usual.
 */
function serveClick(req: IncomingMessage, res: ServerResponse, services: Services): boolean {
  const url = req.url ?? '/';
  if (!url.startsWith(CLICK_PREFIX) || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  const query = url.indexOf('?');
  let code = query === -1 ? url.slice(CLICK_PREFIX.length) : url.slice(CLICK_PREFIX.length, query);
  if (code === '' || code.includes('/')) return false;
  const started = performance.now();
  const requestId = requestIdOf(req);
  const fail = (e: unknown) => {
    const { logger, state } = services;
    if (!(e instanceof AppError)) logger.error('request failed', { request_id: requestId, ...errorFields(e) });
    res.setHeader('x-request-id', requestId);
    respond(res, errorResponse(e), state);
    logger.info('request', { request_id: requestId, method: req.method, path: pathOf(url), status: res.statusCode, duration_ms: elapsedMs(started) });
  };
  try {
    if (code.includes('%')) code = decodeURIComponent(code);
    const answer = services.redirect(req, code);
    if ('then' in answer) answer.then((a) => sendRedirect(res, a, requestId, services, started), fail);
    else sendRedirect(res, answer, requestId, services, started);
  } catch (e) {
    fail(e instanceof URIError ? new AppError('not_found', 'no such tracking link') : e);
  }
  return true;
}

/**
 * `GET|HEAD /s.js`: the browser snippet for brands' landing pages (src/tracking/snippet.source.js), cached by
 * browsers for an hour and revalidated by ETag. Loadable from any site (it is a public script).
 */
function serveSnippet(req: IncomingMessage, res: ServerResponse): boolean {
  const url = req.url ?? '/';
  if ((url !== SNIPPET_PATH && !url.startsWith(`${SNIPPET_PATH}?`)) || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  const snippet = browserSnippet();
  const common = {
    'content-type': 'text/javascript; charset=utf-8',
    'cache-control': 'public, max-age=3600',
    etag: snippet.etag,
    vary: 'accept-encoding',
    'cross-origin-resource-policy': 'cross-origin',
  };
  if (req.headers['if-none-match'] === snippet.etag) {
    res.writeHead(304, common).end();
    return true;
  }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? snippet.gzip : Buffer.from(snippet.js);
  res.writeHead(200, { ...common, 'content-length': body.length, ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}

const SNIPPET_PATH = '/s.js';

const VIEW_BEACON_PATH = '/b/view';
/** Beacons come from brands' pages on other origins: any may send one (the answer says nothing). */
const BEACON_CORS = { 'access-control-allow-origin': '*' };

/**
 * `POST /b/view` (and its CORS preflight) ahead of the router: navigator.sendBeacon posts JSON as
 * text/plain, which the API's JSON reader refuses, and the beacon is hot like the redirect. The body is
 * read up to its small limit (413 past it), checked (coded 400), buffered, and 202 answered; nothing
 * waits for the database. Other methods fall through to the router (405).
 */
function serveViewBeacon(req: IncomingMessage, res: ServerResponse, services: Services): boolean {
  const url = req.url ?? '/';
  if (url !== VIEW_BEACON_PATH && !url.startsWith(`${VIEW_BEACON_PATH}?`)) return false;
  if (req.method === 'OPTIONS') {
    res.writeHead(204, {
      ...BEACON_CORS,
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'content-type',
      'access-control-max-age': '86400',
      'content-length': '0',
    });
    res.end();
    return true;
  }
  if (req.method !== 'POST') return false;
  void handleBeacon(req, res, services);
  return true;
}

async function handleBeacon(req: IncomingMessage, res: ServerResponse, services: Services): Promise<void> {
  const { logger, state } = services;
  const started = performance.now();
  const requestId = requestIdOf(req);
  state.inFlight++;
  try {
    const type = String(req.headers['content-type'] ?? '');
    if (type !== '' && !/^(text\/plain|application\/json)\b/i.test(type)) {
      throw new AppError('unsupported_media_type', 'send the beacon as JSON, with content-type text/plain or application/json');
    }
    const body = await readBounded(req, VIEW_BEACON_LIMITS.body_bytes_max);
    const admitted = services.viewBeacon(req, body);
    if (admitted) await admitted;
    res.setHeader('x-request-id', requestId);
    respond(res, { status: 202, body: undefined, headers: BEACON_CORS }, state);
    logger.debug('request', { request_id: requestId, method: 'POST', path: VIEW_BEACON_PATH, status: 202, duration_ms: elapsedMs(started) });
  } catch (e) {
    if (!(e instanceof AppError)) logger.error('request failed', { request_id: requestId, ...errorFields(e) });
    if (res.headersSent) res.destroy();
    else {
      res.setHeader('x-request-id', requestId);
      // A body cut short: the rest is not read, so the connection cannot be reused.
      if (e instanceof AppError && e.code === 'payload_too_large') res.setHeader('connection', 'close');
      respond(res, errorResponse(e, undefined, BEACON_CORS), state);
    }
    logger.info('request', { request_id: requestId, method: 'POST', path: VIEW_BEACON_PATH, status: res.statusCode, duration_ms: elapsedMs(started) });
  } finally {
    if (--state.inFlight === 0) state.idle?.();
  }
}

/** The request body, refused (payload_too_large) as soon as it is longer than `max` bytes. */
async function readBounded(req: IncomingMessage, max: number): Promise<Buffer> {
  if (Number(req.headers['content-length'] ?? 0) > max) throw new AppError('payload_too_large', `a view beacon is at most ${max} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new AppError('payload_too_large', `a view beacon is at most ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}


function sendRedirect(res: ServerResponse, answer: Redirect, requestId: string, services: Services, started: number): void {
  const headers = ['location', answer.location, 'content-length', '0', 'cache-control', 'no-store', 'x-request-id', requestId];
  if (answer.setCookie !== null) headers.push('set-cookie', answer.setCookie);
  if (services.state.stopping) headers.push('connection', 'close');
  res.writeHead(302, headers);
  res.end();
  services.logger.debug('request', { request_id: requestId, method: res.req.method, path: CLICK_PREFIX, status: 302, duration_ms: elapsedMs(started) });
}

function respond(res: ServerResponse, response: JsonResponse, state: { stopping: boolean }): void {
  // Draining: a keep-alive socket must not outlive the request in flight when stop() was called.
  if (state.stopping) res.setHeader('connection', 'close');
  sendJson(res, response);
}

function queryOf(url: string | undefined): string {
  const i = url?.indexOf('?') ?? -1;
  return i >= 0 ? (url as string).slice(i + 1) : '';
}

function elapsedMs(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}

/** A request node:http could not parse is the client's mistake: 4xx in our error shape, never a 500. */
function answerMalformedRequest(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify({ error: { code: 'invalid_request', message: 'malformed HTTP request' } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(listenError(e, port, host));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** A taken or privileged port is a configuration problem the operator can fix: say which setting. */
function listenError(e: NodeJS.ErrnoException, port: number, host: string): Error {
  if (e.code === 'EADDRINUSE') {
    return new AppError('invalid_config', `port ${port} on ${host} is already in use; choose another with PORT or --port`);
  }
  if (e.code === 'EACCES') {
    return new AppError('invalid_config', `no permission to listen on port ${port}; choose one above 1023 with PORT or --port`);
  }
  if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') {
    return new AppError('invalid_config', `cannot listen on HOST ${host}: no such local address`);
  }
  return e;
}

/**
 * A handler whose client hung up outlives its connection, so server.close() does not wait for it:
 * wait here (bounded by the grace period) so its transaction ends before the database closes.
 */
function handlersDone(state: ServerState): Promise<void> {
  if (state.inFlight === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, SHUTDOWN_GRACE_MS);
    function done() {
      clearTimeout(timer);
      state.idle = undefined;
      resolve();
    }
    state.idle = done;
  });
}

/** Stops accepting, closes idle keep-alive sockets, and waits for in-flight requests (bounded by the grace period). */
function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

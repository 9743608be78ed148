import { connect } from 'node:net';
import {
  type DatabaseConnection,
  type Driver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  sql,
} from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { loadConfig } from '../config/index.js';
import { advanceClock, type Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { createAccounts, createTransfers, lookupHolds, TransferFlags } from '../ledger/index.js';
import { startHoldExpiry } from '../flows/jobs/hold-expiry.js';
import { createLogger, type Logger, type Route, type RunningServer, startServer } from './index.js';

type LogLine = { time: string; level: string; msg: string } & Record<string, unknown>;

function captureLogs(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { logger: createLogger('debug', (line) => lines.push(JSON.parse(line) as LogLine)), lines };
}

/** A test config: any free port, a fast sweeper. */
const config = { ...loadConfig({ HOST: '127.0.0.1', HOLD_EXPIRY_INTERVAL_MS: '100' }), PORT: 0 };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}

/** Routes only the tests serve: a failure, an expected error and a slow request. */
const testRoutes: Route[] = [
  {
    method: 'GET',
    path: '/boom',
    handle: async () => {
      throw new Error('secret connection string postgres://admin:hunter2@db');
    },
  },
  {
    method: 'GET',
    path: '/conflict',
    handle: async () => {
      throw new AppError('conflict', 'already done');
    },
  },
  {
    method: 'GET',
    path: '/slow',
    handle: async () => {
      await sleep(400);
      return { status: 200, body: { slow: true } };
    },
  },
];

let t: TestDatabase;
let server: RunningServer;
let logs: ReturnType<typeof captureLogs>;

beforeAll(async () => {
  t = await openTestDatabase();
  logs = captureLogs();
  server = await startServer(config, { database: t, logger: logs.logger, routes: testRoutes });
});

afterAll(async () => {
  await server?.stop();
  await t?.close();
});

describe('probes', () => {
  it('GET /healthz answers 200 {"status":"ok"} as JSON', async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 {"status":"ready"} once migrated', async () => {
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready' });
  });

  it('GET /readyz answers 503 while a migration is pending', async () => {
    const removed = await sql<{ version: number; name: string; checksum: string }>`
      delete from schema_migrations where version = (select max(version) from schema_migrations)
      returning version, name, checksum`.execute(t.db);
    const row = removed.rows[0];
    expect(row).toBeDefined();
    try {
      const response = await fetch(`${server.url}/readyz`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('migrations_pending');
      expect(body.error.message).toContain(`migrations pending: ${row?.version}`);
    } finally {
      await sql`insert into schema_migrations (version, name, checksum)
        values (${row?.version}, ${row?.name}, ${row?.checksum})`.execute(t.db);
    }
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  it('HEAD /healthz answers 200 without a body', async () => {
    const response = await fetch(`${server.url}/healthz`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });

  it('routes on the path alone, ignoring the query string', async () => {
    expect((await fetch(`${server.url}/healthz?verbose=1`)).status).toBe(200);
  });
});

describe('errors', () => {
  it.each([
    ['/nope', 404, 'not_found'],
    ['/healthz/', 404, 'not_found'],
    ['/conflict', 409, 'conflict'],
  ])('GET %s answers %i with code %s', async (path, status, code) => {
    const response = await fetch(`${server.url}${path}`);
    expect(response.status).toBe(status);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe(code);
    expect(typeof body.error.message).toBe('string');
  });

  it('a wrong method answers 405 method_not_allowed with an Allow header', async () => {
    const response = await fetch(`${server.url}/healthz`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
  });

  it('an unexpected exception answers 500 without its details, and is logged', async () => {
    const response = await fetch(`${server.url}/boom`, { headers: { 'x-request-id': 'boom-1' } });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'internal', message: 'internal error' } });
    expect(text).not.toContain('hunter2');
    const logged = logs.lines.find((l) => l.msg === 'request failed' && l.request_id === 'boom-1');
    expect(logged).toMatchObject({ level: 'error', error: expect.stringContaining('secret') });
  });

  it('a request node:http cannot parse answers 400 in the error shape', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1', () => socket.write('NONSENSE\r\n\r\n'));
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk.toString();
      });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('{"error":{"code":"invalid_request","message":"malformed HTTP request"}}');
  });
});

describe('request log', () => {
  it('writes one JSON line per request with its id, method, path, status and duration', async () => {
    const response = await fetch(`${server.url}/nope?token=secret`, { headers: { 'x-request-id': 'abc-123' } });
    expect(response.headers.get('x-request-id')).toBe('abc-123');
    await response.text();
    await eventually(async () => logs.lines.some((l) => l.request_id === 'abc-123'));
    const lines = logs.lines.filter((l) => l.request_id === 'abc-123');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'request', method: 'GET', path: '/nope', status: 404 });
    expect(typeof lines[0]?.duration_ms).toBe('number');
    expect(Number.isNaN(Date.parse(lines[0]?.time ?? ''))).toBe(false);
    expect(JSON.stringify(lines[0])).not.toContain('secret');
  });

  it.each([
    ['absent', undefined],
    ['too long', 'x'.repeat(200)],
    ['with spaces', 'a b'],
  ])('generates a request id when the client sent one %s', async (_case, given) => {
    const response = await fetch(`${server.url}/healthz`, given ? { headers: { 'x-request-id': given } } : {});
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('hold expiry', () => {
  it('expires due holds in the background', async () => {
    const accounts = await createAccounts(t.db, [
      { id: 'srv.a', currency: 'USD', code: 1 },
      { id: 'srv.b', currency: 'USD', code: 1 },
    ]);
    expect(accounts.map((a) => a.result)).toEqual(['ok', 'ok']);
    const [hold] = await createTransfers(t.db, [
      { id: 'srv.h', debit_account_id: 'srv.a', credit_account_id: 'srv.b', amount: 10n, currency: 'USD', code: 1, flags: TransferFlags.pending, timeout: 1 },
    ]);
    expect(hold?.result).toBe('ok');
    await advanceClock(t.db, 2);
    await eventually(async () => (await lookupHolds(t.db, ['srv.h']))[0]?.status === 'expired');
    expect(logs.lines.some((l) => l.msg === 'holds expired' && Number(l.count) >= 1)).toBe(true);
  });
});

describe('startHoldExpiry', () => {
  it('never overlaps its runs, and logs failures without stopping', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const { logger, lines } = captureLogs();
    const expiry = startHoldExpiry({
      db: undefined as unknown as Kysely<any>,
      intervalMs: 1,
      logger,
      expire: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs++;
        await sleep(20);
        active--;
        if (runs % 2 === 0) throw new Error('database went away');
        return 0;
      },
    });
    await eventually(async () => runs >= 6);
    await expiry.stop();
    const runsAtStop = runs;
    await sleep(50);
    expect(maxActive).toBe(1);
    expect(runs).toBe(runsAtStop);
    expect(lines.filter((l) => l.msg === 'hold expiry failed').length).toBeGreaterThanOrEqual(3);
  });

  it('runs again at once after a full batch', async () => {
    const batches = [1000, 1000, 3];
    const { logger } = captureLogs();
    const started = Date.now();
    const expiry = startHoldExpiry({
      db: undefined as unknown as Kysely<any>,
      intervalMs: 60_000,
      logger,
      expire: async () => batches.shift() ?? 0,
    });
    await eventually(async () => batches.length === 0, 2000);
    await expiry.stop();
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

/** A database whose every query hangs: a lost server, or a lock held forever. */
function hangingDatabase(): Database<any> {
  const driver: Driver = {
    init: async () => {},
    acquireConnection: () => new Promise<DatabaseConnection>(() => {}),
    beginTransaction: async () => {},
    commitTransaction: async () => {},
    rollbackTransaction: async () => {},
    releaseConnection: async () => {},
    destroy: async () => {},
  };
  const db = new Kysely<any>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => driver,
      createIntrospector: (k) => new PostgresIntrospector(k),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
  return { db, engine: 'postgres', close: () => db.destroy() };
}

describe('an unavailable database', () => {
  it('GET /readyz answers 503 database_unavailable within its timeout, and /healthz still 200', async () => {
    let broken = false;
    const hanging = hangingDatabase();
    // Healthy while starting (migrations run), then every query hangs.
    const flaky: Database<any> = {
      get db() {
        return broken ? hanging.db : t.db;
      },
      engine: t.engine,
      close: async () => {},
    };
    const { logger, lines } = captureLogs();
    const other = await startServer(config, { database: flaky, logger });
    try {
      broken = true;
      const started = Date.now();
      const response = await fetch(`${other.url}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        error: { code: 'database_unavailable', message: 'the database is not answering' },
      });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(lines.some((l) => l.msg === 'readiness probe failed' && l.level === 'warn')).toBe(true);
      expect((await fetch(`${other.url}/healthz`)).status).toBe(200);
    } finally {
      await other.stop();
    }
  });
});

describe('listening', () => {
  it('refuses a port already in use with an invalid_config error', async () => {
    const { logger } = captureLogs();
    const attempt = startServer({ ...config, PORT: server.port }, { database: t, logger });
    await expect(attempt).rejects.toMatchObject({ code: 'invalid_config', message: expect.stringContaining('already in use') });
  });
});

describe('stop()', () => {
  it('finishes requests in flight, then refuses connections and leaves a given database open', async () => {
    const { logger, lines } = captureLogs();
    const other = await startServer(config, { database: t, logger, routes: testRoutes });
    // A keep-alive connection left idle must not hold up the stop.
    await (await fetch(`${other.url}/healthz`)).text();
    const inFlight = fetch(`${other.url}/slow`);
    await sleep(100);
    const stopped = other.stop();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ slow: true });
    await stopped;
    await expect(fetch(`${other.url}/healthz`)).rejects.toThrow();
    expect(lines.at(-1)?.msg).toBe('server stopped');
    // Stopping twice is harmless.
    await other.stop();
    const alive = await sql<{ one: number }>`select 1 as one`.execute(t.db);
    expect(alive.rows[0]?.one).toBe(1);
  });
});

import type { Services } from '../../src/flows/index.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger, startServer } from '../../src/server/index.js';
import { ResponseContract } from './contract.js';
import { openTestDatabase, type TestDatabase } from './database.js';

/**
 * A real Earnest server on a free port over a fresh test database, and a small JSON client for it.
 * Every answer the client receives is checked against the OpenAPI document the server serves
 * (./contract.ts): an answer that breaks it fails the call, and so the test that made it.
 */
export interface TestApi {
  url: string;
  operatorKey: string;
  database: TestDatabase;
  services: Services;
  call(method: string, path: string, options?: { key?: string; body?: unknown; headers?: Record<string, string> }): Promise<ApiResponse>;
  close(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
}

export async function startTestApi(env: Record<string, string> = {}): Promise<TestApi> {
  const database = await openTestDatabase();
  const config = { ...loadConfig({ HOST: '127.0.0.1', LOG_LEVEL: 'error', ...env }), PORT: 0 };
  const server = await startServer(config, { database: { db: database.db, engine: database.engine, close: async () => {} }, logger: createLogger('error') });
  if (!server.operatorKey) throw new Error('a fresh database must give an operator key');
  // The document as the server serves it, read once before any test request.
  const contract = new ResponseContract((await (await fetch(`${server.url}/openapi.json`)).json()) as Record<string, any>);
  return {
    url: server.url,
    operatorKey: server.operatorKey,
    database,
    services: server.services,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      if (options.key) headers.authorization = `Bearer ${options.key}`;
      if (options.body !== undefined) headers['content-type'] ??= 'application/json';
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers,
        redirect: 'manual',
        ...(options.body !== undefined ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
      });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text
      }
      const broken = contract.check(method, path, response.status, response.headers, body, text !== '');
      if (broken) throw new Error(`the answer breaks the OpenAPI document: ${broken}`);
      return { status: response.status, headers: response.headers, body };
    },
    async close() {
      await server.stop();
      await database.close();
    },
  };
}

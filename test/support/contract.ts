import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/**
 * The OpenAPI document as a contract in the tests: every answer a test receives from the server is
 * checked against the document's schema for its operation and status (the success schema, or the
 * error schema for a 4xx/5xx), with a real JSON Schema 2020-12 validator. A mismatch fails the test
 * that made the request, naming the operation, the status and where in the body it is wrong.
 */

type Json = Record<string, any>;

interface Operation {
  method: string;
  template: string;
  operationId: string;
  pattern: RegExp;
  params: number;
  spec: Json;
}

/** Operations seen answering without a documented response schema (checked statically in src/api/openapi.test.ts). */
export const unchecked = new Set<string>();

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export class ResponseContract {
  private readonly operations: Operation[] = [];
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly ajv: Ajv2020;

  constructor(readonly document: Json) {
    // OpenAPI keywords (example, x-…) are not JSON Schema's: not strict about unknown keywords.
    this.ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
    // Zod writes a prefix as `format: "starts_with"` beside the `pattern` that checks it.
    this.ajv.addFormat('starts_with', true);
    for (const [template, item] of Object.entries<Json>(document.paths ?? {})) {
      for (const [method, spec] of Object.entries<Json>(item)) {
        if (!['get', 'post', 'put', 'patch', 'delete', 'head'].includes(method)) continue;
        const source = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
        this.operations.push({
          method: method.toUpperCase(),
          template,
          operationId: spec.operationId ?? `${method} ${template}`,
          pattern: new RegExp(`^${source}$`),
          params: (template.match(/\{/g) ?? []).length,
          spec,
        });
      }
    }
    // A literal segment wins over a parameter (`/v1/me/balance` before a `/v1/me/{x}`).
    this.operations.sort((a, b) => a.params - b.params);
  }

  /** The documented operation a request reached, or undefined (health checks, the snippet, unknown paths). */
  operationFor(method: string, url: string): Operation | undefined {
    const path = url.split('?')[0] as string;
    const wanted = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
    return this.operations.find((o) => o.method === wanted && o.pattern.test(path));
  }

  /** Null when the answer keeps the document's promise, else what is wrong, for a person. */
  check(method: string, url: string, status: number, headers: Headers, body: unknown, hasBody: boolean): string | null {
    const operation = this.operationFor(method, url);
    if (!operation) return null;
    const where = `${method.toUpperCase()} ${url} (operation ${operation.operationId}, ${operation.template}) answered ${status}`;
    const responses: Json = operation.spec.responses ?? {};
    const documented: Json | undefined = responses[String(status)] ?? (status >= 400 ? responses.default : undefined);
    if (!documented) return `${where}, a status the document does not list (it lists ${Object.keys(responses).join(', ')})`;
    const missing = Object.entries<Json>(documented.headers ?? {})
      .filter(([name, h]) => h.required && !headers.has(name))
      .map(([name]) => name);
    if (missing.length > 0) return `${where} without the documented header(s) ${missing.join(', ')}`;
    const schema = documented.content?.['application/json']?.schema;
    if (method.toUpperCase() === 'HEAD') return null;
    if (!schema) {
      if (!hasBody) return null;
      if (status < 400) unchecked.add(`${operation.method} ${operation.template}`);
      return status >= 400 ? `${where} with a body the document does not describe` : null;
    }
    if (!hasBody) return `${where} without a body; the document promises one`;
    const validate = this.validator(`${operation.method} ${operation.template} ${status}`, schema);
    if (validate(body)) return null;
    return `${where}, not as documented:\n${describe(validate.errors ?? [])}\nbody: ${JSON.stringify(body).slice(0, 2000)}`;
  }

  private validator(key: string, schema: Json): ValidateFunction {
    let v = this.validators.get(key);
    if (!v) {
      // `#/components/…` references resolve against the compiled schema's root: carry the components along.
      v = this.ajv.compile({ ...schema, components: this.document.components ?? {} });
      this.validators.set(key, v);
    }
    return v;
  }
}

function describe(errors: ErrorObject[]): string {
  return errors
    .slice(0, 10)
    .map((e) => {
      const at = e.instancePath === '' ? '(the body)' : e.instancePath;
      const extra = e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : '';
      return `  at ${at}: ${e.message}${extra}`;
    })
    .join('\n');
}

import fc from 'fast-check';

/**
 * Request bodies for the API fuzz suite: valid ones generated from each endpoint's own schema (its
 * JSON Schema, as the OpenAPI document shows it), then mutated the ways real clients and attackers
 * get things wrong — wrong types, missing and extra fields, odd strings and numbers, deep nesting.
 */
export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  default?: unknown;
  additionalProperties?: boolean | JsonSchema;
};

/** Strings that have broken servers: control characters, lone surrogates, NUL, odd scripts, SQL and JSON text. */
export const ODD_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  '\ud83d',
  '😀',
  '\u202e\u202dright-to-left',
  '\u001b[31m',
  '\u007f',
  '\r\n',
  '\t',
  "'; drop table campaigns; --",
  '"}]',
  '%00',
  '%FF',
  '../../etc/passwd',
  'null',
  'undefined',
  'NaN',
  '-1',
  '0',
  '1e309',
  '99999999999999999999999999999.99',
  '0.0000000001',
  '12.345',
  '-0.01',
  ' 12.50 ',
  '１２', // full-width digits
  'USD',
  'usd',
  'XXX',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '2026-02-30T00:00:00Z',
  '1970-01-01T00:00:00Z',
  '2026-12-04T14:25:17',
  'cmp_00000000000000000000000000',
  'x'.repeat(300),
  'é'.repeat(5000),
];

export const ODD_NUMBERS = [0, -0, -1, 1, 0.5, -0.5, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 2 ** 53 + 2, 1e308, -1e308, 1e-308, 123456789012345678, 2 ** 63];

export const odd: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...ODD_STRINGS),
  fc.constantFrom(...ODD_NUMBERS),
  fc.constantFrom(null, true, false, [], {}, [null], { '': null }, { __proto__: 1 }, { constructor: { prototype: 1 } }),
  fc.string({ maxLength: 20, unit: 'binary' }),
  fc.integer(),
  fc.double(),
  fc.constant('y'.repeat(70_000)),
);

function typeOf(s: JsonSchema): string | undefined {
  return Array.isArray(s.type) ? s.type[0] : s.type;
}

/** A value valid (as far as JSON Schema can say) for `s`. */
export function valid(s: JsonSchema): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map(valid));
  if (s.allOf) return valid(Object.assign({}, ...s.allOf));
  if (Array.isArray(s.type) && s.type.includes('null')) {
    return fc.oneof(fc.constant(null), valid({ ...s, type: s.type.filter((t) => t !== 'null')[0] as string }));
  }
  switch (typeOf(s)) {
    case 'string':
      return validString(s);
    case 'integer':
      return fc.integer({ min: Math.ceil(s.minimum ?? s.exclusiveMinimum ?? -1e6), max: Math.floor(Math.min(s.maximum ?? s.exclusiveMaximum ?? 1e6, Number.MAX_SAFE_INTEGER)) });
    case 'number':
      return fc.double({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(valid(s.items ?? {}), { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 5, 5) });
    case 'object':
      return validObject(s);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function validString(s: JsonSchema): fc.Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = Math.min(s.maxLength ?? 40, 80);
  switch (s.format) {
    case 'email':
      return fc.emailAddress().filter((e) => e.length <= (s.maxLength ?? 320));
    case 'uri':
      return fc.constantFrom('https://shop.example/landing', 'https://example.com/a?b=c#d', 'http://localhost:3000/x');
    case 'date-time':
      return fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2035-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
    case 'ipv4':
      return fc.ipV4();
    case 'ipv6':
      return fc.ipV6();
    default:
      break;
  }
  if (s.pattern) return fc.stringMatching(new RegExp(s.pattern)).filter((x) => x.length >= min && x.length <= (s.maxLength ?? Infinity));
  return fc.string({ minLength: min, maxLength: Math.max(min, max) });
}

function validObject(s: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
  const props = s.properties ?? {};
  const required = new Set(s.required ?? []);
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [k, v] of Object.entries(props)) record[k] = valid(v);
  return fc.record(record, { requiredKeys: [...required].filter((k) => k in props) });
}

/** Characters that a database refuses, or that break JSON, placed inside an otherwise good string. */
export const POISON_CHARACTERS = ['\u0000', '\ud800', '\udfff', '\udfff\ud800', '\u001b', '\u007f', '\u0008'];

/** Times outside what PostgreSQL stores or what a sane client sends, in RFC 3339 form. */
export const ODD_TIMES = ['0000-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '9999-12-31T23:59:59Z', '2026-02-29T00:00:00Z', '2026-12-04T14:25:17.123456789Z', '+275760-09-13T00:00:00Z'];

/** One way to get a body wrong, applied at a random path of a valid body. */
export type Mutation =
  | { kind: 'poison'; at: number; position: number; character: string }
  | { kind: 'time'; at: number; value: string }
  | { kind: 'number'; at: number; value: number }
  | { kind: 'replace'; at: number; value: unknown }
  | { kind: 'drop'; at: number }
  | { kind: 'extra'; at: number; name: string; value: unknown }
  | { kind: 'nest'; at: number; depth: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('poison' as const), at: fc.nat(), position: fc.nat(), character: fc.constantFrom(...POISON_CHARACTERS) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('time' as const), at: fc.nat(), value: fc.constantFrom(...ODD_TIMES) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('number' as const), at: fc.nat(), value: fc.constantFrom(...ODD_NUMBERS) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: odd }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('extra' as const), at: fc.nat(), name: fc.constantFrom('extra', '__proto__', 'constructor', '', '\u0000'), value: odd }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('nest' as const), at: fc.nat(), depth: fc.integer({ min: 10, max: 200 }) }) },
);

/** Every place a value sits in `value` (the root included), parent and key, depth first. */
function slots(value: unknown): Array<{ parent: Record<string, unknown> | unknown[] | null; key: string | number | null }> {
  const out: Array<{ parent: Record<string, unknown> | unknown[] | null; key: string | number | null }> = [{ parent: null, key: null }];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach((item, i) => (out.push({ parent: v, key: i }), walk(item)));
    else if (v && typeof v === 'object') for (const [k, item] of Object.entries(v)) out.push({ parent: v as Record<string, unknown>, key: k }), walk(item);
  };
  walk(value);
  return out;
}

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

/** The body with the mutation applied (a deep copy; the root may be replaced). */
export function mutate(body: unknown, m: Mutation): unknown {
  const copy = body === undefined ? undefined : structuredClone(body);
  const all = slots(copy);
  const slot = all[m.at % all.length] as (typeof all)[number];
  const set = (value: unknown) => {
    if (slot.parent === null) return value;
    (slot.parent as Record<string | number, unknown>)[slot.key as string | number] = value;
    return copy;
  };
  const ofType = (type: string) => {
    const matching = all.filter((x) => x.parent !== null && typeof (x.parent as Record<string | number, unknown>)[x.key as string | number] === type);
    return matching.length ? (matching[m.at % matching.length] as (typeof all)[number]) : undefined;
  };
  const setAt = (target: (typeof all)[number] | undefined, value: (old: unknown) => unknown) => {
    if (!target || target.parent === null) return copy;
    const parent = target.parent as Record<string | number, unknown>;
    parent[target.key as string | number] = value(parent[target.key as string | number]);
    return copy;
  };
  switch (m.kind) {
    case 'poison':
      return setAt(ofType('string'), (old) => {
        const text = String(old);
        const at = m.position % (text.length + 1);
        return `${text.slice(0, at)}${m.character}${text.slice(at)}`;
      });
    case 'time':
      return setAt(ofType('string') && all.find((x) => x.parent !== null && /^\d{4}-\d\d-\d\dT/.test(String((x.parent as Record<string | number, unknown>)[x.key as string | number]))), () => m.value);
    case 'number':
      return setAt(ofType('number'), () => m.value);
    case 'replace':
      return set(m.value);
    case 'nest':
      return set(nested(m.depth));
    case 'drop':
      if (slot.parent === null) return undefined;
      if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
      else delete slot.parent[slot.key as string];
      return copy;
    case 'extra': {
      const objects = all.map((s) => (s.parent === null ? copy : (s.parent as Record<string, unknown>)[s.key as string])).filter((v) => v && typeof v === 'object' && !Array.isArray(v));
      const target = objects[m.at % Math.max(1, objects.length)] as Record<string, unknown> | undefined;
      if (!target) return copy;
      Object.defineProperty(target, m.name, { value: m.value, enumerable: true, configurable: true, writable: true });
      return copy;
    }
  }
}

/** Whole-request mistakes: not JSON, the wrong content type, too large, or a non-object. */
export type RawBody = { text: string | Buffer; contentType: string | null };

export const rawBody: fc.Arbitrary<RawBody> = fc.oneof(
  fc.constantFrom<RawBody>(
    { text: '{', contentType: 'application/json' },
    { text: '{"a":1,}', contentType: 'application/json' },
    { text: "{'a':1}", contentType: 'application/json' },
    { text: 'null', contentType: 'application/json' },
    { text: '[]', contentType: 'application/json' },
    { text: '"string"', contentType: 'application/json' },
    { text: '12', contentType: 'application/json' },
    { text: '{"a":1}', contentType: 'text/plain' },
    { text: 'a=1&b=2', contentType: 'application/x-www-form-urlencoded' },
    { text: '{"a":1}', contentType: null },
    { text: '{"a":1}', contentType: 'application/json; charset=latin1' },
    { text: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), contentType: 'application/json' },
    { text: `{"a":"${'z'.repeat(70_000)}"}`, contentType: 'application/json' },
    { text: `${'['.repeat(5000)}${']'.repeat(5000)}`, contentType: 'application/json' },
    { text: '\ufeff{}', contentType: 'application/json' },
  ),
  fc.string({ maxLength: 50, unit: 'binary' }).map((text) => ({ text, contentType: 'application/json' })),
);

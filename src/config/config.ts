import { z } from 'zod';
import { AppError } from '../errors/index.js';

/**
 * Configuration is read once, here, from environment variables; nothing else in the code base reads
 * process.env. Every variable has a default except DATABASE_URL, whose absence selects the embedded
 * engine.
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  /** TCP port the HTTP server listens on. */
  readonly PORT: number;
  /** Interface the HTTP server binds to. */
  readonly HOST: string;
  /**
   * Where people and browsers reach this server (https://track.example.com), used for full tracking
   * URLs and the API document's `servers`; undefined means http://localhost:<PORT> (see publicUrl).
   */
  readonly PUBLIC_URL: string | undefined;
  /** A PostgreSQL server (postgres:// or postgresql://); undefined means the embedded engine. */
  readonly DATABASE_URL: string | undefined;
  /** The embedded engine's data directory (ignored with DATABASE_URL). */
  readonly DATA_DIR: string;
  readonly LOG_LEVEL: LogLevel;
  /** How often the server expires ledger holds that are due. */
  readonly HOLD_EXPIRY_INTERVAL_MS: number;
  /** Connection pool size for a PostgreSQL server. */
  readonly DB_POOL_SIZE: number;
  /** Requests per minute per API key (0: no limit). */
  readonly RATE_LIMIT_API_PER_MIN: number;
  /** Conversions per minute per brand key (0: no limit). */
  readonly RATE_LIMIT_CONVERSIONS_PER_MIN: number;
  /** Tracking-link clicks per minute per client IP (0: no limit). */
  readonly RATE_LIMIT_CLICKS_PER_MIN: number;
  /** Take the client IP from X-Forwarded-For (only behind a proxy you run). */
  readonly TRUST_PROXY: boolean;
  /** A request header carrying the visitor's ISO country, set by a trusted CDN or proxy (e.g. cf-ipcountry). */
  readonly COUNTRY_HEADER: string | undefined;
  /** Days the redirect's first-party visitor cookie lives (0: no cookie). */
  readonly VISITOR_COOKIE_DAYS: number;
  /** An updated list of data-centre ranges (`<cidr> <provider>` lines) instead of the shipped one. */
  readonly DATACENTER_RANGES_FILE: string | undefined;
  /** How often results past their hold period are settled and campaigns past their end are closed. */
  readonly SETTLE_INTERVAL_MS: number;
  /** How often clicks accepted by the redirect are written to the database. */
  readonly CLICK_FLUSH_INTERVAL_MS: number;
  /** Creator payable balances at or above this (minor units) are paid out. */
  readonly PAYOUT_MINIMUM_MINOR: number;
  /** Payout provider: manual (CSV files in PAYOUT_DIR) or test. */
  readonly PAYOUT_PROVIDER: 'manual' | 'test';
  readonly PAYOUT_DIR: string;
  /** How often payouts are batched (0: only on demand). */
  readonly PAYOUT_INTERVAL_MS: number;
  /** How often data-driven attribution models are refitted per campaign (0: only on demand). */
  readonly ATTRIBUTION_FIT_INTERVAL_MS: number;
}

export type ConfigVariable = keyof Config;

/** A value given some other way than the environment (a CLI flag), named in errors by its source. */
export type ConfigOverrides = Partial<Record<ConfigVariable, { value: string | undefined; source: string }>>;

interface VariableSpec {
  /** Parses a present value; an absent one takes `default`, parsed the same way. */
  schema: z.ZodType;
  default?: string;
  /** Completes "<NAME> must be …" in the error message. */
  expected: string;
  /** One line for `earnest help`. */
  description: string;
  /** Hides secrets when echoing a bad value. */
  show?: (value: string) => string;
}

const POSTGRES_PROTOCOLS = new Set(['postgres:', 'postgresql:']);

function integerFrom(min: number, max: number): Pick<VariableSpec, 'schema' | 'expected'> {
  return {
    // Digits only: Number() would accept "1e3", "0x10" and " 12 ", which are more likely typos than intent.
    schema: z
      .string()
      .regex(/^\d{1,10}$/)
      .transform(Number)
      .pipe(z.number().int().min(min).max(max)),
    expected: `an integer from ${min} to ${max}`,
  };
}

function isPublicUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && url.search === '' && url.hash === '' && url.username === '';
  } catch {
    return false;
  }
}

function isPostgresUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return POSTGRES_PROTOCOLS.has(url.protocol) && url.hostname !== '';
  } catch {
    return false;
  }
}

/** Shows where a bad URL points, never its credentials. */
function withoutCredentials(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^@/]*@/i, (_match, scheme: string | undefined) => `${scheme ?? ''}***@`);
}

const VARIABLES: Record<ConfigVariable, VariableSpec> = {
  PORT: { ...integerFrom(1, 65535), default: '4000', description: 'HTTP port' },
  HOST: {
    schema: z.string().min(1),
    default: '0.0.0.0',
    expected: 'a host name or IP address',
    description: 'interface the HTTP server binds to',
  },
  PUBLIC_URL: {
    schema: z
      .string()
      .max(500)
      .refine(isPublicUrl)
      .transform((v) => v.replace(/\/+$/, ''))
      .optional(),
    expected: 'an http:// or https:// URL without query, fragment or credentials, such as https://track.example.com',
    description: 'public base URL of this server, for full tracking links (default http://localhost:PORT)',
  },
  DATABASE_URL: {
    schema: z.string().refine(isPostgresUrl).optional(),
    expected: 'a postgres:// or postgresql:// URL with a host',
    description: 'a PostgreSQL server to use instead of the embedded engine',
    show: withoutCredentials,
  },
  DATA_DIR: {
    schema: z.string().min(1),
    default: './data',
    expected: 'a directory path',
    description: "the embedded engine's data directory",
  },
  LOG_LEVEL: {
    schema: z.enum(LOG_LEVELS),
    default: 'info',
    expected: `one of ${LOG_LEVELS.join(', ')}`,
    description: LOG_LEVELS.join(' | '),
  },
  HOLD_EXPIRY_INTERVAL_MS: {
    ...integerFrom(100, 3_600_000),
    default: '5000',
    description: 'how often the server expires ledger holds that are due',
  },
  DB_POOL_SIZE: { ...integerFrom(1, 200), default: '10', description: 'PostgreSQL server connection pool size' },
  RATE_LIMIT_API_PER_MIN: { ...integerFrom(0, 10_000_000), default: '1200', description: 'API requests per minute per key (0: off)' },
  RATE_LIMIT_CONVERSIONS_PER_MIN: {
    ...integerFrom(0, 10_000_000),
    default: '60000',
    description: 'conversions per minute per brand key (0: off)',
  },
  RATE_LIMIT_CLICKS_PER_MIN: {
    ...integerFrom(0, 10_000_000),
    default: '600',
    description: 'tracking-link clicks per minute per client IP (0: off)',
  },
  TRUST_PROXY: {
    schema: z.enum(['true', 'false']).transform((v) => v === 'true'),
    default: 'false',
    expected: 'true or false',
    description: 'take the client IP from X-Forwarded-For (only behind your own proxy)',
  },
  COUNTRY_HEADER: {
    schema: z.string().regex(/^[a-z0-9-]{1,64}$/).optional(),
    expected: 'a lower-case header name such as cf-ipcountry',
    description: "a trusted request header carrying the visitor's country",
  },
  VISITOR_COOKIE_DAYS: {
    ...integerFrom(0, 400),
    default: '90',
    description: 'days the tracking domain keeps a visitor id cookie, so a visitor\'s clicks form one journey (0: none)',
  },
  DATACENTER_RANGES_FILE: {
    schema: z.string().min(1).optional(),
    expected: 'a file path',
    description: 'an updated list of data-centre IP ranges (`<cidr> <provider>` lines) instead of the shipped one',
  },
  SETTLE_INTERVAL_MS: {
    ...integerFrom(100, 86_400_000),
    default: '10000',
    description: 'how often due results are settled and ended campaigns closed',
  },
  CLICK_FLUSH_INTERVAL_MS: { ...integerFrom(5, 60_000), default: '50', description: 'how often accepted clicks are written' },
  PAYOUT_MINIMUM_MINOR: {
    ...integerFrom(1, 2_000_000_000),
    default: '5000',
    description: 'smallest creator balance paid out, in minor units',
  },
  PAYOUT_PROVIDER: {
    schema: z.enum(['manual', 'test']),
    default: 'manual',
    expected: 'manual or test',
    description: 'manual (writes CSV files to PAYOUT_DIR) or test',
  },
  PAYOUT_DIR: { schema: z.string().min(1), default: './payouts', expected: 'a directory path', description: 'where manual payout CSV files go' },
  PAYOUT_INTERVAL_MS: {
    ...integerFrom(0, 604_800_000),
    default: '0',
    description: 'how often payouts are batched automatically (0: only by `earnest payouts run`)',
  },
  ATTRIBUTION_FIT_INTERVAL_MS: {
    ...integerFrom(0, 604_800_000),
    default: '3600000',
    description: 'how often campaigns with a markov or shapley model are refitted when they have new clicks or conversions (0: only on demand)',
  },
};

const NAMES = Object.keys(VARIABLES) as ConfigVariable[];

const configSchema = z.object(
  Object.fromEntries(NAMES.map((name) => [name, VARIABLES[name].schema])) as Record<ConfigVariable, z.ZodType>,
);

/** The variables, their defaults and meaning, for `earnest help`. */
export const CONFIG_VARIABLES: ReadonlyArray<{ name: ConfigVariable; default: string | undefined; description: string }> =
  NAMES.map((name) => ({ name, default: VARIABLES[name].default, description: VARIABLES[name].description }));

/**
 * Parses the configuration from `env` (process.env by default), with `overrides` (CLI flags) taking
 * precedence. An empty value counts as unset, as `PORT=` in a compose file or shell usually means
 * "no opinion". Throws AppError('invalid_config') naming the first bad variable.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: ConfigOverrides = {},
): Config {
  const raw: Record<string, string | undefined> = {};
  const sources: Record<string, string> = {};
  for (const name of NAMES) {
    const override = overrides[name];
    const value = override?.value ?? env[name];
    raw[name] = value === undefined || value === '' ? VARIABLES[name].default : value;
    sources[name] = override?.value !== undefined ? override.source : name;
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const name = NAMES.find((n) => parsed.error.issues.some((issue) => issue.path[0] === n));
    if (!name) throw new AppError('invalid_config', `invalid configuration: ${parsed.error.message}`);
    throw invalidVariable(sources[name] ?? name, VARIABLES[name], raw[name]);
  }
  return Object.freeze(parsed.data as unknown as Config);
}

function invalidVariable(source: string, spec: VariableSpec, value: string | undefined): AppError {
  const shown = value === undefined ? 'nothing' : JSON.stringify(spec.show ? spec.show(value) : value);
  return new AppError('invalid_config', `${source} must be ${spec.expected}, got ${shown}`);
}

/** The server's public base URL without a trailing slash: PUBLIC_URL, or http://localhost:<PORT>. */
export function publicUrl(config: Pick<Config, 'PUBLIC_URL' | 'PORT'>): string {
  return config.PUBLIC_URL ?? `http://localhost:${config.PORT}`;
}


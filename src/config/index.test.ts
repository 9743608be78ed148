import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/index.js';
import { type Config, loadConfig } from './index.js';

const DEFAULTS: Config = {
  PORT: 4000,
  HOST: '0.0.0.0',
  PUBLIC_URL: undefined,
  DATABASE_URL: undefined,
  DATA_DIR: './data',
  LOG_LEVEL: 'info',
  HOLD_EXPIRY_INTERVAL_MS: 5000,
  DB_POOL_SIZE: 10,
  RATE_LIMIT_API_PER_MIN: 1200,
  RATE_LIMIT_CONVERSIONS_PER_MIN: 60000,
  RATE_LIMIT_CLICKS_PER_MIN: 600,
  TRUST_PROXY: false,
  COUNTRY_HEADER: undefined,
  VISITOR_COOKIE_DAYS: 90,
  DATACENTER_RANGES_FILE: undefined,
  SETTLE_INTERVAL_MS: 10000,
  CLICK_FLUSH_INTERVAL_MS: 50,
  PAYOUT_MINIMUM_MINOR: 5000,
  PAYOUT_PROVIDER: 'manual',
  PAYOUT_DIR: './payouts',
  PAYOUT_INTERVAL_MS: 0,
  ATTRIBUTION_FIT_INTERVAL_MS: 3_600_000,
};

function failure(env: Record<string, string | undefined>): AppError {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('loadConfig', () => {
  it('applies the defaults to an empty environment', () => {
    expect(loadConfig({})).toEqual(DEFAULTS);
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ HOME: '/root', PATH: '/bin' })).toEqual(DEFAULTS);
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '', LOG_LEVEL: '' })).toEqual(DEFAULTS);
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadConfig({}))).toBe(true);
  });

  it.each<[Record<string, string>, Partial<Config>]>([
    [{ PORT: '1' }, { PORT: 1 }],
    [{ PORT: '65535' }, { PORT: 65535 }],
    [{ PORT: '08080' }, { PORT: 8080 }],
    [{ HOST: '127.0.0.1' }, { HOST: '127.0.0.1' }],
    [{ HOST: '::' }, { HOST: '::' }],
    [{ PUBLIC_URL: 'https://track.example.com/' }, { PUBLIC_URL: 'https://track.example.com' }],
    [{ PUBLIC_URL: 'http://10.0.0.5:4000/earnest' }, { PUBLIC_URL: 'http://10.0.0.5:4000/earnest' }],
    [{ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' }, { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' }],
    [{ DATABASE_URL: 'postgresql://u:p@db.example/earnest?sslmode=require' }, { DATABASE_URL: 'postgresql://u:p@db.example/earnest?sslmode=require' }],
    [{ DATA_DIR: '/var/lib/earnest' }, { DATA_DIR: '/var/lib/earnest' }],
    [{ LOG_LEVEL: 'debug' }, { LOG_LEVEL: 'debug' }],
    [{ LOG_LEVEL: 'error' }, { LOG_LEVEL: 'error' }],
    [{ HOLD_EXPIRY_INTERVAL_MS: '100' }, { HOLD_EXPIRY_INTERVAL_MS: 100 }],
    [{ HOLD_EXPIRY_INTERVAL_MS: '3600000' }, { HOLD_EXPIRY_INTERVAL_MS: 3_600_000 }],
    [{ DB_POOL_SIZE: '1' }, { DB_POOL_SIZE: 1 }],
    [{ DB_POOL_SIZE: '200' }, { DB_POOL_SIZE: 200 }],
  ])('accepts %j', (env, expected) => {
    expect(loadConfig(env)).toEqual({ ...DEFAULTS, ...expected });
  });

  it.each<[Record<string, string>, string]>([
    [{ PORT: 'abc' }, 'PORT must be an integer from 1 to 65535, got "abc"'],
    [{ PORT: '0' }, 'PORT must be an integer from 1 to 65535, got "0"'],
    [{ PORT: '65536' }, 'PORT must be an integer from 1 to 65535, got "65536"'],
    [{ PORT: '-1' }, 'PORT must be an integer from 1 to 65535, got "-1"'],
    [{ PORT: '80.5' }, 'PORT must be an integer from 1 to 65535, got "80.5"'],
    [{ PORT: '1e3' }, 'PORT must be an integer from 1 to 65535, got "1e3"'],
    [{ PORT: ' 80' }, 'PORT must be an integer from 1 to 65535, got " 80"'],
    [{ PORT: '99999999999999999999' }, 'PORT must be an integer from 1 to 65535, got "99999999999999999999"'],
    [{ PUBLIC_URL: 'track.example.com' }, 'PUBLIC_URL must be an http:// or https:// URL without query, fragment or credentials, such as https://track.example.com, got "track.example.com"'],
    [{ PUBLIC_URL: 'ftp://x.example' }, 'PUBLIC_URL must be an http:// or https:// URL without query, fragment or credentials, such as https://track.example.com, got "ftp://x.example"'],
    [{ PUBLIC_URL: 'https://x.example/?a=1' }, 'PUBLIC_URL must be an http:// or https:// URL without query, fragment or credentials, such as https://track.example.com, got "https://x.example/?a=1"'],
    [{ DATABASE_URL: 'mysql://localhost/db' }, 'DATABASE_URL must be a postgres:// or postgresql:// URL with a host, got "mysql://localhost/db"'],
    [{ DATABASE_URL: 'localhost:5432' }, 'DATABASE_URL must be a postgres:// or postgresql:// URL with a host, got "localhost:5432"'],
    [{ DATABASE_URL: 'postgres://' }, 'DATABASE_URL must be a postgres:// or postgresql:// URL with a host, got "postgres://"'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL must be one of debug, info, warn, error, got "verbose"'],
    [{ LOG_LEVEL: 'INFO' }, 'LOG_LEVEL must be one of debug, info, warn, error, got "INFO"'],
    [{ HOLD_EXPIRY_INTERVAL_MS: '99' }, 'HOLD_EXPIRY_INTERVAL_MS must be an integer from 100 to 3600000, got "99"'],
    [{ HOLD_EXPIRY_INTERVAL_MS: '3600001' }, 'HOLD_EXPIRY_INTERVAL_MS must be an integer from 100 to 3600000, got "3600001"'],
    [{ DB_POOL_SIZE: '0' }, 'DB_POOL_SIZE must be an integer from 1 to 200, got "0"'],
    [{ DB_POOL_SIZE: '201' }, 'DB_POOL_SIZE must be an integer from 1 to 200, got "201"'],
    [{ DB_POOL_SIZE: 'ten' }, 'DB_POOL_SIZE must be an integer from 1 to 200, got "ten"'],
  ])('refuses %j', (env, message) => {
    const error = failure(env);
    expect(error.code).toBe('invalid_config');
    expect(error.message).toBe(message);
    expect(error.message).not.toContain('\n');
  });

  it('names the first bad variable when several are bad', () => {
    expect(failure({ LOG_LEVEL: 'loud', PORT: 'x' }).message).toMatch(/^PORT /);
  });

  it.each([
    ['mysql://admin:hunter2@db.example/earnest', 'mysql://***@db.example/earnest'],
    ['admin:hunter2@db.example', '***@db.example'],
  ])('never echoes credentials of a bad DATABASE_URL (%s)', (value, shown) => {
    const { message } = failure({ DATABASE_URL: value });
    expect(message).not.toContain('hunter2');
    expect(message).toContain(shown);
  });

  describe('overrides (CLI flags)', () => {
    it('take precedence over the environment', () => {
      const config = loadConfig(
        { PORT: '5000', DATA_DIR: '/env' },
        { PORT: { value: '6000', source: '--port' }, DATA_DIR: { value: '/flag', source: '--data-dir' } },
      );
      expect(config).toMatchObject({ PORT: 6000, DATA_DIR: '/flag' });
    });

    it('leave the environment alone when the flag was not given', () => {
      expect(loadConfig({ PORT: '5000' }, { PORT: { value: undefined, source: '--port' } }).PORT).toBe(5000);
    });

    it('are named by their source when bad', () => {
      let message = '';
      try {
        loadConfig({ PORT: '5000' }, { PORT: { value: 'abc', source: '--port' } });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toBe('--port must be an integer from 1 to 65535, got "abc"');
    });

    it('make a bad environment value they replace harmless', () => {
      expect(loadConfig({ PORT: 'abc' }, { PORT: { value: '7000', source: '--port' } }).PORT).toBe(7000);
    });
  });
});

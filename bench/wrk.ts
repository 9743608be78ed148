import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

/**
 * wrk (C, epoll) as the load generator of the HTTP benchmarks: it loads a server with far less CPU
 * than a node client, in its own process (`apt-get install wrk`). Requests are shaped by a Lua script.
 */
export interface LoadResult {
  requests: number;
  /** Answers wrk counts as 2xx or 3xx. */
  redirects: number;
  /** Answers other than 302, by status ("0" for a failed request). */
  others: Record<string, number>;
  seconds: number;
  sockets: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

/** The wrk binary, unless BENCH_LOAD_GENERATOR=node asks for the node generator. */
export function findWrk(): string | undefined {
  if (process.env.BENCH_LOAD_GENERATOR === 'node') return undefined;
  const r = spawnSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

/** Runs wrk (one thread) for `seconds` with the Lua `script` and returns its report. */
export async function runWrkScript(wrk: string, p: { url: string; connections: number; seconds: number; script: string }): Promise<string> {
  const dir = mkdtempSync(join(os.tmpdir(), 'earnest-wrk-'));
  const script = join(dir, 'requests.lua');
  writeFileSync(script, p.script);
  try {
    const child = spawn(wrk, ['-t1', `-c${p.connections}`, `-d${p.seconds}s`, '--latency', '--timeout', '5s', '-s', script, p.url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.once('exit', done));
    if (code !== 0) throw new Error(`wrk exited ${code}: ${out}`);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Reads wrk's report: "N requests in Xs", "Non-2xx or 3xx responses: M", the latency distribution. */
export function parseWrk(out: string, seconds: number, connections: number): LoadResult {
  const toMs = (value: string, unit: string) => Number(value) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[unit]!;
  const quantile = (q: string) => {
    const m = new RegExp(`^\\s*${q}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return m ? toMs(m[1] as string, m[2] as string) : Number.NaN;
  };
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out);
  if (!total) throw new Error(`cannot read wrk's report: ${out}`);
  const requests = Number(total[1]);
  const others = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const failed = errors ? errors.slice(1).reduce((n, x) => n + Number(x), 0) : 0;
  const max = /Latency\s+[\d.]+\w+\s+[\d.]+\w+\s+([\d.]+)(us|ms|s|m)/.exec(out);
  return {
    requests,
    // Every answer wrk counts as 2xx/3xx is the tracking link's 302 (it has no other success).
    redirects: requests - others,
    others: { ...(others > 0 ? { 'not 2xx/3xx': others } : {}), ...(failed > 0 ? { '0': failed } : {}) },
    seconds: toMs(total[2] as string, total[3] as string) / 1000 || seconds,
    sockets: connections,
    latencyMs: { p50: quantile('50'), p90: quantile('90'), p99: quantile('99'), max: max ? toMs(max[1] as string, max[2] as string) : Number.NaN },
  };
}


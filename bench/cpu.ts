import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds used: by this Node process, and by the local `postgres` processes we can see (Linux). */
export interface CpuSnapshot {
  node: number;
  postgres: number | undefined;
}

interface RawSnapshot {
  node: number;
  /** pid → CPU seconds of each postgres process; undefined when none is visible (a remote server). */
  postgres: Map<string, number> | undefined;
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

export function cpuSnapshot(): RawSnapshot {
  const own = process.cpuUsage();
  return { node: (own.user + own.system) / 1e6, postgres: postgresCpuSeconds() };
}

/**
 * CPU used since `before`. A postgres process that exited in between (an idle pooled connection
 * closed, say) is left out rather than subtracted; one that started in between counts from zero.
 */
export function cpuSince(before: RawSnapshot): CpuSnapshot {
  const now = cpuSnapshot();
  let postgres: number | undefined;
  if (now.postgres && before.postgres) {
    postgres = 0;
    for (const [pid, seconds] of now.postgres) postgres += seconds - (before.postgres.get(pid) ?? 0);
  }
  return { node: now.node - before.node, postgres };
}

function postgresCpuSeconds(): Map<string, number> | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return undefined;
  }
  const out = new Map<string, number>();
  for (const pid of pids) {
    try {
      if (!readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('postgres')) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND);
    } catch {
      // the process exited meanwhile
    }
  }
  return out.size > 0 ? out : undefined;
}

import { readFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: string;
  node: string;
  os: string;
  postgres: string | undefined;
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':').slice(1).join(':').trim();
  } catch {
    // not Linux: fall through to what Node knows
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

export async function machineInfo(serverUrl: string | undefined): Promise<MachineInfo> {
  return {
    cpus: os.availableParallelism(),
    cpuModel: cpuModel(),
    memoryGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    postgres: serverUrl ? await serverVersion(serverUrl) : undefined,
  };
}

async function serverVersion(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    const r = await client.query<{ version: string }>('select version()');
    const names = ['fsync', 'synchronous_commit', 'shared_buffers', 'max_connections'];
    const settings = await client.query<Record<string, string>>(
      `select ${names.map((n) => `current_setting('${n}') as ${n}`).join(', ')}`,
    );
    const row = settings.rows[0] ?? {};
    const extra = names.map((n) => `${n}=${row[n] ?? '?'}`).join(', ');
    return `${r.rows[0]?.version ?? 'unknown'} (${extra})`;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

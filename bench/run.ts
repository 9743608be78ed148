/**
 * `npm run bench`: runs every benchmark section, prints their tables on stdout (progress on stderr)
 * and regenerates BENCHMARKS.md. Bounded: every section runs fixed counts.
 *
 * The PostgreSQL server is BENCH_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test; if it does
 * not answer, the server parts are skipped (and marked so in BENCHMARKS.md) and the embedded engine
 * still runs. To add a section, write a module exporting a `BenchSection` and list it in SECTIONS.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serverUnreachable, serverUrlFromEnv } from './engines.js';
import { attributionSection } from './attribution.js';
import { detectionSection } from './detection.js';
import { ledgerSection } from './ledger.js';
import { loopSection } from './loop.js';
import { machineInfo } from './machine.js';
import { redirectSection } from './redirect.js';
import { benchmarksMarkdown, formatSeconds, replaceSections, sectionText } from './report.js';
import { splitSection } from './split.js';
import type { BenchContext, BenchSection, SectionResult } from './types.js';

const SECTIONS: BenchSection[] = [ledgerSection, redirectSection, loopSection, detectionSection, attributionSection, splitSection];

/**
 * BENCH_SECTIONS=loop,redirect runs only those and prints them, leaving BENCHMARKS.md as it is; with
 * BENCH_RECORD=1 their sections in BENCHMARKS.md are replaced (`npm run bench:detection` does that).
 */
const ONLY = process.env.BENCH_SECTIONS?.split(',').map((s) => s.trim()).filter(Boolean);
const RECORD = process.env.BENCH_RECORD === '1';

const OUTPUT = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));

async function main(): Promise<void> {
  const started = performance.now();
  const date = new Date();
  const url = serverUrlFromEnv();
  const unreachable = await serverUnreachable(url);
  const log = (message: string) => process.stderr.write(`${message}\n`);
  if (unreachable) {
    log(`PostgreSQL server ${redact(url)} is not reachable (${unreachable}): skipping the server benchmarks.`);
  }
  const ctx: BenchContext = {
    serverUrl: unreachable ? undefined : url,
    serverSkipped: unreachable ? `server ${redact(url)} not reachable (${unreachable})` : undefined,
    log,
  };
  const machine = await machineInfo(ctx.serverUrl);
  const results: SectionResult[] = [];
  for (const section of SECTIONS.filter((s) => !ONLY || ONLY.includes(s.name))) {
    log(`— ${section.name}`);
    const result = await section.run(ctx);
    results.push(result);
    process.stdout.write(`\n${sectionText(result)}\n`);
  }
  const totalSeconds = (performance.now() - started) / 1000;
  if (ONLY && RECORD) {
    const stamp = `This section was refreshed on its own by \`${process.env.npm_lifecycle_event === 'bench:detection' ? 'npm run bench:detection' : `BENCH_SECTIONS=${ONLY.join(',')} BENCH_RECORD=1 npm run bench`}\` on ${date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} (same machine).`;
    writeFileSync(OUTPUT, replaceSections(readFileSync(OUTPUT, 'utf8'), results, stamp));
    log(`\nupdated ${results.map((r) => r.title).join(', ')} in ${OUTPUT}`);
    return;
  }
  if (ONLY) {
    log(`\nBENCH_SECTIONS=${ONLY.join(',')}: printed only; BENCHMARKS.md left as it is (BENCH_RECORD=1 records them)`);
    return;
  }
  writeFileSync(OUTPUT, benchmarksMarkdown({ machine, date, command: 'npm run bench', totalSeconds, sections: results }));
  log(`\nwrote ${OUTPUT} (run took ${formatSeconds(totalSeconds)} s)`);
}

/** Never print a password that may sit in the URL. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});

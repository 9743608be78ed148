/**
 * The shape every benchmark section returns. `bench/run.ts` runs the sections in order, prints each
 * table and regenerates BENCHMARKS.md from all of them, so a new section (HTTP, say) is one module
 * exporting a `BenchSection` and one line in `bench/run.ts`.
 */

export interface BenchContext {
  /** The PostgreSQL server to use, or undefined when it is not reachable (then `serverSkipped` says why). */
  serverUrl: string | undefined;
  serverSkipped: string | undefined;
  /** Progress on stderr, so stdout keeps only the tables. */
  log(message: string): void;
}

export interface Table {
  columns: string[];
  /** Cells as displayed; numbers already formatted. */
  rows: string[][];
  /** Which columns are right-aligned (numbers). */
  numeric?: boolean[];
}

export interface Aim {
  /** What was aimed at, e.g. "≥ 2,000 transfers/s unbatched on the server". */
  aim: string;
  /** The measurement it is judged on, e.g. "postgres · single, 16 clients: 2,345/s". */
  measured: string | undefined;
  /** undefined: not measured this run (server skipped). */
  met: boolean | undefined;
}

export interface SectionResult {
  title: string;
  /** One paragraph above the table: what is measured and how. */
  intro: string;
  table: Table;
  aims: Aim[];
  /** Bullet points below the table (profile, caveats, skipped parts). */
  notes: string[];
  /** Optional extra sub-sections (title → markdown). */
  details?: { title: string; markdown: string }[];
}

export interface BenchSection {
  name: string;
  run(ctx: BenchContext): Promise<SectionResult>;
}

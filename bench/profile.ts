import {
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  PostgresQueryCompiler,
  type QueryId,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';

export interface StatementStats {
  label: string;
  calls: number;
  totalMs: number;
}

export interface ExplainedInsert {
  rows: number;
  executionMs: number;
  triggerMs: number;
  triggers: { name: string; ms: number }[];
}

/**
 * A Kysely plugin that times every statement the ledger sends (grouped by a short label such as
 * "select ledger_accounts for update"), to count round trips and see where a transfer's time goes.
 * BEGIN and COMMIT do not pass through plugins: they are the difference to the wall time.
 *
 * With `explainJournalInserts`, the ledger's own journal insert is run as EXPLAIN (ANALYZE) — it
 * still executes, the repository ignores an insert's rows — so the trigger's share is measured on
 * the exact production statement. Use only in a profiling run.
 */
export class QueryProfiler implements KyselyPlugin {
  readonly #compiler = new PostgresQueryCompiler();
  readonly #started = new WeakMap<QueryId, { label: string; t0: number; explain: boolean }>();
  readonly stats = new Map<string, StatementStats>();
  readonly explained: ExplainedInsert[] = [];

  constructor(private readonly options: { explainJournalInserts?: boolean } = {}) {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const text = this.#compiler.compileQuery(args.node, args.queryId).sql;
    const label = labelOf(text);
    const explain = !!this.options.explainJournalInserts && label === 'insert ledger_transfers' && args.node.kind === 'RawNode';
    this.#started.set(args.queryId, { label, t0: performance.now(), explain });
    if (!explain) return args.node;
    const node = args.node as RootOperationNode & { sqlFragments: readonly string[] };
    const [first = '', ...rest] = node.sqlFragments;
    return Object.freeze({ ...node, sqlFragments: Object.freeze([`explain (analyze, format json) ${first}`, ...rest]) });
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const started = this.#started.get(args.queryId);
    if (started) {
      const ms = performance.now() - started.t0;
      const s = this.stats.get(started.label) ?? { label: started.label, calls: 0, totalMs: 0 };
      s.calls++;
      s.totalMs += ms;
      this.stats.set(started.label, s);
      if (started.explain) this.#recordPlan(args.result.rows);
    }
    return args.result;
  }

  #recordPlan(rows: readonly UnknownRow[]): void {
    const raw = rows[0]?.['QUERY PLAN'];
    const plans = (typeof raw === 'string' ? JSON.parse(raw) : raw) as
      | { Plan: { 'Actual Rows'?: number }; 'Execution Time': number; Triggers?: { 'Trigger Name': string; Time: number }[] }[]
      | undefined;
    const plan = plans?.[0];
    if (!plan) return;
    const triggers = (plan.Triggers ?? []).map((t) => ({ name: t['Trigger Name'], ms: t.Time }));
    this.explained.push({
      rows: plan.Plan['Actual Rows'] ?? 0,
      executionMs: plan['Execution Time'],
      triggerMs: triggers.reduce((s, t) => s + t.ms, 0),
      triggers,
    });
  }

  reset(): void {
    this.stats.clear();
    this.explained.length = 0;
  }
}

/** "select … from ledger_accounts … for update" → "select ledger_accounts for update". */
export function labelOf(sqlText: string): string {
  const text = sqlText.replace(/\s+/g, ' ').trim().toLowerCase();
  const verb = /^(select|insert|update|delete|with|explain)/.exec(text)?.[1] ?? text.split(' ')[0] ?? '?';
  if (text.includes('pg_advisory_xact_lock')) return 'select pg_advisory_xact_lock (ids)';
  if (text.includes('earnest_now()') && !text.includes(' from ')) return 'select earnest_now()';
  const table = /(?:from|into|update)\s+([a-z_]+)/.exec(text)?.[1] ?? '';
  const lock = text.includes('skip locked') ? ' for update skip locked' : text.includes('for update') ? ' for update' : '';
  return `${verb} ${table}${lock}`.trim();
}

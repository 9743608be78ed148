import { settlementReportView } from '../../api/index.js';
import { migrate } from '../../db/index.js';
import { AppError, isAppError } from '../../errors/index.js';
import { formatAmount } from '../../money/index.js';
import { runSettlement, SETTLEMENT_LIMITS, type SettlementReport } from '../../flows/index.js';
import { type Command, configFrom, DATA_DIR_OPTION, EXIT, type FlagValues } from '../command.js';
import { withDatabase } from '../database.js';

export const settleCommand: Command = {
  name: 'settle',
  usage: '[--json] [--batch-size N] [--data-dir DIR]',
  summary: 'approve results past their hold, end campaigns past their end and settle ended ones, until nothing is due',
  options: { json: { type: 'boolean' }, 'batch-size': { type: 'string' }, ...DATA_DIR_OPTION },
  async run(flags, context) {
    const config = configFrom(context, flags);
    const batchSize = batchSizeFrom(flags);
    const report = await withDatabase(
      config,
      async (database) => {
        await migrate(database.db);
        // Progress on stderr: a long run shows it is moving, and stdout stays the result.
        return runSettlement(database.db, { batchSize, onBatch: (n, total) => context.err(`approved ${n} results (${total} so far)`) });
      },
      { mustExist: true },
    );
    if (flags.json) context.out(JSON.stringify(settlementReportView(report)));
    else for (const line of formatSettlement(report)) context.out(line);
    return report.failures.length === 0 ? EXIT.ok : EXIT.failure;
  },
};

function batchSizeFrom(flags: FlagValues): number {
  const text = flags['batch-size'];
  if (text === undefined) return SETTLEMENT_LIMITS.batch_size_default;
  const n = typeof text === 'string' && /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= SETTLEMENT_LIMITS.batch_size_max)) {
    throw new AppError('invalid_request', `--batch-size must be an integer from 1 to ${SETTLEMENT_LIMITS.batch_size_max}`);
  }
  return n;
}

function plural(n: number, word: string, words = `${word}s`): string {
  return `${n} ${n === 1 ? word : words}`;
}

export function formatSettlement(r: SettlementReport): string[] {
  const lines = [
    `Settlement: approved ${plural(r.approved, 'result')} in ${plural(r.batches, 'batch', 'batches')}` +
      (r.reviewed > 0 ? `; sent ${plural(r.reviewed, 'result')} to review` : '') +
      `; ended ${plural(r.campaigns_ended.length, 'campaign')}; settled ${plural(r.campaigns_settled.length, 'campaign')}.`,
  ];
  const b = r.bonuses;
  if (b.held + b.released + b.paid + b.clawed_back > 0 || b.failures.length > 0) {
    lines.push(
      `Bonuses: held ${plural(b.held, 'period')}, released ${b.released}, paid more on ${b.paid}, clawed back on ${b.clawed_back}` +
        (b.failures.length > 0 ? `; ${plural(b.failures.length, 'failure')}` : '') +
        '.',
    );
  }
  for (const s of r.campaigns_settled) {
    const refund = s.fees_refunded > 0n ? `, ${formatAmount(s.fees_refunded, s.currency)} ${s.currency} of fees refunded (guarantee)` : '';
    lines.push(
      `  ${s.campaign_id}: ${formatAmount(s.unspent_refunded, s.currency)} ${s.currency} unspent returned${refund}; ` +
        `${s.validated} validated of a KPI target of ${s.kpi_target}`,
    );
  }
  for (const f of r.failures) {
    lines.push(`  ${f.campaign_id} not settled: ${isAppError(f.error) ? f.error.message : String((f.error as Error)?.message ?? f.error)}`);
  }
  return lines;
}

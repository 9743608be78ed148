import { pendingMigrations } from '../../db/index.js';
import { AppError } from '../../errors/index.js';
import { checkLedger, type LedgerCheckReport } from '../../ledger/index.js';
import { type Command, configFrom, DATA_DIR_OPTION, EXIT } from '../command.js';
import { withDatabase } from '../database.js';

export const ledgerCheckCommand: Command = {
  name: 'ledger check',
  usage: '[--json] [--data-dir DIR]',
  summary: 'recompute every balance from the journal and report mismatches (exit 1 if any)',
  options: { json: { type: 'boolean' }, ...DATA_DIR_OPTION },
  async run(flags, context) {
    const config = configFrom(context, flags);
    const report = await withDatabase(
      config,
      async (database) => {
        const pending = await pendingMigrations(database.db);
        if (pending.length > 0) {
          throw new AppError('migrations_pending', `database has pending migrations (${pending.join(', ')}); run \`earnest migrate\` first`);
        }
        return checkLedger(database.db);
      },
      { mustExist: true },
    );
    if (flags.json) context.out(JSON.stringify(report));
    else for (const line of formatLedgerReport(report)) context.out(line);
    return report.mismatches === 0 ? EXIT.ok : EXIT.failure;
  },
};

const CATEGORIES: ReadonlyArray<[keyof LedgerCheckReport, string]> = [
  ['counter_mismatches', 'account counters differing from the journal'],
  ['hold_state_mismatches', 'hold states differing from the journal'],
  ['unbalanced_currencies', 'currencies whose debits and credits differ'],
  ['accounts_over_limit', 'accounts over their limit'],
  ['holds_resolved_twice', 'holds resolved twice'],
  ['currency_mismatches', 'transfers in a currency their accounts do not hold'],
];

/** The report for people: a verdict first, then counts, totals and the problems found. */
export function formatLedgerReport(report: LedgerCheckReport): string[] {
  const verdict =
    report.mismatches === 0
      ? 'Ledger check: OK, no mismatches.'
      : `Ledger check: FAILED, ${report.mismatches} ${report.mismatches === 1 ? 'mismatch' : 'mismatches'}.`;
  const lines = [
    verdict,
    `  accounts       ${report.accounts}`,
    `  transfers      ${report.transfers}`,
    `  pending holds  ${report.holds_pending}`,
    `  mismatches     ${report.mismatches}`,
  ];
  for (const [key, label] of CATEGORIES) {
    if (report[key] !== 0) lines.push(`    ${report[key]} ${label}`);
  }
  const currencies = Object.entries(report.currencies);
  if (currencies.length > 0) lines.push('Totals per currency (debits / credits):');
  for (const [currency, t] of currencies) {
    lines.push(`  ${currency}  posted ${t.debits_posted} / ${t.credits_posted}  pending ${t.debits_pending} / ${t.credits_pending}`);
  }
  if (report.problems.length > 0) {
    const shown = report.problems.length < report.mismatches ? ` (first ${report.problems.length})` : '';
    lines.push(`Problems${shown}:`, ...report.problems.map((p) => `  - ${p}`));
  }
  return lines;
}

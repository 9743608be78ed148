import { statementView } from '../../api/index.js';
import { AppError } from '../../errors/index.js';
import { formatAmount } from '../../money/index.js';
import { campaignStatement, type CampaignStatement, STATEMENT_IDENTITY } from '../../settlement/index.js';
import { type Command, configFrom, DATA_DIR_OPTION, EXIT } from '../command.js';
import { withDatabase } from '../database.js';

export const statementCommand: Command = {
  name: 'statement',
  usage: 'CAMPAIGN_ID [--json] [--data-dir DIR]',
  summary: "a campaign's statement from the ledger (exit 1 if its figures do not reconcile)",
  options: { json: { type: 'boolean' }, ...DATA_DIR_OPTION },
  positionals: 1,
  async run(flags, context) {
    const id = flags._positional;
    if (typeof id !== 'string' || !/^cmp_[0-9a-z]{26}$/.test(id)) throw new AppError('invalid_request', 'give the campaign id, e.g. cmp_01jd…');
    const config = configFrom(context, flags);
    const statement = await withDatabase(config, (database) => campaignStatement(database.db, { kind: 'operator' }, id), { mustExist: true });
    if (flags.json) context.out(JSON.stringify(statementView(statement)));
    else for (const line of formatStatement(statement)) context.out(line);
    return statement.reconciles ? EXIT.ok : EXIT.failure;
  },
};

export function formatStatement(s: CampaignStatement): string[] {
  const c = s.campaign;
  const rows: Array<[string, bigint]> = [
    ['funded', s.funded],
    ['paid to creators (net)', s.paid_to_creators],
    ['platform fees (gross)', s.platform_fees_gross],
    ['  returned (reversed, lowered)', s.fees_returned],
    ['  refunded under the guarantee', s.fees_refunded],
    ['  kept by the platform', s.platform_fees_kept],
    ['unspent returned to the brand', s.unspent_refunded],
    ['escrow held (pending results)', s.escrow.held],
    ['escrow available', s.escrow.available],
  ];
  if (s.clawed_back > 0n) rows.splice(2, 0, ['  clawed back (deducted above)', s.clawed_back]);
  if (s.clawbacks_refunded > 0n) rows.splice(rows.findIndex(([label]) => label === 'unspent returned to the brand') + 1, 0, ['  of which clawbacks after settlement', s.clawbacks_refunded]);
  if (s.fees_returned_to_brand > 0n) {
    rows.splice(rows.findIndex(([label]) => label === 'unspent returned to the brand') + 1, 0, ['  of which fees after settlement', s.fees_returned_to_brand]);
  }
  const amounts = rows.map(([, v]) => formatAmount(v, c.currency));
  const width = Math.max(...amounts.map((a) => a.length));
  const g = s.guarantee;
  const verdict = !g.decided ? 'decided at settlement' : g.applied ? 'applied' : 'not applied (KPI met)';
  return [
    `Statement of campaign ${c.id} "${c.name}" (${c.status}${c.paused_reason ? `: ${c.paused_reason}` : ''}), in ${c.currency}`,
    ...rows.map(([label, _], i) => `  ${label.padEnd(32)} ${(amounts[i] as string).padStart(width)}`),
    `  reconciles: ${s.reconciles ? 'yes' : 'NO'} (${STATEMENT_IDENTITY})`,
    `Results: ${s.results.map((r) => `${r.status} ${r.count}${reasonList(r.reasons)}`).join(', ') || 'none'}`,
    ...(s.awaiting_funds.count > 0
      ? [
          `Awaiting funds: ${s.awaiting_funds.count} results, ${formatAmount(s.awaiting_funds.gross, c.currency)} to hold; the first becomes over_budget at ` +
            `${s.awaiting_funds.first_until?.toISOString()} unless the brand tops up and resumes`,
        ]
      : []),
    ...(s.escrow.low && s.escrow.low_threshold !== null ? [`Escrow low: available at or below the brand's threshold of ${formatAmount(s.escrow.low_threshold, c.currency)}`] : []),
    `KPI: ${g.validated} validated of a target of ${g.kpi_target} (${g.kpi_met ? 'met' : 'missed'}); guarantee ${g.guarantee_bps} bps: ${verdict}`,
  ];
}

function reasonList(reasons: Record<string, number>): string {
  const parts = Object.entries(reasons).map(([reason, n]) => `${reason} ${n}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

import { migrate } from '../../db/index.js';
import { PAYOUT_LIMITS, runPayouts } from '../../flows/index.js';
import { payoutProviderFromConfig } from '../../payouts/index.js';
import { type Command, configFrom, DATA_DIR_OPTION, EXIT } from '../command.js';
import { withDatabase } from '../database.js';

export const payoutsRunCommand: Command = {
  name: 'payouts run',
  usage: '[--json] [--data-dir DIR]',
  summary: 'pay out creator balances at or above PAYOUT_MINIMUM_MINOR through PAYOUT_PROVIDER, finishing interrupted batches',
  options: { json: { type: 'boolean' }, ...DATA_DIR_OPTION },
  async run(flags, context) {
    const config = configFrom(context, flags);
    const provider = payoutProviderFromConfig(config);
    const report = await withDatabase(
      config,
      async (database) => {
        await migrate(database.db);
        return runPayouts(database.db, provider, { minimumMinor: BigInt(config.PAYOUT_MINIMUM_MINOR), batchSize: PAYOUT_LIMITS.batch_size_default });
      },
      { mustExist: true },
    );
    if (flags.json) {
      context.out(JSON.stringify(report));
      return EXIT.ok;
    }
    context.out(
      `Payouts (${provider.name}): ${report.created} new in ${report.batches.length} batches; ${report.completed} completed, ${report.sent} sent awaiting confirmation, ` +
        `${report.failed} failed, ${report.pending} pending.`,
    );
    if (provider.name === 'manual' && report.batches.length > 0) {
      context.out(`CSV files in ${config.PAYOUT_DIR}: ${report.batches.join(', ')}; mark each payout with POST /v1/payouts/{id}/complete or /fail.`);
    }
    return EXIT.ok;
  },
};

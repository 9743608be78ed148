import { migrate } from '../../db/index.js';
import { type Command, configFrom, DATA_DIR_OPTION, EXIT } from '../command.js';
import { describeDatabase, withDatabase } from '../database.js';

export const migrateCommand: Command = {
  name: 'migrate',
  usage: '[--data-dir DIR]',
  summary: 'apply pending database migrations',
  options: { ...DATA_DIR_OPTION },
  async run(flags, context) {
    const config = configFrom(context, flags);
    const { applied, current } = await withDatabase(config, (database) => migrate(database.db));
    const where = describeDatabase(config);
    if (applied.length === 0) {
      context.out(`Database is up to date at version ${current} (${where}).`);
      return EXIT.ok;
    }
    for (const m of applied) context.out(`applied ${String(m.version).padStart(4, '0')}_${m.name}`);
    context.out(`Database is at version ${current} (${where}).`);
    return EXIT.ok;
  },
};

import { readFile, stat } from 'node:fs/promises';
import { enrolmentById } from '../../campaigns/index.js';
import { importViewInsights } from '../../conversions/index.js';
import { databaseNow } from '../../db/index.js';
import { AppError } from '../../errors/index.js';
import { csvInsightsFile, PLATFORM_PATTERN } from '../../insights/index.js';
import { type Command, configFrom, DATA_DIR_OPTION, describeFileError, EXIT } from '../command.js';
import { withDatabase } from '../database.js';

/** Larger than the API's body allows (exports of many posts), still one bounded transaction (MAX_IMPORT_ROWS rows). */
const MAX_FILE_BYTES = 5 * 1024 * 1024;

export const insightsImportCommand: Command = {
  name: 'insights import',
  usage: 'ENROLMENT_ID --file FILE [--platform NAME] [--json] [--data-dir DIR]',
  summary: "imports a platform's insights CSV for an enrolment as an operator (official): verifies its open view reports of those posts",
  options: { file: { type: 'string' }, platform: { type: 'string' }, json: { type: 'boolean' }, ...DATA_DIR_OPTION },
  positionals: 1,
  async run(flags, context) {
    const id = flags._positional;
    if (typeof id !== 'string' || !/^enr_[0-9a-z]{26}$/.test(id)) throw new AppError('invalid_request', 'give the enrolment id, e.g. enr_01jd…');
    const path = flags.file;
    if (typeof path !== 'string') throw new AppError('invalid_request', 'give the insights file with --file FILE');
    const platform = typeof flags.platform === 'string' ? flags.platform : null;
    if (platform !== null && !PLATFORM_PATTERN.test(platform)) throw new AppError('invalid_request', `--platform ${platform} is not a platform name (lower case, such as instagram)`);
    let text: string;
    try {
      if ((await stat(path)).size > MAX_FILE_BYTES) throw new AppError('invalid_request', `${path}: larger than ${MAX_FILE_BYTES} bytes; split the file`);
      text = await readFile(path, 'utf8');
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw new AppError('invalid_request', `${path}: ${describeFileError(e)}`);
    }
    const config = configFrom(context, flags);
    const outcome = await withDatabase(
      config,
      async ({ db }) => {
        const today = (await databaseNow(db)).toISOString().slice(0, 10);
        // The file is checked before the enrolment is looked up: a malformed file says where, whatever else is wrong.
        const provider = csvInsightsFile(text, { platform, today });
        const enrolment = await enrolmentById(db, id);
        if (!enrolment) throw new AppError('not_found', `no enrolment ${id}`);
        return importViewInsights(db, { enrolment, by: { kind: 'operator', id: null }, provider, query: { posts: [], since: '2000-01-01', until: today } });
      },
      { mustExist: true },
    );
    if (flags.json) context.out(JSON.stringify({ import_id: outcome.import.id, rows: outcome.import.row_count, reports: outcome.reports }));
    else context.out(`imported ${outcome.import.row_count} rows as ${outcome.import.id}; re-checked ${outcome.reports.length} open view reports${outcome.reports.length ? `: ${outcome.reports.join(', ')}` : ''}`);
    return EXIT.ok;
  },
};

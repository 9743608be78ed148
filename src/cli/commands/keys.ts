import { migrate } from '../../db/index.js';
import { issueKey, revokeApiKey } from '../../tenants/index.js';
import { AppError } from '../../errors/index.js';
import { type Command, configFrom, DATA_DIR_OPTION, EXIT, type FlagValues } from '../command.js';
import { withDatabase } from '../database.js';

function ownerFrom(flags: FlagValues) {
  const chosen = [flags.operator === true, typeof flags.org === 'string', typeof flags.creator === 'string'].filter(Boolean).length;
  if (chosen !== 1) throw new AppError('invalid_request', 'say whose key it is: exactly one of --operator, --org ID, --creator ID');
  if (flags.operator === true) return { kind: 'operator' as const };
  if (typeof flags.org === 'string') return { kind: 'organization' as const, id: flags.org };
  return { kind: 'creator' as const, id: flags.creator as string };
}

export const keysCreateCommand: Command = {
  name: 'keys create',
  usage: '--operator | --org ID | --creator ID [--label TEXT] [--data-dir DIR]',
  summary: 'make an API key (printed once; only its hash is kept)',
  options: { operator: { type: 'boolean' }, org: { type: 'string' }, creator: { type: 'string' }, label: { type: 'string' }, ...DATA_DIR_OPTION },
  async run(flags, context) {
    const owner = ownerFrom(flags);
    const config = configFrom(context, flags);
    const key = await withDatabase(config, async (database) => {
      await migrate(database.db);
      return issueKey(database.db, owner, typeof flags.label === 'string' ? flags.label : undefined);
    });
    context.out(key.api_key);
    context.err(`Key ${key.id} for ${owner.kind === 'operator' ? 'the operators' : `${owner.kind} ${owner.id}`}: shown once, keep it safe.`);
    return EXIT.ok;
  },
};

export const keysRevokeCommand: Command = {
  name: 'keys revoke',
  usage: 'KEY_ID [--data-dir DIR]',
  summary: 'revoke an API key by its id (key_…); takes effect within 30 s on every process',
  options: { ...DATA_DIR_OPTION },
  positionals: 1,
  async run(flags, context) {
    const id = flags._positional;
    if (typeof id !== 'string' || !/^key_[0-9a-z]{26}$/.test(id)) throw new AppError('invalid_request', 'give the key id to revoke, e.g. key_01jd…');
    const config = configFrom(context, flags);
    const revoked = await withDatabase(config, (database) => revokeApiKey(database.db, id), { mustExist: true });
    if (!revoked) throw new AppError('not_found', `no active key ${id}`);
    context.out(`revoked ${id}`);
    return EXIT.ok;
  },
};

import { parseArgs } from 'node:util';
import { CONFIG_VARIABLES } from '../config/index.js';
import { AppError, isAppError } from '../errors/index.js';
import { type CliContext, type Command, EXIT, type FlagValues } from './command.js';
import { ledgerCheckCommand } from './commands/ledger-check.js';
import { migrateCommand } from './commands/migrate.js';
import { demoCommand } from './commands/demo.js';
import { keysCreateCommand, keysRevokeCommand } from './commands/keys.js';
import { serveCommand } from './commands/serve.js';
import { settleCommand } from './commands/settle.js';
import { statementCommand } from './commands/statement.js';
import { payoutsRunCommand } from './commands/payouts.js';
import { simulateCommand } from './commands/simulate.js';
import { scoreCommand } from './commands/score.js';
import { attributeCommand } from './commands/attribute.js';
import { insightsImportCommand } from './commands/insights.js';

export { type CliContext, type Command, EXIT } from './command.js';
export { formatLedgerReport } from './commands/ledger-check.js';

/** Every command but `help`. A new command is a module in ./commands and one line here. */
export const COMMANDS: readonly Command[] = [
  serveCommand,
  migrateCommand,
  ledgerCheckCommand,
  keysCreateCommand,
  keysRevokeCommand,
  demoCommand,
  settleCommand,
  statementCommand,
  payoutsRunCommand,
  simulateCommand,
  scoreCommand,
  attributeCommand,
  insightsImportCommand,
];

const HELP_WORDS = new Set(['help', '--help', '-h']);

/**
 * Runs the `earnest` command line and returns its exit code. Never throws: an AppError is the user's
 * to fix and prints one line (exit 2); anything else prints one line too (exit 1), with no stack trace.
 */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  try {
    return await dispatch(argv, context);
  } catch (e) {
    return reportFailure(e, context);
  }
}

async function dispatch(argv: readonly string[], context: CliContext): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || HELP_WORDS.has(first)) return help(rest, context);
  const { command, args } = findCommand(argv);
  const flags = parseFlags(command, args);
  if (flags.help) {
    context.out(commandHelp(command).join('\n'));
    return EXIT.ok;
  }
  return command.run(flags, context);
}

function findCommand(argv: readonly string[]): { command: Command; args: string[] } {
  for (const command of COMMANDS) {
    const words = command.name.split(' ');
    if (words.every((word, i) => argv[i] === word)) return { command, args: argv.slice(words.length) };
  }
  throw unknownCommand(argv);
}

function unknownCommand(argv: readonly string[]): AppError {
  const given = argv.filter((a) => !a.startsWith('-')).join(' ') || argv.join(' ');
  const close = COMMANDS.find((c) => c.name.startsWith(`${argv[0]} `));
  const hint = close ? `did you mean \`earnest ${close.name}\`?` : 'run `earnest help` for the list';
  return new AppError('invalid_request', `unknown command "${given}"; ${hint}`);
}

/** Strict parsing: an unknown flag or a stray argument is refused, never silently ignored. */
function parseFlags(command: Command, args: string[]): FlagValues {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: (command.positionals ?? 0) > 0,
    });
    if (positionals.length > (command.positionals ?? 0)) throw new TypeError(`unexpected argument '${positionals.at(-1)}'`);
    return { ...(values as FlagValues), ...(positionals[0] !== undefined ? { _positional: positionals[0] } : {}) };
  } catch (e) {
    throw new AppError('invalid_request', `${describeParseError(e)}; usage: ${usageLine(command)}`);
  }
}

/** node:util's messages are long and suggest `--` tricks; say just what is wrong. */
function describeParseError(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const quoted = /'([^']*)'/.exec(message)?.[1]?.split(' ')[0] ?? '';
  switch ((e as NodeJS.ErrnoException).code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return `option ${quoted} needs a value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${quoted}"`;
    default:
      return message;
  }
}

function usageLine(command: Command): string {
  return `earnest ${command.name} ${command.usage}`.trimEnd();
}

/** Help fits an 80-to-100-column terminal: every line is at most this wide. */
export const HELP_WIDTH = 100;

function help(topic: readonly string[], context: CliContext): number {
  if (topic.length > 0) {
    const { command } = findCommand(topic);
    context.out(commandHelp(command).join('\n'));
    return EXIT.ok;
  }
  context.out(helpText());
  return EXIT.ok;
}

/** One command's usage line, then its summary indented beneath, both wrapped. */
function commandHelp(command: Command, indent = ''): string[] {
  return [...wrap(usageLine(command), indent, `${indent}    `), ...wrap(command.summary, `${indent}    `, `${indent}    `)];
}

function helpText(): string {
  const helpItself = { name: 'help', usage: '[COMMAND]', summary: "show this help, or one command's" } as Command;
  const variables = CONFIG_VARIABLES.flatMap((v) => {
    const fallback = v.default === undefined ? '' : ` (default ${v.default})`;
    return wrap(`${v.name}${fallback}: ${v.description}`, '  ', '      ');
  });
  return [
    ...wrap('Earnest: pay-per-result influencer marketing with escrowed budgets and an exact double-entry ledger.'),
    '',
    'Usage:',
    ...[...COMMANDS, helpItself].flatMap((c) => commandHelp(c, '  ')),
    '',
    'Environment (flags take precedence):',
    ...variables,
    '',
    ...wrap('Exit codes: 0 success; 1 failure, or mismatches found by `ledger check`; 2 usage or configuration error.'),
  ].join('\n');
}

/** Breaks text at spaces into lines of at most HELP_WIDTH columns: `first` prefixes the first line, `rest` the others. */
function wrap(text: string, first = '', rest = first): string[] {
  const lines: string[] = [];
  let prefix = first;
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && prefix.length + line.length + 1 + word.length > HELP_WIDTH) {
      lines.push(prefix + line);
      prefix = rest;
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(prefix + line);
  return lines;
}

function reportFailure(e: unknown, context: CliContext): number {
  if (isAppError(e)) {
    context.err(`earnest: ${oneLine(e.message)}`);
    return EXIT.usage;
  }
  context.err(`earnest: unexpected error: ${oneLine(e instanceof Error ? e.message : String(e))}`);
  return EXIT.failure;
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

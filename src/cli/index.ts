/** The face of src/cli/: see ./cli.ts. */
export {
  type CliContext,
  type Command,
  COMMANDS,
  EXIT,
  formatLedgerReport,
  HELP_WIDTH,
  runCli,
} from './cli.js';

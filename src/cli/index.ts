/** The `earnest` command: one module per command under commands/ (README, "CLI"). */
export {
  type CliContext,
  type Command,
  COMMANDS,
  EXIT,
  formatLedgerReport,
  HELP_WIDTH,
  runCli,
} from './cli.js';

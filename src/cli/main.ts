import { runCli } from './cli.js';
import { processContext } from './process.js';

/** The `earnest` command: `tsx src/cli/main.ts …`, or bin/earnest.js. */
const code = await runCli(process.argv.slice(2), processContext());
process.exitCode = code;
// The process should now end by itself; if a stray handle (a socket, a timer) keeps it alive, end it.
setTimeout(() => process.exit(code), 2000).unref();

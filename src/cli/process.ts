import type { CliContext } from './command.js';

/** The real process: stdout, stderr and signals. The environment is left to loadConfig's default. */
export function processContext(): CliContext {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    waitForStopSignal,
  };
}

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Resolves on the first SIGTERM or SIGINT, so the caller can stop gracefully. A second one while
 * stopping means the operator will not wait: exit at once.
 */
function waitForStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onFirst = (signal: NodeJS.Signals) => {
      for (const s of STOP_SIGNALS) process.off(s, onFirst);
      for (const s of STOP_SIGNALS) process.once(s, onSecond);
      resolve(signal);
    };
    for (const s of STOP_SIGNALS) process.on(s, onFirst);
  });
}

function onSecond(signal: NodeJS.Signals): void {
  process.stderr.write(`earnest: ${signal} again, exiting without a graceful stop\n`);
  process.exit(1);
}

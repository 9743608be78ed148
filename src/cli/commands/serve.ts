import { startServer } from '../../server/index.js';
import { type Command, configFrom, DATA_DIR_OPTION, EXIT, PORT_OPTION } from '../command.js';
import { describeDatabase } from '../database.js';

export const serveCommand: Command = {
  name: 'serve',
  usage: '[--port N] [--data-dir DIR]',
  summary: 'start the HTTP server (applies pending migrations first)',
  options: { ...PORT_OPTION, ...DATA_DIR_OPTION },
  async run(flags, context) {
    const config = configFrom(context, flags);
    // Listen for signals before the (slow) start, so a stop asked for meanwhile is still graceful.
    const stopSignal = context.waitForStopSignal();
    const server = await startServer(config);
    // stdout carries the JSON log lines; the banner is for the person at the terminal.
    context.err(`Earnest listening on ${server.url} (${describeDatabase(config)})`);
    context.err(`Check it with \`curl ${server.url}/readyz\`; stop it with Ctrl+C.`);
    if (server.operatorKey) {
      context.err('');
      context.err(`Operator API key (shown once, keep it safe): ${server.operatorKey}`);
      context.err('Make more keys with `earnest keys create --operator | --org ID | --creator ID`.');
    }
    const signal = await stopSignal;
    context.err(`Stopping on ${signal}: finishing requests in flight…`);
    await server.stop();
    return EXIT.ok;
  },
};

import { errorFields, type Logger } from './logger.js';

export interface Periodic {
  /** Stops scheduling and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

/**
 * Background work on an interval. Each run is scheduled only after the previous one finished, so
 * runs never overlap; a run that reports more work waiting is followed at once; a failure is logged
 * and retried at the next interval (the work must be idempotent). The first run starts at once, to
 * catch up on what fell due while the process was down.
 */
export function startPeriodic(p: { name: string; intervalMs: number; logger: Logger; run: () => Promise<boolean> }): Periodic {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const runOnce = async (): Promise<number> => {
    try {
      return (await p.run()) ? 0 : p.intervalMs;
    } catch (e) {
      p.logger.error(`${p.name} failed`, errorFields(e));
      return p.intervalMs;
    }
  };

  const schedule = (delayMs: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runOnce().then((next) => {
        running = undefined;
        schedule(next);
      });
    }, delayMs);
    // The HTTP server keeps the process alive; this timer alone must not.
    timer.unref();
  };

  schedule(0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** The same for work that does not report a backlog: run, then wait the interval. */
export function startRepeating(p: { name: string; intervalMs: number; logger: Logger; work: () => Promise<void> }): Periodic {
  return startPeriodic({
    name: p.name,
    intervalMs: p.intervalMs,
    logger: p.logger,
    run: async () => {
      await p.work();
      return false;
    },
  });
}

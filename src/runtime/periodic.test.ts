import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from './logger.js';
import { startRepeating } from './periodic.js';

function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, debug() {}, info() {}, warn() {}, error: (msg, fields) => errors.push(`${msg}: ${String(fields?.error)}`) };
}

describe('startRepeating', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs at once, then every interval after the previous run finished: never two at a time', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    let finish: () => void = () => {};
    const job = startRepeating({
      name: 'test',
      intervalMs: 1000,
      logger: recordingLogger(),
      work: async () => {
        runs += 1;
        running += 1;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => {
          finish = resolve;
        });
        running -= 1;
      },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(5000); // the first run is still going: no second one
    expect(runs).toBe(1);
    finish();
    await vi.advanceTimersByTimeAsync(999);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toBe(2);
    expect(most).toBe(1);
    finish();
    await job.stop();
  });

  it('logs a failed run and tries again at the next interval', async () => {
    const logger = recordingLogger();
    let runs = 0;
    const job = startRepeating({
      name: 'settlement',
      intervalMs: 100,
      logger,
      work: async () => {
        runs += 1;
        if (runs === 1) throw new Error('database went away');
      },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(logger.errors).toEqual(['settlement failed: database went away']);
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(2);
    await job.stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(2);
  });

  it('stop() waits for the run in progress', async () => {
    let finish: () => void = () => {};
    let done = false;
    const job = startRepeating({
      name: 'test',
      intervalMs: 100,
      logger: recordingLogger(),
      work: async () => {
        await new Promise<void>((resolve) => {
          finish = resolve;
        });
        done = true;
      },
    });
    await vi.advanceTimersByTimeAsync(0);
    const stopped = job.stop();
    let stoppedYet = false;
    void stopped.then(() => {
      stoppedYet = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(stoppedYet).toBe(false);
    finish();
    await stopped;
    expect(done).toBe(true);
  });
});

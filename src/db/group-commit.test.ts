import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/index.js';
import { GroupCommit } from './group-commit.js';

/**
 * A fake atomic "transaction": it fails as a whole when any item is poison (as one bad row fails a
 * PostgreSQL statement), and otherwise answers each item and commits it to `committed`.
 */
function atomicStore(poison: (item: number) => boolean, fail: (item: number) => Error = () => Object.assign(new Error('invalid input syntax for type json'), { code: '22P02' })) {
  const committed: number[] = [];
  let runs = 0;
  const run = async (items: number[]) => {
    runs++;
    await new Promise((r) => setTimeout(r, 1));
    const bad = items.find(poison);
    if (bad !== undefined) throw fail(bad);
    committed.push(...items);
    return items.map((i) => i * 10);
  };
  return { run, committed, runs: () => runs };
}

async function settle<T>(p: Promise<T>): Promise<{ ok: T } | { error: unknown }> {
  try {
    return { ok: await p };
  } catch (error) {
    return { error };
  }
}

describe('GroupCommit', () => {
  it('shares one run among concurrent submissions', async () => {
    const store = atomicStore(() => false);
    const group = new GroupCommit(store.run, { maxBatchSize: 100 });
    const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => group.submit([i])));
    expect(answers).toEqual([[10], [20], [30], [40], [50]]);
    expect(store.runs()).toBeLessThanOrEqual(2);
  });

  it('isolates a poison submission: it alone fails, every other gets its own answer and is committed once', async () => {
    const store = atomicStore((i) => i === 7);
    const group = new GroupCommit(store.run, { maxBatchSize: 100 });
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => settle(group.submit([i]))));
    outcomes.forEach((o, i) => {
      if (i === 7) expect((o as { error: { code: string } }).error.code).toBe('22P02');
      else expect(o).toEqual({ ok: [i * 10] });
    });
    expect([...store.committed].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== 7));
    expect(group.splits).toBeGreaterThan(0);
  });

  it('keeps a multi-item submission whole (a linked chain fails or succeeds together)', async () => {
    const store = atomicStore((i) => i === 102);
    const group = new GroupCommit(store.run, { maxBatchSize: 100 });
    const [a, b, c] = await Promise.all([settle(group.submit([1, 2])), settle(group.submit([101, 102, 103])), settle(group.submit([3]))]);
    expect(a).toEqual({ ok: [10, 20] });
    expect(b).toHaveProperty('error');
    expect(c).toEqual({ ok: [30] });
    expect(store.committed).not.toContain(101);
    expect(store.committed).not.toContain(103);
  });

  it('does not split on a systemic failure: the database is down for everyone', async () => {
    const down = new AppError('database_unavailable', 'the database is not answering');
    const store = atomicStore(() => true, () => down);
    const group = new GroupCommit(store.run, { maxBatchSize: 100 });
    const first = settle(group.submit([0]));
    const rest = Array.from({ length: 9 }, (_, i) => settle(group.submit([i + 1])));
    const outcomes = await Promise.all([first, ...rest]);
    for (const o of outcomes) expect(o).toEqual({ error: down });
    expect(group.splits).toBe(0);
    expect(store.runs()).toBe(2); // the lone first submission, then the other nine together
  });

  it('retries halves in arrival order', async () => {
    const seen: number[][] = [];
    const store = atomicStore((i) => i === 0);
    const group = new GroupCommit(
      async (items: number[]) => {
        seen.push(items);
        return store.run(items);
      },
      { maxBatchSize: 100 },
    );
    const blocker = settle(group.submit([99]));
    const all = Array.from({ length: 8 }, (_, i) => settle(group.submit([i])));
    await Promise.all([blocker, ...all]);
    const committedOrder = store.committed.filter((i) => i !== 99);
    expect(committedOrder).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(seen.length).toBeGreaterThan(2);
  });

  it('property: whatever the poison set, each good submission gets exactly its lone answer and each poison one its error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 40 }), fc.array(fc.nat(), { maxLength: 6 }), async (sizes, picks) => {
        let next = 0;
        const submissions = sizes.map((n) => Array.from({ length: n }, () => next++));
        const poison = new Set(picks.map((p) => p % next));
        const store = atomicStore((i) => poison.has(i));
        const group = new GroupCommit(store.run, { maxBatchSize: 50, maxInFlight: 2 });
        const outcomes = await Promise.all(submissions.map((s) => settle(group.submit(s))));
        outcomes.forEach((o, k) => {
          const items = submissions[k] as number[];
          if (items.some((i) => poison.has(i))) expect(o).toHaveProperty('error');
          else expect(o).toEqual({ ok: items.map((i) => i * 10) });
        });
        const good = submissions.filter((s) => !s.some((i) => poison.has(i))).flat();
        expect([...store.committed].sort((a, b) => a - b)).toEqual(good);
      }),
      { numRuns: 60 },
    );
  });
});

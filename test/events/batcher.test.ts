/**
 * The worker's batcher (issue 20): one event run per flush interval at most, a lone event at once
 * (after a short gather that events handed over just after it join), each event settled by the run
 * that took it, a busy lake waited for within a limit.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { AlreadyRunningError } from '../../src/common/errors.js';
import { EventBatcher } from '../../src/events/batcher.js';

const INTERVAL = 60;

function recorder(fail?: (call: number) => unknown, leftOut?: (ids: string[]) => Map<string, Error>) {
  const runs: string[][] = [];
  const run = async (ids: string[]) => {
    runs.push(ids);
    await sleep(5);
    const error = fail?.(runs.length);
    if (error) throw error;
    return leftOut?.(ids);
  };
  return { runs, run };
}

describe('EventBatcher', () => {
  it('runs a lone event at once, and a burst in a few runs, each event once', async () => {
    const { runs, run } = recorder();
    const batcher = new EventBatcher({ run, intervalMs: INTERVAL, maxWaitMs: 1_000 });
    const started = Date.now();
    await batcher.submit('a');
    expect(Date.now() - started).toBeLessThan(INTERVAL);
    expect(runs).toEqual([['a']]);
    // 300 events over ~2 intervals, some named twice.
    const burst: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      burst.push(batcher.submit(`r${i % 250}`));
      if (i % 50 === 0) await sleep(INTERVAL / 3);
    }
    await Promise.all(burst);
    const after = runs.slice(1);
    expect(after.length).toBeLessThanOrEqual(4);
    // A run names a referral once; one named again after its run started goes in the next run.
    for (const ids of after) expect(ids.length).toBe(new Set(ids).size);
    expect(new Set(after.flat()).size).toBe(250);
  });

  it('gathers: events handed over a few ms after a lone one join its run, not the next', async () => {
    // A backlog's messages come one invocation at a time, milliseconds apart, once the previous
    // interval is over; without the gather the first would run alone and the rest wait an interval.
    const { runs, run } = recorder();
    const interval = 1_000;
    const batcher = new EventBatcher({ run, intervalMs: interval, gatherMs: 40, maxWaitMs: 10_000 });
    const started = Date.now();
    const first = batcher.submit('a');
    await sleep(5);
    await Promise.all([first, batcher.submit('b'), batcher.submit('c')]);
    expect(runs).toEqual([['a', 'b', 'c']]);
    expect(Date.now() - started).toBeLessThan(interval / 2);
  });

  it('rejects every event of a failed run with its error, and goes on with the next', async () => {
    const { runs, run } = recorder((call) => (call === 1 ? new Error('upstream down') : undefined));
    const batcher = new EventBatcher({ run, intervalMs: INTERVAL, maxWaitMs: 1_000 });
    const first = batcher.submit('a');
    const results = await Promise.allSettled([first]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: new Error('upstream down') });
    await expect(batcher.submit('b')).resolves.toBeUndefined();
    expect(runs).toEqual([['a'], ['b']]);
  });

  it('rejects only the events of the referrals a run left out, with their own error', async () => {
    const { runs, run } = recorder(
      undefined,
      (ids) => new Map(ids.filter((id) => id.startsWith('bad')).map((id) => [id, new Error(`no ${id}`)])),
    );
    const batcher = new EventBatcher({ run, intervalMs: INTERVAL, maxWaitMs: 1_000 });
    await batcher.submit('first');
    const settled = await Promise.allSettled(['a', 'bad-1', 'b', 'bad-1', 'bad-2'].map((id) => batcher.submit(id)));
    expect(settled.map((s) => (s.status === 'rejected' ? (s.reason as Error).message : 'ok'))).toEqual([
      'ok',
      'no bad-1',
      'ok',
      'no bad-1',
      'no bad-2',
    ]);
    expect(runs).toEqual([['first'], ['a', 'bad-1', 'b', 'bad-2']]);
  });

  it('waits for a busy lake within its limit, then gives the events back to the queue', async () => {
    const busy = () => new AlreadyRunningError('a sync holds the lease');
    const waited = recorder((call) => (call < 3 ? busy() : undefined));
    await new EventBatcher({ run: waited.run, intervalMs: 20, maxWaitMs: 1_000 }).submit('a');
    expect(waited.runs.length).toBe(3);
    const refused = recorder(() => busy());
    const batcher = new EventBatcher({ run: refused.run, intervalMs: 20, maxWaitMs: 70 });
    await expect(batcher.submit('b')).rejects.toBeInstanceOf(AlreadyRunningError);
    expect(refused.runs.length).toBeLessThanOrEqual(4);
  });
});

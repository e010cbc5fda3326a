import { Batcher } from '../../server/infra/batcher';

describe('Batcher', () => {
  /** A run that waits until released, recording what it was given. */
  function harness(maxInFlight: number, maxBatch = 100) {
    const runs: Array<{ items: string[]; release(fail?: boolean): void }> = [];
    const b = new Batcher<string, string>(
      (items) =>
        new Promise((resolve, reject) => {
          runs.push({ items, release: (fail) => (fail ? reject(new Error('run failed')) : resolve(items.map((i) => `done:${i}`))) });
        }),
      (item) => item.split('#')[0]!,
      { maxInFlight, maxBatch },
    );
    return { b, runs };
  }
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  it('runs at once when free, and gathers what arrives while runs are under way into the next run', async () => {
    const { b, runs } = harness(1);
    const first = b.add('a');
    expect(runs.map((r) => r.items)).toEqual([['a']]);
    const later = ['b', 'c', 'd'].map((i) => b.add(i));
    expect(runs).toHaveLength(1);
    runs[0]!.release();
    expect(await first).toBe('done:a');
    await tick();
    expect(runs[1]!.items).toEqual(['b', 'c', 'd']);
    runs[1]!.release();
    expect(await Promise.all(later)).toEqual(['done:b', 'done:c', 'done:d']);
  });

  it('never puts one key in the same run twice, nor in two runs at once', async () => {
    const { b, runs } = harness(2);
    const results = [b.add('x#1'), b.add('x#2'), b.add('y#1'), b.add('x#3')];
    // x#1 runs; x#2 cannot join a run while x is under way, y#1 takes the second slot.
    expect(runs.map((r) => r.items)).toEqual([['x#1'], ['y#1']]);
    runs[0]!.release();
    await tick();
    expect(runs[2]!.items).toEqual(['x#2']);
    runs[1]!.release();
    runs[2]!.release();
    await tick();
    expect(runs[3]!.items).toEqual(['x#3']);
    runs[3]!.release();
    expect(await Promise.all(results)).toEqual(['done:x#1', 'done:x#2', 'done:y#1', 'done:x#3']);
  });

  it('a failed run rejects its own items only, and the next run goes on', async () => {
    const { b, runs } = harness(1, 2);
    const a = b.add('a');
    const [c, d, e] = ['c', 'd', 'e'].map((i) => b.add(i));
    runs[0]!.release(true);
    await expect(a).rejects.toThrow('run failed');
    await tick();
    expect(runs[1]!.items).toEqual(['c', 'd']); // at most maxBatch
    runs[1]!.release();
    expect(await Promise.all([c, d])).toEqual(['done:c', 'done:d']);
    await tick();
    runs[2]!.release();
    expect(await e).toBe('done:e');
  });
});

import { randomBytes } from 'node:crypto';
import { waitFor } from '../helpers/wait';
import { MemoryKv, RedisKv, type KvStore } from '../../server/infra/kv';

const stores: Array<[string, () => Promise<KvStore>]> = [['memory', async () => new MemoryKv(`t:${randomBytes(3).toString('hex')}:`)]];
if (process.env.REDIS_URL) {
  stores.push(['redis', () => RedisKv.connect(process.env.REDIS_URL!, `test:${randomBytes(4).toString('hex')}:`)]);
}


describe.each(stores)('%s key-value store', (_name, open) => {
  let kv: KvStore;
  beforeAll(async () => {
    kv = await open();
  });
  afterAll(async () => kv.close());

  it('gets, sets and deletes', async () => {
    expect(await kv.get('a')).toBeNull();
    await kv.set('a', '1');
    expect(await kv.get('a')).toBe('1');
    await kv.del('a');
    expect(await kv.get('a')).toBeNull();
  });

  it('expires values after their TTL, not before', async () => {
    await kv.set('ttl-long', 'kept', 60_000);
    await kv.set('ttl', 'x', 50);
    await waitFor('the 50 ms key to expire', async () => (await kv.get('ttl')) === null);
    expect(await kv.get('ttl-long')).toBe('kept');
    await kv.set('ttl', 'y');
    expect(await kv.get('ttl')).toBe('y'); // no TTL: kept
  });

  it('setIfAbsent lets exactly one of many racing callers win (a race across round trips on Redis)', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => kv.setIfAbsent('lock', String(i), 5_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const holder = await kv.get('lock');
    expect(await kv.delIfEquals('lock', 'someone-else')).toBe(false);
    expect(await kv.get('lock')).toBe(holder);
    expect(await kv.delIfEquals('lock', holder!)).toBe(true);
    expect(await kv.get('lock')).toBeNull();
  });

  it('incr counts every caller once and starts the TTL at the first increment', async () => {
    const counts = await Promise.all(Array.from({ length: 40 }, () => kv.incr('ctr', 10_000)));
    expect(counts.map((c) => c.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(counts.every((c) => c.ttlMs > 0 && c.ttlMs <= 10_000)).toBe(true);
    await kv.set('short', '0');
    await kv.del('short');
    const first = await kv.incr('short', 60);
    expect(first.count).toBe(1);
    // Incremented every 20 ms, the counter still starts again: a later increment does not push its TTL back.
    await waitFor('the counter to start again', async () => (await kv.incr('short', 60)).count === 1);
  });

  it('decr takes increments back without going below zero or reviving an expired counter', async () => {
    await Promise.all(Array.from({ length: 10 }, () => kv.incr('back', 10_000)));
    await Promise.all(Array.from({ length: 4 }, () => kv.decr('back')));
    expect(await kv.get('back')).toBe('6');
    expect((await kv.incr('back', 10_000)).count).toBe(7);
    await Promise.all(Array.from({ length: 9 }, () => kv.decr('back')));
    expect(await kv.get('back')).toBe('0');
    await kv.decr('never-counted');
    expect(await kv.get('never-counted')).toBeNull();
    await kv.incr('gone', 60);
    await waitFor('the 60 ms counter to expire', async () => (await kv.get('gone')) === null);
    await kv.decr('gone');
    expect(await kv.get('gone')).toBeNull();
  });

  it('answers ping', async () => {
    await expect(kv.ping()).resolves.toBeUndefined();
  });
});

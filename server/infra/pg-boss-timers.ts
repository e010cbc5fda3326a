import { setTimeout as sleep } from 'node:timers/promises';

type Delay = ((ms: number, error?: string) => Promise<void> & { abort(): void }) & { fromSnowball?: true };

/**
 * pg-boss's delay() requires node:timers/promises at every call. A worker loop that stops late (a fetch held up
 * under load) then loads a module after its owner has moved on: under jest, after the suite was torn down, which
 * fails the suite. This gives pg-boss the same delay on timers loaded once, here, before pg-boss's own modules load
 * (they take delay when they load). It replaces one export of a package file, checked at load.
 */
const tools = require('pg-boss/src/tools') as { delay: Delay };
if (typeof tools?.delay !== 'function') throw new Error('pg-boss internals changed: review server/infra/pg-boss-timers.ts');

if (!tools.delay.fromSnowball) {
  const delay: Delay = (ms, error) => {
    const ac = new AbortController();
    const promise = sleep(ms, null, { signal: ac.signal }).then(
      () => {
        if (error) throw new Error(error);
      },
      () => undefined, // aborted: resolves at once, as pg-boss expects
    ) as Promise<void> & { abort(): void };
    promise.abort = () => {
      if (!ac.signal.aborted) ac.abort();
    };
    return promise;
  };
  delay.fromSnowball = true;
  tools.delay = delay;
}

/**
 * Waits for a condition instead of sleeping a fixed time that races a timer: polls `probe` every `everyMs` until it
 * returns something other than undefined / false, and fails naming `what` once `timeoutMs` has passed.
 * The bound only keeps a broken run from hanging (a queued job on a loaded CI machine may take many seconds); nothing
 * is asserted about how long it took.
 */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

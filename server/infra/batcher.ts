/**
 * Gathers concurrent calls into one call of `run` with many items: while `maxInFlight` runs are under way, new
 * items wait and go together in the next run (nothing waits on a timer: an item arriving when a run is free goes at
 * once). One statement for many callbacks saves a round trip and a commit per item under load and costs nothing
 * when idle. Items with the same key are never in the same run, nor in two runs at once: each run can lock its rows
 * in any order without meeting another run of this process.
 */
export class Batcher<I, O> {
  private readonly waiting: Array<{ item: I; resolve(o: O): void; reject(err: unknown): void }> = [];
  private readonly busyKeys = new Set<string>();
  private inFlight = 0;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly key: (item: I) => string,
    private readonly opts: { maxInFlight: number; maxBatch: number },
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.opts.maxInFlight && this.waiting.length > 0) {
      const batch: typeof this.waiting = [];
      const keys: string[] = [];
      for (let i = 0; i < this.waiting.length && batch.length < this.opts.maxBatch; ) {
        const k = this.key(this.waiting[i]!.item);
        if (this.busyKeys.has(k)) {
          i++; // waits for the run that has its key
          continue;
        }
        this.busyKeys.add(k);
        keys.push(k);
        batch.push(this.waiting.splice(i, 1)[0]!);
      }
      if (batch.length === 0) return;
      this.inFlight++;
      this.run(batch.map((b) => b.item)).then(
        (outs) => batch.forEach((b, i) => b.resolve(outs[i]!)),
        (err: unknown) => batch.forEach((b) => b.reject(err)),
      ).finally(() => {
        this.inFlight--;
        for (const k of keys) this.busyKeys.delete(k);
        this.pump();
      });
    }
  }
}

import fs from 'node:fs';
import path from 'node:path';
import { claimDataDir, DataDirBusyError, type DataDirLock } from '../infra/data-dir';

/**
 * What the simulated WeChat keeps across restarts: records by kind and key (a person, a QR code, a WeChat Pay
 * order, …), each the record's whole current value as JSON. The sandbox's classes read their kinds once when they
 * are built and report every change; the value is read when it is written, so a burst of changes to one record is
 * one write.
 */
export interface SandboxState {
  /** Whether what is recorded outlives the process (false: memory only). */
  readonly durable: boolean;
  /** The records of a kind as they stood when the state was opened, in the order they were first written. */
  records<T>(kind: string): Array<[key: string, value: T]>;
  /** A record changed: `read()` gives its value when it is written, undefined when it is gone. */
  changed(kind: string, key: string, read: () => unknown): void;
  /** Writes what changed now (otherwise within FLUSH_MS of the change). */
  flush(): void;
  /** Writes what changed and lets the file go. */
  close(): void;
}

/** Nothing kept: a simulator that forgets on restart (tests that build the sandbox by hand, a busy directory). */
export function memorySandboxState(): SandboxState {
  return { durable: false, records: () => [], changed: () => undefined, flush: () => undefined, close: () => undefined };
}

const FILE = 'state.jsonl';
const HEADER = JSON.stringify({ snowball_sandbox_state: 1 });
const FLUSH_MS = 50;

interface Line {
  k: string;
  id: string;
  v?: unknown;
  gone?: true;
}

type StateLog = { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };

/**
 * The sandbox state under DATA_DIR, opened when it is first read or written (so that building it costs nothing
 * when no sandbox is mounted, and a boot that fails before the sandbox leaves no file behind).
 */
export function openSandboxState(dataDir: string, log: StateLog): SandboxState {
  let opened: SandboxState | undefined;
  const state = () => (opened ??= openSandboxStateNow(dataDir, log));
  return {
    get durable() {
      return state().durable;
    },
    records: (kind) => state().records(kind),
    changed: (kind, key, read) => state().changed(kind, key, read),
    flush: () => opened?.flush(),
    close: () => opened?.close(),
  };
}

/**
 * DATA_DIR/sandbox/state.jsonl: one JSON line per record written, appended; read back, the last line of a record
 * wins and a `gone` line removes it. Appends never rewrite what is there, so a kill loses at most the changes of the
 * last FLUSH_MS and can tear only the last line, which is skipped. On open, and whenever the file holds more than
 * twice the live records, it is rewritten whole into a temporary file, synced and renamed over the old one.
 * One process keeps the file (DATA_DIR/sandbox/snowball.lock); a second one on the same directory runs its sandbox in
 * memory and says so.
 */
function openSandboxStateNow(dataDir: string, log: StateLog): SandboxState {
  const dir = path.resolve(dataDir, 'sandbox');
  const file = path.join(dir, FILE);
  // The lock tells processes apart; two apps of one process (tests) are told apart here.
  if (openHere.has(file)) {
    log.warn({ dir }, 'the sandbox state is kept by another app of this process: this sandbox keeps its world in memory only');
    return memorySandboxState();
  }
  let lock: DataDirLock;
  try {
    lock = claimDataDir(dir, 'sandbox');
  } catch (err) {
    if (!(err instanceof DataDirBusyError)) throw err;
    log.warn({ pid: err.owner.pid, dir }, 'the sandbox state is kept by another process: this sandbox keeps its world in memory only');
    return memorySandboxState();
  }
  try {
    const state = new FileSandboxState(file, lock, log);
    openHere.add(file);
    return state;
  } catch (err) {
    lock.release();
    throw err;
  }
}

/** The state files open in this process. */
const openHere = new Set<string>();

class FileSandboxState implements SandboxState {
  readonly durable = true;
  /** The live records' lines, by kind and key: what a rewrite writes. */
  private readonly lines = new Map<string, string>();
  private readonly loaded = new Map<string, Array<[string, unknown]>>();
  private readonly dirty = new Map<string, { kind: string; key: string; read: () => unknown }>();
  private fd: number | undefined;
  private appended = 0;
  private rewriteDue = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly onExit = () => this.flush();

  constructor(
    private readonly file: string,
    private readonly lock: DataDirLock,
    private readonly log: StateLog,
  ) {
    this.load();
    this.fd = this.rewrite();
    process.on('exit', this.onExit);
  }

  records<T>(kind: string): Array<[string, T]> {
    return (this.loaded.get(kind) ?? []) as Array<[string, T]>;
  }

  changed(kind: string, key: string, read: () => unknown): void {
    if (this.closed) return;
    this.dirty.set(composite(kind, key), { kind, key, read });
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || this.dirty.size === 0) return;
    let out = '';
    for (const [id, d] of this.dirty) {
      const value = d.read();
      if (value === undefined) {
        if (!this.lines.delete(id)) continue;
        out += `${JSON.stringify({ k: d.kind, id: d.key, gone: true } satisfies Line)}\n`;
      } else {
        const line = JSON.stringify({ k: d.kind, id: d.key, v: value } satisfies Line);
        this.lines.set(id, line);
        out += `${line}\n`;
      }
      this.appended++;
    }
    this.dirty.clear();
    try {
      if (this.fd === undefined || this.rewriteDue || this.appended > 2 * this.lines.size + 1000) {
        const old = this.fd;
        this.fd = undefined;
        if (old !== undefined) fs.closeSync(old);
        this.fd = this.rewrite();
      } else if (out) {
        fs.writeSync(this.fd, out);
      }
    } catch (err) {
      // A write that failed half way may have left a torn line: the next flush rewrites the file whole.
      this.rewriteDue = true;
      this.log.error({ err, file: this.file }, 'the sandbox state could not be written; retrying with the next change');
    }
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    process.off('exit', this.onExit);
    try {
      if (this.fd !== undefined) fs.closeSync(this.fd);
    } finally {
      this.fd = undefined;
      this.lock.release();
      openHere.delete(this.file);
    }
  }

  private load(): void {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const rows = text.split('\n');
    if (rows[0] !== HEADER) throw new Error(`${this.file} is not a sandbox state file (move it away to start the sandbox empty)`);
    const byId = new Map<string, { kind: string; key: string; value: unknown }>();
    let skipped = 0;
    for (let i = 1; i < rows.length; i++) {
      const row = rows[i]!;
      if (row === '') continue;
      let line: Line;
      try {
        line = JSON.parse(row) as Line;
      } catch {
        skipped++; // the last line of a process killed while writing it
        continue;
      }
      if (typeof line.k !== 'string' || typeof line.id !== 'string') {
        skipped++;
        continue;
      }
      const id = composite(line.k, line.id);
      if (line.gone) {
        byId.delete(id);
        this.lines.delete(id);
      } else {
        // Map order is first insertion: a record keeps its place when it is written again.
        const known = byId.get(id);
        if (known) known.value = line.v;
        else byId.set(id, { kind: line.k, key: line.id, value: line.v });
        this.lines.set(id, row);
      }
    }
    if (skipped > 0) this.log.warn({ file: this.file, skipped }, 'sandbox state: unreadable lines skipped (a write cut short)');
    for (const r of byId.values()) {
      const list = this.loaded.get(r.kind) ?? [];
      list.push([r.key, r.value]);
      this.loaded.set(r.kind, list);
    }
  }

  /** The live records into a new file, synced, renamed over the old one; answers the new file open for appending. */
  private rewrite(): number {
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      let chunk = `${HEADER}\n`;
      for (const line of this.lines.values()) {
        chunk += `${line}\n`;
        if (chunk.length > 1 << 20) {
          fs.writeSync(fd, chunk);
          chunk = '';
        }
      }
      fs.writeSync(fd, chunk);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    syncDirectory(path.dirname(this.file));
    this.appended = 0;
    this.rewriteDue = false;
    return fs.openSync(this.file, 'a');
  }
}

const composite = (kind: string, key: string) => `${kind}\u0000${key}`;

/** The rename itself outlives a power cut only once the directory is synced (where the platform allows it). */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // not supported here (Windows): the rename is still atomic
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

import fs from 'node:fs';
import path from 'node:path';

/**
 * One process owns an embedded DATA_DIR: two PGlite instances on one directory each believe they own the files, and
 * what one writes the other overwrites or never sees. The owner keeps `snowball.lock` there with its pid, what it
 * is, and (a server, once listening) the address of its database socket, through which commands reach the same
 * database while it runs.
 */
export interface DataDirOwner {
  pid: number;
  /** `server`, or the command (`admin:create`, `import:taobao`, …). */
  role: string;
  startedAt: string;
  /** The embedded database's socket (`postgres://…`), once it is served. */
  databaseUrl?: string;
}

export class DataDirBusyError extends Error {
  override name = 'DataDirBusyError';
  constructor(
    readonly dataDir: string,
    readonly owner: DataDirOwner,
  ) {
    super(
      `DATA_DIR ${dataDir} is in use by ${owner.role === 'server' ? 'a running Snowball server' : `the command ${owner.role}`} (pid ${owner.pid}, since ${owner.startedAt}). ` +
        (owner.role === 'server'
          ? 'One process owns the embedded database: stop that server first, or give this one another DATA_DIR.'
          : 'Wait for that command to finish, or stop it.'),
    );
  }
}

const LOCK_FILE = 'snowball.lock';

export function lockPath(dataDir: string): string {
  return path.resolve(dataDir, LOCK_FILE);
}

/** The live owner of the directory, or undefined (no lock, or one left by a process that is gone). */
export function dataDirOwner(dataDir: string): DataDirOwner | undefined {
  const owner = readLock(lockPath(dataDir));
  return owner && alive(owner.pid) ? owner : undefined;
}

export interface DataDirLock {
  /** Records the database socket's address for commands run beside this process. */
  publish(databaseUrl: string): void;
  release(): void;
}

/** Takes the directory for this process, or throws DataDirBusyError naming the live owner. A stale lock is replaced. */
export function claimDataDir(dataDir: string, role: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = lockPath(dataDir);
  const me: DataDirOwner = { pid: process.pid, role, startedAt: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw err;
      const owner = readLock(file);
      if (owner && alive(owner.pid)) throw new DataDirBusyError(dataDir, owner);
      if (!owner && Date.now() - mtime(file) < 5_000) {
        throw new DataDirBusyError(dataDir, { pid: 0, role: 'server', startedAt: 'just now' }); // being written as we read
      }
      // Left by a process that is gone (killed, or the machine stopped): set aside, then replaced. Only one claimer
      // can move a given file; one that moved a live owner's lock (taken since it looked) puts it back.
      const aside = `${file}.stale.${process.pid}`;
      try {
        fs.renameSync(file, aside);
      } catch {
        continue;
      }
      const moved = readLock(aside);
      if (moved && alive(moved.pid)) {
        fs.renameSync(aside, file);
        throw new DataDirBusyError(dataDir, moved);
      }
      fs.rmSync(aside, { force: true });
    }
  }
  let held = true;
  const onExit = () => release();
  const release = () => {
    if (!held) return;
    held = false;
    process.off('exit', onExit);
    if (readLock(file)?.pid === process.pid) fs.rmSync(file, { force: true });
  };
  process.on('exit', onExit);
  return {
    publish(databaseUrl) {
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify({ ...me, databaseUrl }));
      fs.renameSync(tmp, file);
    },
    release,
  };
}

function mtime(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function readLock(file: string): DataDirOwner | undefined {
  try {
    const owner = JSON.parse(fs.readFileSync(file, 'utf8')) as DataDirOwner;
    return Number.isInteger(owner.pid) && owner.pid > 0 ? owner : undefined;
  } catch {
    return undefined; // absent, or half-written by a process that died writing it: stale either way
  }
}

/**
 * Whether a process with that pid runs. Our own pid in a lock we have not taken is a previous life of this
 * process's slot (a container's server is pid 1 after every restart): stale.
 */
function alive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

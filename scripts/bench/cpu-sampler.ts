import fs from 'node:fs';

/**
 * The CPU sampler of cpuMeter (harness.ts), in a process of its own: samples the CPU time of the app, PostgreSQL,
 * Redis and an external load command from /proc every 100 ms; answers 'stop' with the seconds each used since it
 * started. A process already running at the start counts from there; one started later (a backend, pgbench), from
 * its beginning, up to its last sample.
 */

/** CPU seconds (user + system) of a process, from /proc; 0 where /proc is missing. */
function processCpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime
  } catch {
    return 0;
  }
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/**
 * A PostgreSQL process counts for `database` unless it is a client backend of another database: its title reads
 * `postgres: <cluster>: <user> <database> <host>(<port>) <state>`; the server's own processes have no client.
 */
function servesDatabase(pid: string, database: string): boolean {
  const title = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  const client = /\s(\S+)\s(\S+)\s\S*\(\d+\)/.exec(title) ?? /\s(\S+)\s(\S+)\s\[local\]/.exec(title);
  return !client || client[2] === database;
}

/** Process ids and CPU seconds of every process whose command is one of `names` (PostgreSQL's: those serving `database`). */
function commandCpu(names: string[], database?: string): Array<{ key: string; name: string; seconds: number }> {
  const out: Array<{ key: string; name: string; seconds: number }> = [];
  let pids: string[] = [];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]; // tells a reused pid apart
      if (!names.includes(name) || (database && name === 'postgres' && !servesDatabase(pid, database))) continue;
      out.push({ key: `${pid}:${startTime}`, name, seconds: processCpuSeconds(Number(pid)) });
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

const opts = JSON.parse(process.argv[2] ?? '{}') as { appPid?: number; loadCommand?: string; database?: string };
const names = ['postgres', 'redis-server', ...(opts.loadCommand ? [opts.loadCommand] : [])];
const first = new Map<string, number>();
const last = new Map<string, { name: string; seconds: number }>();
let sampled = 0;
const sample = () => {
  for (const p of commandCpu(names, opts.database)) {
    if (!first.has(p.key)) first.set(p.key, sampled === 0 ? p.seconds : 0);
    last.set(p.key, p);
  }
  sampled++;
};
const appStart = opts.appPid ? processCpuSeconds(opts.appPid) : 0;
sample();
const timer = setInterval(sample, 100);
process.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  sample();
  const used = (name: string) => [...last].filter(([, p]) => p.name === name).reduce((sum, [key, p]) => sum + p.seconds - (first.get(key) ?? 0), 0);
  const totals = {
    appSeconds: opts.appPid ? processCpuSeconds(opts.appPid) - appStart : 0,
    postgresSeconds: used('postgres'),
    redisSeconds: used('redis-server'),
    loadSeconds: opts.loadCommand ? used(opts.loadCommand) : 0,
  };
  process.send!(totals, () => process.exit(0));
});
// The bench ended without asking (it failed): no sampler left behind.
process.on('disconnect', () => process.exit(0));
process.send!('ready');

// The test environment of every file: jest's node environment plus a check, when the file is done, that it left
// nothing running behind it. A server, socket or child process left open fails its file here, by name, instead of
// keeping a worker alive until jest kills it with a warning nobody reads; a pending timer is reported (LEAK …).
const { TestEnvironment } = require('jest-environment-node');

/** Handles every worker process has, whatever the test did. */
const BASELINE = new Set(['PipeWrap', 'TTYWrap', 'FSReqCallback', 'Immediate']);

class LeakCheckEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.testPath = context.testPath;
  }

  async setup() {
    await super.setup();
    this.before = counts();
  }

  async teardown() {
    // Sockets and servers closed by the file's last afterAll go away within a few turns of the event loop.
    let left = [];
    for (let i = 0; i < 50; i++) {
      left = grown(this.before, counts());
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 100).unref());
    }
    await super.teardown();
    if (left.length === 0) return;
    const where = `${this.testPath} left running: ${left.join(', ')}`;
    process.stderr.write(`LEAK ${where}\n`);
    // Servers, sockets and child processes fail the file; a timer still pending is reported above, not failed: the
    // clients the app closes (pg, redis, pg-boss) may leave one to fire once, after which nothing is left.
    if (process.env.SNOWBALL_LEAK_CHECK !== 'report' && left.some((l) => !l.endsWith('Timeout'))) {
      throw new Error(`${where} (close every app, server, client and child process a test starts)`);
    }
  }
}

function counts() {
  const c = new Map();
  for (const kind of process.getActiveResourcesInfo()) if (!BASELINE.has(kind)) c.set(kind, (c.get(kind) ?? 0) + 1);
  return c;
}

function grown(before, after) {
  const out = [];
  for (const [kind, n] of after) if (n > (before.get(kind) ?? 0)) out.push(`${n - (before.get(kind) ?? 0)} × ${kind}`);
  return out;
}

module.exports = LeakCheckEnvironment;

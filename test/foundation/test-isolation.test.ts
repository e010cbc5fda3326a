import fs from 'node:fs';
import { buildTestApp } from '../helpers/app';
import { createTestDatabase } from '../helpers/database';

/** The suite's own ground: each app its own data directory, removed with its database; nothing left behind. */
describe('test apps', () => {
  it('each keep their data (sandbox credentials, uploads) in a directory of their own, removed on close', async () => {
    const a = await buildTestApp();
    const b = await buildTestApp();
    const dirs = [a.app.infra.config.dataDir, b.app.infra.config.dataDir];
    try {
      expect(dirs[0]).not.toBe(dirs[1]);
      for (const dir of dirs) expect(fs.existsSync(dir)).toBe(true);
      expect(a.app.infra.config.uploadsDir.startsWith(dirs[0]!)).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
    expect(dirs.filter((dir) => fs.existsSync(dir))).toEqual([]);
  });

  it('started again on the same database, find the same directory; it goes when the database is dropped', async () => {
    const database = await createTestDatabase();
    const first = await buildTestApp({}, undefined, { database });
    const dir = first.app.infra.config.dataDir;
    await first.close();
    expect(fs.existsSync(dir)).toBe(true);
    const second = await buildTestApp({}, undefined, { database });
    expect(second.app.infra.config.dataDir).toBe(dir);
    await second.close();
    await database.drop();
    expect(fs.existsSync(dir)).toBe(false);
  });
});

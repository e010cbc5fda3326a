import { openCliDatabase, runCli } from './cli';

/** npm run migrate: applies pending migrations (the server also does this at start) and lists what ran. */
runCli(async () => {
  const db = await openCliDatabase();
  try {
    const applied: Array<{ name: string }> = await db.dataSource.query('SELECT name FROM schema_migrations ORDER BY id');
    process.stdout.write(`Schema is up to date: ${applied.length} migrations applied\n${applied.map((m) => `  ${m.name}`).join('\n')}\n`);
  } finally {
    await db.close();
  }
});

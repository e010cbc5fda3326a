import fs from 'node:fs';
import path from 'node:path';
import { appModules } from '../../server/app';

const root = path.resolve(__dirname, '../..');

/** Where a module's source is: server/modules/<name>, unless it spans more (the member ledger's Taobao import). */
const FOLDERS: Record<string, string[]> = {
  members: ['server/modules/members', 'server/modules/taobao'],
  demo: ['server/sandbox/demo'],
};
const foldersOf = (name: string) => FOLDERS[name] ?? [`server/modules/${name}`];

/** Tables the platform owns (not a module): WeChat Pay's notification records and the flow runner's runs. */
const PLATFORM_TABLES = ['wxpay_notification', 'flow_run'];

const sourceFiles = (dir: string): string[] =>
  fs.existsSync(path.join(root, dir))
    ? fs.readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f))
    : [];

/** Table names a statement reads or writes: what follows FROM, JOIN, INTO, UPDATE, USING, TABLE in the source. */
export function tablesNamedIn(source: string): Set<string> {
  const named = new Set<string>();
  for (const m of source.matchAll(/\b(?:FROM|JOIN|INTO|UPDATE|USING|TABLE(?: IF (?:NOT )?EXISTS)?)\s+(?:ONLY\s+)?"?([a-z_][a-z0-9_]*)\b/g)) named.add(m[1]!);
  return named;
}

/** Every table the migrations create. */
function migratedTables(): string[] {
  const tables = new Set<string>();
  for (const f of sourceFiles('migrations')) {
    for (const m of fs.readFileSync(path.join(root, f), 'utf8').matchAll(/CREATE TABLE (?:IF NOT EXISTS )?"?([a-z_][a-z0-9_]*)/g)) tables.add(m[1]!);
  }
  return [...tables].sort();
}

describe('a module owns its tables', () => {
  const owner = new Map<string, string>();
  for (const m of appModules) for (const t of m.tables ?? []) owner.set(t, m.name);

  it('every table the migrations create has exactly one owner', () => {
    const listed = appModules.flatMap((m) => [...(m.tables ?? [])]);
    expect(listed.length).toBe(new Set(listed).size); // no table listed by two modules
    const unowned = migratedTables().filter((t) => !owner.has(t) && !PLATFORM_TABLES.includes(t));
    expect(unowned).toEqual([]);
  });

  it("no module's SQL names a table another module owns", () => {
    const violations: string[] = [];
    for (const m of appModules) {
      const files = foldersOf(m.name).flatMap(sourceFiles);
      expect(files.length).toBeGreaterThan(0); // the module's folder is where this test looks
      for (const file of files) {
        for (const table of tablesNamedIn(fs.readFileSync(path.join(root, file), 'utf8'))) {
          const by = owner.get(table);
          if (by && by !== m.name) violations.push(`${file} (${m.name}) names ${table}, owned by ${by}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  // A type (a role's name, say) may be shared; an entity class is a way into the other module's table.
  it("no module imports another module's entity classes", () => {
    const violations: string[] = [];
    for (const m of appModules) {
      const own = foldersOf(m.name);
      for (const file of own.flatMap(sourceFiles)) {
        for (const imp of fs.readFileSync(path.join(root, file), 'utf8').matchAll(/^import (?!type )[^;]*?from '([^']+\.entity)'/gm)) {
          const target = path.relative(root, path.resolve(root, path.dirname(file), imp[1]!));
          if (!own.some((dir) => target.startsWith(`${dir}/`))) violations.push(`${file} imports ${target}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('the scan finds a table in the shapes statements take', () => {
    const sql = `SELECT a.x FROM points_account a JOIN member m ON m.id = a.member_id;
      INSERT INTO check_in (x) VALUES (1); UPDATE store_order SET x = 1; DELETE FROM cart_item o USING product p`;
    expect([...tablesNamedIn(sql)].sort()).toEqual(['cart_item', 'check_in', 'member', 'points_account', 'product', 'store_order']);
  });
});

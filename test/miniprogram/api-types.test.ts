import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';

/**
 * The mini-program's API types are generated from the server's OpenAPI document (npm run gen:api-types) and committed:
 * this file fails when the committed file is not what the run's document gives, and when a name in api-types.ts does
 * not resolve to a shape of the generated file.
 */
const root = path.resolve(__dirname, '../..');
const generated = path.join(root, 'miniprogram/src/models/api.generated.ts');
const named = path.join(root, 'miniprogram/src/models/api-types.ts');

function runGenerator(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'scripts/gen-api-types.ts', ...args], { cwd: root, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

function documentFile(): string {
  const file = process.env.SNOWBALL_OPENAPI_FILE;
  if (!file) throw new Error('no OpenAPI document: jest.config.js runs test/helpers/openapi-global-setup.ts first');
  return file;
}

describe('generated mini-program API types', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-api-types-'));
  });
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it('are what the server’s OpenAPI document gives (npm run gen:api-types was run and committed)', async () => {
    const r = await runGenerator(['--check', '--document', documentFile()]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/api\.generated\.ts is up to date/);
  });

  it('are found stale once a mini-program route’s schema changes', async () => {
    const doc = JSON.parse(fs.readFileSync(documentFile(), 'utf8'));
    const card = doc.paths['/api/mp/me'].get.responses['200'].content['application/json'].schema;
    card.properties.birthday = { type: 'string' };
    card.required.push('birthday');
    const changed = path.join(scratch, 'changed.json');
    fs.writeFileSync(changed, JSON.stringify(doc));
    const r = await runGenerator(['--check', '--document', changed]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/api\.generated\.ts is stale.*npm run gen:api-types/);
  });

  it('leave out the routes the mini-program does not call, and any address of the server', () => {
    const text = fs.readFileSync(generated, 'utf8');
    const routes = [...text.matchAll(/^ {4}"(\/[^"]+)": \{$/gm)].map((m) => m[1]);
    expect(routes.length).toBeGreaterThan(20);
    expect(routes.filter((r) => !r!.startsWith('/api/mp/'))).toEqual([]);
    expect(routes).toEqual([...routes].sort());
    expect(text).not.toMatch(/127\.0\.0\.1|localhost/);
  });

  it('name in api-types.ts only shapes that exist: none is never or any', () => {
    const program = ts.createProgram([named], { strict: true, noEmit: true, types: [], skipLibCheck: true, target: ts.ScriptTarget.ES2020 });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(errors).toEqual([]);
    const checker = program.getTypeChecker();
    const file = program.getSourceFile(named)!;
    const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(file)!);
    const bad = exports
      .map((s) => [s.name, checker.getDeclaredTypeOfSymbol(s)] as const)
      .filter(([, t]) => t.flags & (ts.TypeFlags.Never | ts.TypeFlags.Any | ts.TypeFlags.Unknown))
      .map(([name]) => name);
    expect(exports.length).toBeGreaterThan(30);
    expect(bad).toEqual([]);
    // One shape spelled out, so that a resolution to some other object cannot pass either.
    const order = checker.getDeclaredTypeOfSymbol(exports.find((s) => s.name === 'OrderStatus')!);
    expect(checker.typeToString(order)).toBe('"pending_payment" | "paid" | "shipped" | "completed" | "cancelled" | "refunded"');
  });
});

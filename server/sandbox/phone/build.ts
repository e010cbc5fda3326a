import fs from 'node:fs';
import path from 'node:path';
import { compileWxss } from './wxss';

/**
 * Builds the browser phone from the mini-program itself (miniprogram/src): its TypeScript bundled with esbuild into
 * one script beside the runtime (j-component over miniprogram-exparser, the browser `wx`, the phone's chrome), and
 * its WXSS compiled into one stylesheet. Built once per process, on the first request.
 */

export interface PhoneBundle {
  js: string;
  css: string;
  /** Bytes of the script and the stylesheet, as served. */
  bytes: { js: number; css: number };
  builtMs: number;
}

export interface PhoneComponent {
  id: string;
  path: string;
  tagName: string;
  classPrefix: string;
  wxml: string;
  json: Record<string, unknown>;
  /** usingComponents resolved to component ids. */
  using: Record<string, string>;
}

const RUNTIME_DIR = path.join(__dirname, 'runtime');
export const MINIPROGRAM_ROOT = path.resolve(__dirname, '../../../miniprogram/src');

const slug = (p: string) => p.replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-|-$/g, '');
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;

/** Every page of app.json (main package first, then subpackages), as paths under miniprogram/src. */
export function pagesOf(appJson: Record<string, unknown>): string[] {
  const pages = [...((appJson.pages as string[]) ?? [])];
  for (const sub of (appJson.subpackages as Array<{ root: string; pages: string[] }>) ?? []) {
    for (const p of sub.pages) pages.push(path.posix.join(sub.root, p));
  }
  return pages;
}

/** Reads a page and the components it uses (recursively); children come before the component that uses them. */
export function collectComponents(root: string, pages: string[]): { components: PhoneComponent[]; css: string } {
  const byPath = new Map<string, PhoneComponent>();
  const order: PhoneComponent[] = [];
  const cssParts: string[] = [];
  const appWxss = fs.existsSync(path.join(root, 'app.wxss')) ? fs.readFileSync(path.join(root, 'app.wxss'), 'utf8') : '';

  const visit = (rel: string, tagName: string, isPage: boolean): string => {
    const known = byPath.get(rel);
    if (known) return known.id;
    const abs = path.join(root, rel);
    const json = readJson(`${abs}.json`);
    const using: Record<string, string> = {};
    const comp: PhoneComponent = {
      id: `c-${slug(rel)}`,
      path: rel,
      tagName,
      classPrefix: slug(rel),
      wxml: fs.readFileSync(`${abs}.wxml`, 'utf8'),
      json,
      using,
    };
    byPath.set(rel, comp);
    for (const [key, value] of Object.entries((json.usingComponents as Record<string, string>) ?? {})) {
      const child = value.startsWith('/') ? value.slice(1) : path.posix.join(path.posix.dirname(rel), value);
      using[key] = visit(path.posix.normalize(child), key, false);
    }
    order.push(comp);
    const own = fs.existsSync(`${abs}.wxss`) ? fs.readFileSync(`${abs}.wxss`, 'utf8') : '';
    // app.wxss applies to pages (WeChat's default isolation keeps it out of components).
    if (isPage) cssParts.push(compileWxss(appWxss, comp.classPrefix));
    cssParts.push(compileWxss(own, comp.classPrefix));
    return comp.id;
  };
  for (const p of pages) visit(p, 'wx-page-body', true);
  return { components: order, css: cssParts.join('') };
}

/** The generated entry: the runtime booted with the mini-program's pages, components and lazy module loaders. */
function entrySource(root: string, appJson: Record<string, unknown>, components: PhoneComponent[]): string {
  const lines = [`import { boot } from ${JSON.stringify(path.join(RUNTIME_DIR, 'phone.ts'))};`, 'boot({'];
  lines.push(`  appJson: ${JSON.stringify(appJson)},`);
  lines.push(`  loadApp: () => require(${JSON.stringify(path.join(root, 'app.ts'))}),`);
  lines.push('  components: [');
  for (const c of components) {
    lines.push(`    { ...${JSON.stringify(c)}, load: () => require(${JSON.stringify(path.join(root, `${c.path}.ts`))}) },`);
  }
  lines.push('  ],');
  lines.push('});');
  return lines.join('\n');
}

/**
 * j-component turns rpx in inline styles (`style="width: {{n}}rpx"`) into as many px; the phone scales them like the
 * stylesheets do. Patched at bundle time, in the bundle only.
 */
const scaleInlineRpx = {
  name: 'snowball-inline-rpx',
  setup(build: import('esbuild').PluginBuild) {
    build.onLoad({ filter: /j-component[\\/]src[\\/]tool[\\/]utils\.js$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, 'utf8');
      const from = "return style.replace(/(\\d+)rpx/ig, '$1px')";
      if (!source.includes(from)) throw new Error('j-component changed: its transformRpx is not where the phone expects it');
      return { contents: source.replace(from, "return style.replace(/(\\d*\\.?\\d+)rpx/ig, (m, n) => 'calc(var(--rpx) * ' + Number(n) + ')')"), loader: 'js' };
    });
  },
};

export async function buildPhone(root = MINIPROGRAM_ROOT): Promise<PhoneBundle> {
  const started = Date.now();
  const { build } = await import('esbuild');
  const appJson = readJson(path.join(root, 'app.json'));
  const { components, css } = collectComponents(root, pagesOf(appJson));
  const result = await build({
    stdin: { contents: entrySource(root, appJson, components), resolveDir: RUNTIME_DIR, sourcefile: 'phone-entry.ts', loader: 'ts' },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    legalComments: 'none',
    define: { global: 'globalThis', 'process.env.NODE_ENV': '"production"' },
    plugins: [scaleInlineRpx],
    logLevel: 'silent',
  });
  const js = result.outputFiles[0].text;
  const fullCss = fs.readFileSync(path.join(RUNTIME_DIR, 'phone.css'), 'utf8') + css;
  return { js, css: fullCss, bytes: { js: Buffer.byteLength(js), css: Buffer.byteLength(fullCss) }, builtMs: Date.now() - started };
}

let cached: Promise<PhoneBundle> | null = null;

/** The phone, built on first use and kept for the life of the process (a failed build is tried again next time). */
export function phoneBundle(): Promise<PhoneBundle> {
  if (!cached) cached = buildPhone().catch((err) => {
    cached = null;
    throw err;
  });
  return cached;
}

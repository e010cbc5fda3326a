import fs from 'fs';
import path from 'path';

// The mini-program as WeChat DevTools will read it: every page and component complete, paths that resolve,
// and the project rules that code review would otherwise have to catch.
const projectDir = path.resolve(__dirname, '../../miniprogram');
const src = path.join(projectDir, 'src');

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : [full];
  });
}

const app = readJson(path.join(src, 'app.json')) as {
  pages: string[];
  subpackages: { root: string; pages: string[] }[];
  tabBar: { list: { pagePath: string; text: string }[] };
};
const allPages = [...app.pages, ...app.subpackages.flatMap((p) => p.pages.map((page) => `${p.root}/${page}`))];

describe('mini-program project', () => {
  it('points DevTools at src/ and compiles TypeScript there', () => {
    const project = readJson(path.join(projectDir, 'project.config.json')) as { miniprogramRoot: string; setting: { useCompilerPlugins: string[] } };
    expect(project.miniprogramRoot).toBe('src/');
    expect(project.setting.useCompilerPlugins).toEqual(['typescript']);
  });

  it('styles every button with the one theme: no WeChat default green or grey against the shop red', () => {
    const wxss = fs.readFileSync(path.join(src, 'app.wxss'), 'utf8');
    expect(wxss).toMatch(/^button \{[^}]*color: #e4393c;[^}]*white-space: nowrap;/m);
    // avatar-button: the chooseAvatar button is the avatar image itself, with no label or background of its own.
    const themed = /\b(primary-button|ghost-button|agree|disagree|danger|avatar-button)\b/;
    const unthemed = walk(src)
      .filter((f) => f.endsWith('.wxml'))
      .flatMap((f) => (fs.readFileSync(f, 'utf8').match(/<button\b[^>]*>/g) ?? []).filter((tag) => !themed.test(/class="([^"]*)"/.exec(tag)?.[1] ?? '')).map((tag) => `${path.relative(src, f)}: ${tag}`));
    expect(unthemed).toEqual([]);
    const colours = walk(src).filter((f) => f.endsWith('.wxss') || f.endsWith('.wxml')).filter((f) => /#(07c160|1aad19|09bb07|ffb400)/i.test(fs.readFileSync(f, 'utf8')));
    expect(colours).toEqual([]);
  });

  it('keeps only the four tab pages in the main package', () => {
    expect(app.tabBar.list.map((t) => t.text)).toEqual(['首页', '签到', '商城', '我的']);
    expect(app.pages).toEqual(app.tabBar.list.map((t) => t.pagePath));
  });

  it.each(allPages)('has every file of page %s, and its components resolve', (page) => {
    for (const ext of ['ts', 'wxml', 'wxss', 'json']) expect(fs.existsSync(path.join(src, `${page}.${ext}`))).toBe(true);
    const json = readJson(path.join(src, `${page}.json`)) as { usingComponents?: Record<string, string> };
    expect(json.usingComponents).toBeDefined();
    for (const target of Object.values(json.usingComponents ?? {})) {
      const base = target.startsWith('/') ? path.join(src, target) : path.join(src, path.dirname(page), target);
      for (const ext of ['ts', 'wxml', 'json']) expect(fs.existsSync(`${base}.${ext}`)).toBe(true);
      expect((readJson(`${base}.json`) as { component?: boolean }).component).toBe(true);
    }
  });

  it('has no compiled JavaScript in the sources', () => {
    expect(walk(src).filter((f) => f.endsWith('.js'))).toEqual([]);
  });

  it('calls wx.request from the request wrapper only', () => {
    const callers = walk(src)
      .filter((f) => f.endsWith('.ts') && /\bwx\.request\(/.test(fs.readFileSync(f, 'utf8')))
      .map((f) => path.relative(src, f));
    expect(callers).toEqual([path.join('services', 'request.ts')]);
  });

  it('divides money by 100 in the one formatter only', () => {
    const dividers = walk(src)
      .filter((f) => f.endsWith('.ts') && /\/\s*100\b/.test(fs.readFileSync(f, 'utf8')))
      .map((f) => path.relative(src, f));
    expect(dividers).toEqual([path.join('models', 'money.ts')]);
  });

  it('never makes a follow of the Official Account a condition', () => {
    const texts = walk(src).filter((f) => /\.(ts|wxml|json)$/.test(f)).map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    expect(texts).not.toMatch(/关注后|需关注公众号才|关注公众号后/);
  });
});

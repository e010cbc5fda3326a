// The browser phone: the mini-program's own pages (registered with j-component as miniprogram-simulate does, each
// component once), a page stack with WeChat's navigation, the status bar, navigation bar, capsule and tab bar, and a
// `wx` that is one sandbox person (see wx.ts). One phone per iframe, so every person has their own module state.
import * as jComponent from 'j-component';
import exparser from 'miniprogram-exparser';
import { registerBuiltins } from './builtins';
import { el, Layers } from './ui';
import { createWx, type PhoneHost } from './wx';

interface ComponentEntry {
  id: string;
  path: string;
  tagName: string;
  classPrefix: string;
  wxml: string;
  json: Record<string, unknown>;
  using: Record<string, string>;
  load: () => unknown;
}

interface BootOptions {
  appJson: AppJson;
  loadApp: () => unknown;
  components: ComponentEntry[];
}

interface AppJson {
  pages: string[];
  window?: { navigationBarTitleText?: string; navigationBarBackgroundColor?: string; navigationBarTextStyle?: string; backgroundColor?: string };
  tabBar?: { color?: string; selectedColor?: string; backgroundColor?: string; list: Array<{ pagePath: string; text: string }> };
}

type Instance = Record<string, unknown> & { data: Record<string, unknown> };

interface OpenPage {
  route: string;
  options: Record<string, string>;
  comp: jComponent.RootComponent;
  frame: HTMLElement;
  scroller: HTMLElement;
  title: string;
}

const callHook = (inst: Instance, name: string, ...args: unknown[]): unknown => {
  const fn = inst[name];
  if (typeof fn !== 'function') return undefined;
  try {
    return (fn as (...a: unknown[]) => unknown).apply(inst, args);
  } catch (err) {
    console.error(`${name} failed`, err);
    return undefined;
  }
};

function parseUrl(url: string, from: string): { route: string; options: Record<string, string> } {
  const [rawPath, query = ''] = url.split('?');
  let route = rawPath;
  if (route.startsWith('/')) route = route.slice(1);
  else {
    const parts = from.split('/').slice(0, -1);
    for (const seg of route.split('/')) {
      if (seg === '..') parts.pop();
      else if (seg !== '.') parts.push(seg);
    }
    route = parts.join('/');
  }
  const options: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) options[k] = v;
  return { route, options };
}

/**
 * exparser writes inline styles (style="width: {{n}}rpx") with setAttribute('style'), which a Content-Security-Policy
 * without 'unsafe-inline' styles refuses; through the CSSOM (style.cssText) the same styles are allowed.
 */
function stylesThroughCssom(): void {
  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (this: Element, name: string, value: string) {
    if (name.toLowerCase() === 'style' && this instanceof HTMLElement) {
      this.style.cssText = String(value);
      return;
    }
    setAttribute.call(this, name, value);
  };
}

export function boot(opts: BootOptions): void {
  stylesThroughCssom();
  const params = new URLSearchParams(location.search);
  const personId = params.get('person') ?? '';
  const sandboxBase = location.pathname.replace(/\/phone\/?.*$/, '');
  const appJson = opts.appJson;
  const win = appJson.window ?? {};
  const tabs = appJson.tabBar?.list ?? [];
  const isTab = (route: string) => tabs.some((t) => t.pagePath === route);
  const byPath = new Map(opts.components.map((c) => [c.path, c]));
  const loaded = new Set<string>();

  // The screen.
  const clock = el('span', { className: 'wx-status-time' });
  const tick = () => {
    const d = new Date();
    clock.textContent = `${d.getHours()}:${String(d.getMinutes()).padStart(2, '0')}`;
  };
  tick();
  setInterval(tick, 15_000);
  const status = el('div', { className: 'wx-status' }, clock, el('span', { className: 'wx-status-icons', textContent: '▂▄▆ 5G ▮' }));
  const back = el('button', { className: 'wx-nav-back', textContent: '‹', title: '返回' });
  back.setAttribute('aria-label', '返回');
  const title = el('div', { className: 'wx-nav-title' });
  const more = el('button', { className: 'wx-capsule-more', textContent: '···', title: '更多' });
  const exit = el('button', { className: 'wx-capsule-exit', textContent: '◉', title: '重新进入小程序' });
  const nav = el('div', { className: 'wx-nav' }, back, title, el('div', { className: 'wx-capsule' }, more, el('span', { className: 'wx-capsule-line' }), exit));
  if (win.navigationBarBackgroundColor) nav.style.backgroundColor = win.navigationBarBackgroundColor;
  if (win.navigationBarTextStyle === 'white') nav.classList.add('wx-nav-white');
  const pagesBox = el('div', { className: 'wx-pages' });
  const tabbar = el('div', { className: 'wx-tabbar' });
  if (appJson.tabBar?.backgroundColor) tabbar.style.backgroundColor = appJson.tabBar.backgroundColor;
  const layerRoot = el('div', { className: 'wx-layers' });
  const screen = el('div', { className: 'wx-screen' }, status, nav, pagesBox, tabbar, layerRoot);
  document.body.append(screen);
  const layers = new Layers(layerRoot);

  // The mini-program's globals, as WeChat defines them.
  const g = globalThis as unknown as Record<string, unknown>;
  let current: ComponentEntry | null = null;
  let appInstance: Record<string, unknown> = {};
  const stack: OpenPage[] = [];
  const tabPages = new Map<string, OpenPage>();

  g.Component = (options: Record<string, unknown>) => {
    const c = current;
    if (!c) throw new Error('Component() called outside a component module');
    jComponent.register({
      ...options,
      id: c.id,
      path: `/${c.path}`,
      template: c.wxml,
      usingComponents: c.using,
      tagName: c.tagName,
      options: { ...((options.options as Record<string, unknown>) ?? {}), classPrefix: c.classPrefix },
    });
  };
  g.Page = () => {
    throw new Error('Page() is not supported by the browser phone; the mini-program builds its pages with Component()');
  };
  g.Behavior = (definition: Record<string, unknown>) => jComponent.behavior(definition);
  g.App = (options: Record<string, unknown>) => {
    appInstance = { globalData: {}, ...options };
  };
  g.getApp = () => appInstance;
  g.getCurrentPages = () => stack.map((p) => Object.assign(p.comp.instance, { route: p.route, options: p.options }));

  /** Runs a component's module once (and those it uses first): the one place Component() is called. */
  const ensureLoaded = (path: string) => {
    if (loaded.has(path)) return;
    const entry = byPath.get(path);
    if (!entry) throw new Error(`no page or component ${path}`);
    loaded.add(path);
    for (const id of Object.values(entry.using)) {
      const child = opts.components.find((c) => c.id === id);
      if (child) ensureLoaded(child.path);
    }
    const before = current;
    current = entry;
    try {
      entry.load();
    } finally {
      current = before;
    }
  };

  const render = () => {
    const top = stack[stack.length - 1];
    for (const p of [...stack, ...tabPages.values()]) p.frame.hidden = p !== top;
    title.textContent = top?.title ?? '';
    back.hidden = stack.length < 2;
    const showTabs = !!top && isTab(top.route) && stack.length === 1;
    tabbar.hidden = !showTabs;
    tabbar.replaceChildren(
      ...tabs.map((t) =>
        el('button', {
          className: `wx-tab${top?.route === t.pagePath ? ' wx-tab-on' : ''}`,
          textContent: t.text,
          onclick: () => void router.switchTab(`/${t.pagePath}`),
        }),
      ),
    );
    for (const b of tabbar.querySelectorAll<HTMLElement>('.wx-tab')) {
      b.style.color = b.classList.contains('wx-tab-on') ? appJson.tabBar?.selectedColor ?? '#07c160' : appJson.tabBar?.color ?? '#888';
    }
  };

  const createPage = (route: string, options: Record<string, string>): OpenPage => {
    const entry = byPath.get(route);
    if (!entry) throw new Error(`page "${route}" is not in app.json`);
    ensureLoaded(route);
    const comp = jComponent.create(entry.id);
    const scroller = el('div', { className: 'wx-page' });
    if (win.backgroundColor) scroller.style.backgroundColor = win.backgroundColor;
    const frame = el('div', { className: 'wx-page-frame' }, scroller);
    frame.dataset.route = route;
    pagesBox.append(frame);
    comp.attach(scroller);
    const page: OpenPage = { route, options, comp, frame, scroller, title: String(entry.json.navigationBarTitleText ?? win.navigationBarTitleText ?? '') };
    let bottomFired = false;
    scroller.addEventListener('scroll', () => {
      const atBottom = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 50;
      if (atBottom && !bottomFired) callHook(comp.instance, 'onReachBottom');
      bottomFired = atBottom;
    });
    callHook(comp.instance, 'onLoad', { ...options });
    return page;
  };

  const show = (p: OpenPage) => {
    callHook(p.comp.instance, 'onShow');
    p.comp.triggerPageLifeTime('show');
  };
  const hide = (p: OpenPage) => {
    callHook(p.comp.instance, 'onHide');
    p.comp.triggerPageLifeTime('hide');
  };
  const unload = (p: OpenPage) => {
    callHook(p.comp.instance, 'onUnload');
    p.comp.detach();
    p.frame.remove();
  };
  const top = () => stack[stack.length - 1];

  const router = {
    async navigateTo(url: string) {
      const { route, options } = parseUrl(url, top()?.route ?? '');
      if (isTab(route)) throw new Error('navigateTo:fail can not navigateTo a tabbar page');
      if (stack.length >= 10) throw new Error('navigateTo:fail webview count limit exceed');
      const prev = top();
      const page = createPage(route, options);
      if (prev) hide(prev);
      stack.push(page);
      render();
      show(page);
    },
    async redirectTo(url: string) {
      const { route, options } = parseUrl(url, top()?.route ?? '');
      if (isTab(route)) throw new Error('redirectTo:fail can not redirectTo a tabbar page');
      const prev = stack.pop();
      if (prev) (isTab(prev.route) ? hide(prev) : unload(prev));
      const page = createPage(route, options);
      stack.push(page);
      render();
      show(page);
    },
    async switchTab(url: string) {
      const { route } = parseUrl(url, top()?.route ?? '');
      if (!isTab(route)) throw new Error('switchTab:fail can not switch to a page that is not in tabBar');
      const prev = top();
      while (stack.length) {
        const p = stack.pop()!;
        if (isTab(p.route)) {
          if (p === prev && p.route !== route) hide(p);
        } else unload(p);
      }
      let page = tabPages.get(route);
      const fresh = !page;
      if (!page) {
        page = createPage(route, {});
        tabPages.set(route, page);
      }
      stack.push(page);
      render();
      if (fresh || prev !== page) show(page);
    },
    async reLaunch(url: string) {
      const { route, options } = parseUrl(url, top()?.route ?? '');
      while (stack.length) {
        const p = stack.pop()!;
        if (!isTab(p.route)) unload(p);
      }
      for (const p of tabPages.values()) unload(p);
      tabPages.clear();
      const page = createPage(route, options);
      if (isTab(route)) tabPages.set(route, page);
      stack.push(page);
      render();
      show(page);
    },
    async navigateBack(delta = 1) {
      if (stack.length < 2) return;
      for (let i = 0; i < delta && stack.length > 1; i++) unload(stack.pop()!);
      render();
      show(top());
    },
    setTitle(text: string) {
      const p = top();
      if (p) p.title = text;
      render();
    },
    current: () => top(),
  };

  back.onclick = () => void router.navigateBack();
  exit.onclick = () => void router.reLaunch(`/${appJson.pages[0]}`);
  more.onclick = async () => {
    const i = await layers.actionSheet(['刷新（下拉刷新）', '重新进入小程序'], `沙盒小程序 · ${personId}`);
    const p = top();
    if (i === 0 && p) {
      pullRefresh.hidden = false;
      await callHook(p.comp.instance, 'onPullDownRefresh');
      pullRefresh.hidden = true;
    }
    if (i === 1) await router.reLaunch(`/${appJson.pages[0]}`);
  };
  const pullRefresh = el('div', { className: 'wx-pull-refresh', textContent: '· · ·', hidden: true });
  pagesBox.append(pullRefresh);

  // Taps: a click on the page is WeChat's tap, dispatched through exparser like j-component's touch events.
  pagesBox.addEventListener('click', (evt) => {
    const target = evt.target as HTMLElement;
    if (!(target instanceof Element)) return;
    const disabled = target.closest('wx-button[disabled]');
    if (disabled) return;
    exparser.Event.dispatchEvent(target, exparser.Event.create('tap', { x: evt.pageX, y: evt.pageY }, {
      originalEvent: evt,
      bubbles: true,
      capturePhase: true,
      composed: true,
      extraFields: { touches: [], changedTouches: [] },
    }));
    const button = target.closest('wx-button[open-type]');
    if (!button) return;
    const openType = String(button.getAttribute('open-type'));
    if (openType === 'agreePrivacyAuthorization') {
      // WeChat records the agreement, then tells the button's bindagreeprivacyauthorization.
      host.agreePrivacy();
      // Dispatched on the button's own node (its DOM element would route the event into its shadow tree).
      exparser.Event.dispatchEvent((button as unknown as { __wxElement: unknown }).__wxElement, exparser.Event.create('agreeprivacyauthorization', {}, { originalEvent: evt, bubbles: false, capturePhase: true, composed: true, extraFields: { touches: [], changedTouches: [] } }));
    } else void host.openType(button as HTMLElement, openType);
  });

  const host: PhoneHost = {
    personId,
    sandboxBase,
    layers,
    router,
    appJson,
    openType: async () => undefined,
    agreePrivacy: () => undefined,
    stopRefresh: () => {
      pullRefresh.hidden = true;
    },
  };
  const wx = createWx(host);
  g.wx = wx;
  registerBuiltins(layers);

  // Launch: app.ts first (App() and its onLaunch), then the launch page (?path=… or the first page).
  if (!personId) {
    layerRoot.append(el('div', { className: 'wx-fatal', textContent: '没有指定沙盒用户（?person=…）' }));
    return;
  }
  opts.loadApp();
  const launchPath = params.get('path') ?? appJson.pages[0];
  const launch = parseUrl(launchPath.startsWith('/') ? launchPath : `/${launchPath}`, '');
  const launchOptions = { path: launch.route, query: launch.options, scene: 1001 };
  (wx as unknown as { __launch: unknown }).__launch = launchOptions;
  callHook(appInstance as Instance, 'onLaunch', launchOptions);
  void (isTab(launch.route) ? router.switchTab(`/${launch.route}`) : router.reLaunch(launchPath.startsWith('/') ? launchPath : `/${launchPath}`)).then(() => {
    document.body.dataset.ready = 'true';
  });
}

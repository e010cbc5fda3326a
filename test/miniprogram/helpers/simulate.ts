import path from 'path';
import simulate from 'miniprogram-simulate';

const root = path.resolve(__dirname, '../../../miniprogram/src');

/** Loads a page or component of the mini-program by its path under miniprogram/src (once per test file). */
export function loadPage(page: string): string {
  return simulate.load(path.join(root, page), { compiler: 'simulate', rootPath: root });
}

/** Renders and attaches a loaded page, as the framework would. */
export function mount(id: string) {
  const comp = simulate.render(id);
  comp.attach(document.createElement('parent-wrapper'));
  return comp;
}

/** Lets pending requests, setData and timers of the page run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await simulate.sleep(0);
}

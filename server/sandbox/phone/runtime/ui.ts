// WeChat's native layers drawn over the pages: toasts, loading, modals, action sheets and bottom sheets. Text only
// (textContent), never markup from the server.

export type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { className?: string } = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

export class Layers {
  private toastTimer: ReturnType<typeof setTimeout> | undefined;
  private toastEl: HTMLElement | null = null;

  constructor(private readonly root: HTMLElement) {}

  toast(title: string, icon: 'success' | 'error' | 'loading' | 'none' = 'success', duration = 1500, mask = false): void {
    this.hideToast();
    const mark = icon === 'none' ? null : el('div', { className: `wx-toast-icon wx-toast-${icon}`, textContent: icon === 'success' ? '✓' : icon === 'error' ? '✕' : '' });
    const box = el('div', { className: `wx-toast${icon === 'none' ? ' wx-toast-text' : ''}` }, mark, el('div', { className: 'wx-toast-title', textContent: title }));
    this.toastEl = el('div', { className: `wx-toast-layer${mask ? ' wx-mask-clear' : ''}` }, box);
    this.toastEl.setAttribute('role', 'status');
    this.root.append(this.toastEl);
    if (icon !== 'loading') this.toastTimer = setTimeout(() => this.hideToast(), duration);
  }

  hideToast(): void {
    if (this.toastTimer) clearTimeout(this.toastTimer);
    this.toastTimer = undefined;
    this.toastEl?.remove();
    this.toastEl = null;
  }

  modal(o: { title?: string; content?: string; showCancel?: boolean; cancelText?: string; confirmText?: string; confirmColor?: string }): Promise<boolean> {
    return new Promise((resolve) => {
      const close = (ok: boolean) => {
        layer.remove();
        resolve(ok);
      };
      const confirm = el('button', { className: 'wx-modal-btn wx-modal-confirm', textContent: o.confirmText || '确定', onclick: () => close(true) });
      if (o.confirmColor) confirm.style.color = o.confirmColor;
      const layer = el(
        'div',
        { className: 'wx-mask' },
        el(
          'div',
          { className: 'wx-modal' },
          o.title ? el('div', { className: 'wx-modal-title', textContent: o.title }) : null,
          o.content ? el('div', { className: 'wx-modal-content', textContent: o.content }) : null,
          el('div', { className: 'wx-modal-actions' }, o.showCancel === false ? null : el('button', { className: 'wx-modal-btn wx-modal-cancel', textContent: o.cancelText || '取消', onclick: () => close(false) }), confirm),
        ),
      );
      layer.setAttribute('role', 'dialog');
      this.root.append(layer);
    });
  }

  /** A WeChat action sheet: the chosen index, or -1 for 取消. */
  actionSheet(items: string[], title?: string): Promise<number> {
    return new Promise((resolve) => {
      const close = (i: number) => {
        layer.remove();
        resolve(i);
      };
      const layer = el(
        'div',
        { className: 'wx-mask wx-mask-bottom', onclick: (e: MouseEvent) => e.target === layer && close(-1) },
        el(
          'div',
          { className: 'wx-actionsheet' },
          title ? el('div', { className: 'wx-actionsheet-title', textContent: title }) : null,
          ...items.map((text, i) => el('button', { className: 'wx-actionsheet-item', textContent: text, onclick: () => close(i) })),
          el('button', { className: 'wx-actionsheet-item wx-actionsheet-cancel', textContent: '取消', onclick: () => close(-1) }),
        ),
      );
      layer.setAttribute('role', 'dialog');
      this.root.append(layer);
    });
  }

  /** A bottom sheet with a body and one main button: resolves true when the button is pressed, false on close. */
  sheet(o: { title: string; body: Child[]; action: string; actionClass?: string }): Promise<boolean> {
    return new Promise((resolve) => {
      const close = (ok: boolean) => {
        layer.remove();
        resolve(ok);
      };
      const layer = el(
        'div',
        { className: 'wx-mask wx-mask-bottom' },
        el(
          'div',
          { className: 'wx-sheet' },
          el('div', { className: 'wx-sheet-head' }, el('button', { className: 'wx-sheet-close', textContent: '✕', title: '关闭', onclick: () => close(false) }), el('span', { textContent: o.title })),
          ...o.body,
          el('button', { className: `wx-sheet-action ${o.actionClass ?? ''}`, textContent: o.action, onclick: () => close(true) }),
        ),
      );
      layer.setAttribute('role', 'dialog');
      this.root.append(layer);
    });
  }

  /** A list to pick one of (addresses, regions, a picker's range): the index, or -1 when closed. */
  pick(title: string, rows: Array<{ title: string; sub?: string }>): Promise<number> {
    return new Promise((resolve) => {
      const close = (i: number) => {
        layer.remove();
        resolve(i);
      };
      const layer = el(
        'div',
        { className: 'wx-mask wx-mask-bottom', onclick: (e: MouseEvent) => e.target === layer && close(-1) },
        el(
          'div',
          { className: 'wx-sheet' },
          el('div', { className: 'wx-sheet-head' }, el('button', { className: 'wx-sheet-close', textContent: '✕', title: '关闭', onclick: () => close(-1) }), el('span', { textContent: title })),
          ...rows.map((r, i) => el('button', { className: 'wx-pick-row', onclick: () => close(i) }, el('div', { className: 'wx-pick-title', textContent: r.title }), r.sub ? el('div', { className: 'wx-pick-sub', textContent: r.sub }) : null)),
        ),
      );
      layer.setAttribute('role', 'dialog');
      this.root.append(layer);
    });
  }
}

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
    return this.open<boolean>('wx-mask', (close) => {
      const confirm = el('button', { className: 'wx-modal-btn wx-modal-confirm', textContent: o.confirmText || '确定', onclick: () => close(true) });
      if (o.confirmColor) confirm.style.color = o.confirmColor;
      return el(
        'div',
        { className: 'wx-modal' },
        o.title ? el('div', { className: 'wx-modal-title', textContent: o.title }) : null,
        o.content ? el('div', { className: 'wx-modal-content', textContent: o.content }) : null,
        el('div', { className: 'wx-modal-actions' }, o.showCancel === false ? null : el('button', { className: 'wx-modal-btn wx-modal-cancel', textContent: o.cancelText || '取消', onclick: () => close(false) }), confirm),
      );
    });
  }

  /** A WeChat action sheet: the chosen index, or -1 for 取消. */
  actionSheet(items: string[], title?: string): Promise<number> {
    return this.open<number>(
      'wx-mask wx-mask-bottom',
      (close) =>
        el(
          'div',
          { className: 'wx-actionsheet' },
          title ? el('div', { className: 'wx-actionsheet-title', textContent: title }) : null,
          ...items.map((text, i) => el('button', { className: 'wx-actionsheet-item', textContent: text, onclick: () => close(i) })),
          el('button', { className: 'wx-actionsheet-item wx-actionsheet-cancel', textContent: '取消', onclick: () => close(-1) }),
        ),
      -1,
    );
  }

  /** A bottom sheet with a body and one main button: resolves true when the button is pressed, false on close. */
  sheet(o: { title: string; body: Child[]; action: string; actionClass?: string }): Promise<boolean> {
    return this.open<boolean>('wx-mask wx-mask-bottom', (close) =>
      el(
        'div',
        { className: 'wx-sheet' },
        sheetHead(o.title, () => close(false)),
        ...o.body,
        el('button', { className: `wx-sheet-action ${o.actionClass ?? ''}`, textContent: o.action, onclick: () => close(true) }),
      ),
    );
  }

  /** A list to pick one of (addresses, regions, a picker's range): the index, or -1 when closed. */
  pick(title: string, rows: Array<{ title: string; sub?: string }>): Promise<number> {
    return this.open<number>(
      'wx-mask wx-mask-bottom',
      (close) =>
        el(
          'div',
          { className: 'wx-sheet' },
          sheetHead(title, () => close(-1)),
          ...rows.map((r, i) => el('button', { className: 'wx-pick-row', onclick: () => close(i) }, el('div', { className: 'wx-pick-title', textContent: r.title }), r.sub ? el('div', { className: 'wx-pick-sub', textContent: r.sub }) : null)),
        ),
      -1,
    );
  }

  /**
   * A dialog layer over the pages, removed when `close` is called with its answer; with `onMask`, a tap on the mask
   * itself (outside the dialog) answers that.
   */
  private open<T>(maskClass: string, dialog: (close: (answer: T) => void) => HTMLElement, onMask?: T): Promise<T> {
    return new Promise((resolve) => {
      const close = (answer: T) => {
        layer.remove();
        resolve(answer);
      };
      const layer: HTMLDivElement = el('div', { className: maskClass }, dialog(close));
      if (onMask !== undefined) layer.onclick = (e: MouseEvent) => void (e.target === layer && close(onMask));
      layer.setAttribute('role', 'dialog');
      this.root.append(layer);
    });
  }
}

/** A bottom sheet's head: its close button and title. */
function sheetHead(title: string, onClose: () => void): HTMLElement {
  return el('div', { className: 'wx-sheet-head' }, el('button', { className: 'wx-sheet-close', textContent: '✕', title: '关闭', onclick: onClose }), el('span', { textContent: title }));
}

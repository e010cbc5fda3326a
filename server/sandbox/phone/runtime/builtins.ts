// WeChat's built-in tags for the browser: registered with j-component so that their properties reach the DOM
// (an <img> for <image>, a real <input>, a drawn <switch>, pickers as sheets). The look is in phone.css.
import * as jComponent from 'j-component';
import type { Layers } from './ui';
import { REGIONS } from './regions';

type Caller = {
  data: Record<string, unknown>;
  _exparserNode: { $$: HTMLElement };
  setData(d: Record<string, unknown>): void;
  triggerEvent(name: string, detail?: unknown): void;
  __el?: HTMLElement;
};

const hostOf = (c: Caller) => c._exparserNode.$$;

/** Mirrors properties onto the host element as attributes (for the stylesheet and for the tap guard). */
function reflect(c: Caller, names: Record<string, string>): void {
  const host = hostOf(c);
  for (const [prop, attr] of Object.entries(names)) {
    const v = c.data[prop];
    if (v === false || v === undefined || v === null || v === '') host.removeAttribute(attr);
    else host.setAttribute(attr, v === true ? '' : String(v));
  }
}

const PLAIN = [
  'view', 'text', 'block', 'swiper-item', 'icon', 'navigator', 'rich-text', 'label', 'form', 'cover-view', 'cover-image',
  'checkbox-group', 'radio-group', 'movable-area', 'movable-view', 'progress', 'textarea', 'checkbox', 'radio', 'slider',
  'video', 'canvas', 'map', 'web-view', 'official-account', 'open-data', 'page-meta', 'navigation-bar', 'root-portal',
];

export function registerBuiltins(layers: Layers): void {
  for (const name of PLAIN) jComponent.register({ id: name, tagName: `wx-${name}`, template: '<slot/>' });

  const button = { type: 'type', size: 'size', plain: 'plain', disabled: 'disabled', loading: 'loading', openType: 'open-type' };
  jComponent.register({
    id: 'button',
    tagName: 'wx-button',
    template: '<slot/>',
    properties: { type: { type: String, value: 'default' }, size: { type: String, value: 'default' }, plain: Boolean, disabled: Boolean, loading: Boolean, openType: String, formType: String },
    observers: { 'type, size, plain, disabled, loading, openType'(this: Caller) { reflect(this, button); } },
    lifetimes: { attached(this: Caller) { reflect(this, button); hostOf(this).setAttribute('role', 'button'); } },
  });

  jComponent.register({
    id: 'image',
    tagName: 'wx-image',
    template: '<slot/>',
    properties: { src: String, mode: { type: String, value: 'scaleToFill' }, lazyLoad: Boolean },
    observers: { 'src, mode'(this: Caller) { syncImage(this); } },
    lifetimes: { attached(this: Caller) { syncImage(this); } },
  });

  const inputProps = { value: String, type: { type: String, value: 'text' }, password: Boolean, placeholder: String, disabled: Boolean, maxlength: { type: Number, value: 140 }, focus: Boolean, confirmType: String };
  jComponent.register({
    id: 'input',
    tagName: 'wx-input',
    template: '<slot/>',
    properties: inputProps,
    observers: { 'value, type, password, placeholder, disabled, maxlength'(this: Caller) { syncInput(this); } },
    lifetimes: { attached(this: Caller) { syncInput(this); } },
  });

  jComponent.register({
    id: 'switch',
    tagName: 'wx-switch',
    template: '<slot/>',
    properties: { checked: Boolean, disabled: Boolean, color: { type: String, value: '#04BE02' }, type: String },
    observers: { 'checked, disabled, color'(this: Caller) { syncSwitch(this); } },
    lifetimes: { attached(this: Caller) { syncSwitch(this); } },
  });

  jComponent.register({
    id: 'picker',
    tagName: 'wx-picker',
    template: '<slot/>',
    properties: { mode: { type: String, value: 'selector' }, range: Array, rangeKey: String, value: null, disabled: Boolean },
    lifetimes: {
      attached(this: Caller) {
        const host = hostOf(this);
        host.addEventListener('click', () => void openPicker(this, layers));
      },
    },
  });

  const scroll = { scrollX: 'scroll-x', scrollY: 'scroll-y' };
  jComponent.register({
    id: 'scroll-view',
    tagName: 'wx-scroll-view',
    template: '<slot/>',
    properties: { scrollX: Boolean, scrollY: Boolean, scrollTop: Number },
    observers: { 'scrollX, scrollY'(this: Caller) { reflect(this, scroll); } },
    lifetimes: { attached(this: Caller) { reflect(this, scroll); } },
  });

  // Swiper: the items side by side with scroll snapping (swiping is the browser's own scrolling).
  const swiper = { indicatorDots: 'indicator-dots', circular: 'circular' };
  jComponent.register({
    id: 'swiper',
    tagName: 'wx-swiper',
    template: '<slot/>',
    properties: { indicatorDots: Boolean, circular: Boolean, autoplay: Boolean, current: Number, interval: Number },
    observers: { 'indicatorDots, circular'(this: Caller) { reflect(this, swiper); } },
    lifetimes: { attached(this: Caller) { reflect(this, swiper); } },
  });
}

function syncImage(c: Caller): void {
  const host = hostOf(c);
  let img = c.__el as HTMLImageElement | undefined;
  if (!img) {
    img = document.createElement('img');
    img.alt = '';
    img.draggable = false;
    c.__el = img;
    host.append(img);
  }
  const src = String(c.data.src ?? '');
  if (src) {
    if (img.getAttribute('src') !== src) img.src = src;
  } else img.removeAttribute('src');
  host.setAttribute('mode', String(c.data.mode || 'scaleToFill'));
}

function syncInput(c: Caller): void {
  const host = hostOf(c);
  let input = c.__el as HTMLInputElement | undefined;
  if (!input) {
    input = document.createElement('input');
    c.__el = input;
    const field = input;
    // The native events stay inside the built-in; the page hears WeChat's bindinput / bindblur / bindconfirm.
    field.addEventListener('input', (e) => {
      e.stopPropagation();
      c.triggerEvent('input', { value: field.value, cursor: field.selectionStart ?? field.value.length, keyCode: 0 });
    });
    field.addEventListener('focus', (e) => {
      e.stopPropagation();
      c.triggerEvent('focus', { value: field.value });
    });
    field.addEventListener('blur', (e) => {
      e.stopPropagation();
      c.triggerEvent('blur', { value: field.value });
    });
    field.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') c.triggerEvent('confirm', { value: field.value });
    });
    host.append(field);
  }
  const type = String(c.data.type || 'text');
  input.type = c.data.password ? 'password' : 'text';
  input.inputMode = type === 'number' ? 'numeric' : type === 'digit' ? 'decimal' : type === 'idcard' ? 'text' : 'text';
  input.placeholder = String(c.data.placeholder ?? '');
  input.disabled = !!c.data.disabled;
  const max = Number(c.data.maxlength);
  if (max >= 0) input.maxLength = max;
  else input.removeAttribute('maxlength');
  const value = c.data.value === undefined || c.data.value === null ? '' : String(c.data.value);
  if (input.value !== value) input.value = value;
}

function syncSwitch(c: Caller): void {
  const host = hostOf(c);
  let knob = c.__el;
  if (!knob) {
    knob = document.createElement('span');
    knob.className = 'wx-switch-input';
    c.__el = knob;
    host.append(knob);
    host.setAttribute('role', 'switch');
    host.addEventListener('click', () => {
      if (c.data.disabled) return;
      const checked = !c.data.checked;
      c.setData({ checked });
      c.triggerEvent('change', { value: checked });
    });
  }
  const checked = !!c.data.checked;
  host.setAttribute('aria-checked', String(checked));
  knob.classList.toggle('wx-switch-input-checked', checked);
  knob.style.backgroundColor = checked ? String(c.data.color || '#04BE02') : '';
  knob.style.borderColor = checked ? String(c.data.color || '#04BE02') : '';
  if (c.data.disabled) host.setAttribute('disabled', '');
  else host.removeAttribute('disabled');
}

async function openPicker(c: Caller, layers: Layers): Promise<void> {
  if (c.data.disabled) return;
  const mode = String(c.data.mode);
  if (mode === 'region') {
    const i = await layers.pick('选择地区', REGIONS.map((r) => ({ title: r.join(' ') })));
    if (i >= 0) c.triggerEvent('change', { value: [...REGIONS[i]], code: [], postcode: '' });
    return;
  }
  if (mode === 'selector') {
    const range = (c.data.range as unknown[]) ?? [];
    const key = String(c.data.rangeKey ?? '');
    const i = await layers.pick('请选择', range.map((r) => ({ title: String(key && r && typeof r === 'object' ? (r as Record<string, unknown>)[key] : r) })));
    if (i >= 0) c.triggerEvent('change', { value: i });
  }
}

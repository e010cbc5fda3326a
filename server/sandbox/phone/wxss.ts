/**
 * WXSS for the browser phone: each component's classes are scoped by its class prefix (as exparser renders them,
 * `prefix--name`), tag selectors name the rendered built-ins (`button` → `wx-button`, `page` → `.wx-page`), and rpx
 * becomes a share of the frame's width (`--rpx` is 1/750 of it, set by the phone's stylesheet).
 */

/** The built-in tags the templates use; a selector on one of them must name its rendered element. */
const BUILTIN_TAGS = new Set([
  'view', 'text', 'button', 'input', 'textarea', 'image', 'switch', 'picker', 'scroll-view', 'swiper', 'swiper-item',
  'navigator', 'icon', 'checkbox', 'checkbox-group', 'radio', 'radio-group', 'label', 'form', 'rich-text', 'progress',
  'slider', 'video', 'canvas', 'map', 'block',
]);

export function rpxToCss(css: string): string {
  return css.replace(/(-?\d*\.?\d+)rpx\b/g, (_m, n: string) => `calc(var(--rpx) * ${Number(n)})`);
}

/** Rewrites one selector (no commas): classes prefixed, tags mapped; attribute values and pseudo names untouched. */
export function scopeSelector(selector: string, prefix: string): string {
  let out = '';
  let i = 0;
  let atCompoundStart = true;
  const ident = /^-?[_a-zA-Z][-_a-zA-Z0-9]*/;
  while (i < selector.length) {
    const ch = selector[i];
    const rest = selector.slice(i);
    if (ch === '[') {
      const end = selector.indexOf(']', i);
      const stop = end < 0 ? selector.length : end + 1;
      out += selector.slice(i, stop);
      i = stop;
      atCompoundStart = false;
    } else if (ch === '.') {
      const m = ident.exec(rest.slice(1));
      if (m) {
        out += prefix ? `.${prefix}--${m[0]}` : `.${m[0]}`;
        i += 1 + m[0].length;
      } else {
        out += ch;
        i++;
      }
      atCompoundStart = false;
    } else if (ch === ':') {
      // A pseudo-class or pseudo-element: copy its name (and any argument) as is.
      const m = /^::?-?[_a-zA-Z][-_a-zA-Z0-9]*/.exec(rest);
      const name = m ? m[0] : ':';
      i += name.length;
      out += name;
      if (selector[i] === '(') {
        let depth = 0;
        const start = i;
        for (; i < selector.length; i++) {
          if (selector[i] === '(') depth++;
          else if (selector[i] === ')' && --depth === 0) {
            i++;
            break;
          }
        }
        out += selector.slice(start, i);
      }
      atCompoundStart = false;
    } else if (/[\s>+~]/.test(ch)) {
      out += ch;
      i++;
      atCompoundStart = true;
    } else if (atCompoundStart && ident.test(rest)) {
      const tag = ident.exec(rest)![0];
      i += tag.length;
      out += tag === 'page' ? '.wx-page' : BUILTIN_TAGS.has(tag) ? `wx-${tag}` : tag;
      atCompoundStart = false;
    } else {
      out += ch;
      i++;
      atCompoundStart = false;
    }
  }
  return out;
}

/** Splits on top-level commas (not inside parentheses or brackets). */
function splitSelectors(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const ch = list[i];
    if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(list.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(list.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}

/** Compiles a WXSS text for one component: comments dropped, rules scoped, @media bodies scoped, rpx converted. */
export function compileWxss(source: string, prefix: string): string {
  const css = source.replace(/\/\*[\s\S]*?\*\//g, '');
  return withCjkFallback(rpxToCss(scopeBlock(css, prefix)));
}

/** A font list ending in a generic family gets the phone's Chinese font before it (for browsers without one). */
function withCjkFallback(css: string): string {
  return css.replace(/font-family\s*:([^;}]*?)\b(sans-serif|serif)\b/g, (_m, list: string, generic: string) => `font-family:${list}"Snowball Sans SC", ${generic}`);
}

function scopeBlock(css: string, prefix: string): string {
  let out = '';
  let i = 0;
  while (i < css.length) {
    const open = css.indexOf('{', i);
    if (open < 0) break;
    const head = css.slice(i, open).trim();
    // The matching close brace.
    let depth = 0;
    let close = open;
    for (; close < css.length; close++) {
      if (css[close] === '{') depth++;
      else if (css[close] === '}' && --depth === 0) break;
    }
    const body = css.slice(open + 1, close);
    if (/^@(media|supports)/.test(head)) out += `${head}{${scopeBlock(body, prefix)}}\n`;
    else if (head.startsWith('@')) out += `${head}{${body}}\n`;
    else out += `${splitSelectors(head).map((s) => scopeSelector(s, prefix)).join(',')}{${body.trim()}}\n`;
    i = close + 1;
  }
  return out;
}

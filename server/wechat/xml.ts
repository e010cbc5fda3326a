/**
 * The XML WeChat speaks: small documents of elements, text and CDATA, no attributes that matter.
 * This parser expands no entities beyond XML's five predefined ones and character references, refuses any
 * DOCTYPE (so no entity bombs and no external entities), caps the input size, and keeps every value a string
 * (a 64-bit MsgId stays exact).
 */
export type XmlValue = string | XmlRecord | XmlValue[];
export interface XmlRecord {
  [name: string]: XmlValue;
}

export class XmlError extends Error {
  override name = 'XmlError';
}

export const XML_MAX_BYTES = 64 * 1024;
const MAX_DEPTH = 8;

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeText(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&([^;&\s]{1,10});/g, (_m, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      if (!Number.isInteger(code) || code < 1 || code > 0x10ffff) throw new XmlError(`invalid character reference &${name};`);
      return String.fromCodePoint(code);
    }
    const v = PREDEFINED[name];
    if (v === undefined) throw new XmlError(`undeclared entity &${name}; (entities are not expanded)`);
    return v;
  });
}

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  parseDocument(): { root: string; value: XmlRecord } {
    this.skipProlog();
    if (this.s[this.i] !== '<') throw new XmlError('expected a root element');
    const { name, value } = this.parseElement(0);
    this.skipMisc();
    if (this.i < this.s.length) throw new XmlError('content after the root element');
    return { root: name, value: typeof value === 'string' ? (value === '' ? {} : { '#text': value }) : (value as XmlRecord) };
  }

  private skipWs() {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.i++;
      else break;
    }
  }

  private skipProlog() {
    if (this.s.charCodeAt(0) === 0xfeff) this.i = 1;
    this.skipWs();
    if (this.s.startsWith('<?xml', this.i)) {
      const end = this.s.indexOf('?>', this.i);
      if (end < 0) throw new XmlError('unterminated XML declaration');
      this.i = end + 2;
    }
    this.skipMisc();
  }

  /** Whitespace, comments and processing instructions; a DOCTYPE is refused outright. */
  private skipMisc() {
    for (;;) {
      this.skipWs();
      if (this.s.startsWith('<!--', this.i)) {
        const end = this.s.indexOf('-->', this.i + 4);
        if (end < 0) throw new XmlError('unterminated comment');
        this.i = end + 3;
      } else if (this.s.startsWith('<?', this.i)) {
        const end = this.s.indexOf('?>', this.i + 2);
        if (end < 0) throw new XmlError('unterminated processing instruction');
        this.i = end + 2;
      } else if (this.s.startsWith('<!', this.i) && !this.s.startsWith('<![CDATA[', this.i)) {
        throw new XmlError('DOCTYPE and entity declarations are not accepted');
      } else return;
    }
  }

  private parseName(): string {
    const start = this.i;
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      // Stop at whitespace, '/', '>' and '='.
      if (c === 32 || c === 9 || c === 10 || c === 13 || c === 47 || c === 62 || c === 61) break;
      this.i++;
    }
    if (this.i === start) throw new XmlError(`expected a name at ${start}`);
    return s.slice(start, this.i);
  }

  private parseElement(depth: number): { name: string; value: XmlValue } {
    if (depth > MAX_DEPTH) throw new XmlError('elements nested too deeply');
    this.i++; // '<'
    const name = this.parseName();
    // Attributes carry nothing in WeChat messages: skipped, but quotes are honoured so '>' inside one is not an end.
    for (;;) {
      this.skipWs();
      const c = this.s[this.i];
      if (c === undefined) throw new XmlError(`unterminated <${name}>`);
      if (c === '>') {
        this.i++;
        break;
      }
      if (c === '/' && this.s[this.i + 1] === '>') {
        this.i += 2;
        return { name, value: '' };
      }
      if (c === '"' || c === "'") {
        const end = this.s.indexOf(c, this.i + 1);
        if (end < 0) throw new XmlError('unterminated attribute value');
        this.i = end + 1;
      } else this.i++;
    }
    let text = '';
    let children: XmlRecord | undefined;
    let lists: Set<string> | undefined; // names already seen twice, whose value is an array of repeats
    const s = this.s;
    for (;;) {
      const lt = s.indexOf('<', this.i);
      if (lt < 0) throw new XmlError(`unterminated <${name}>`);
      if (lt > this.i) text += decodeText(s.slice(this.i, lt));
      this.i = lt;
      if (s.startsWith('</', lt)) {
        this.i = lt + 2;
        const close = this.parseName();
        if (close !== name) throw new XmlError(`</${close}> closes <${name}>`);
        this.skipWs();
        if (s[this.i] !== '>') throw new XmlError(`malformed </${close}>`);
        this.i++;
        break;
      }
      if (s.startsWith('<![CDATA[', lt)) {
        const end = s.indexOf(']]>', lt + 9);
        if (end < 0) throw new XmlError('unterminated CDATA');
        text += s.slice(lt + 9, end);
        this.i = end + 3;
        continue;
      }
      if (s.startsWith('<!--', lt)) {
        const end = s.indexOf('-->', lt + 4);
        if (end < 0) throw new XmlError('unterminated comment');
        this.i = end + 3;
        continue;
      }
      if (s.startsWith('<!', lt) || s.startsWith('<?', lt)) throw new XmlError('declarations are not accepted inside elements');
      const child = this.parseElement(depth + 1);
      children ??= Object.create(null) as XmlRecord; // no prototype: an element named __proto__ is just a name
      const existing = children[child.name];
      if (existing === undefined) children[child.name] = child.value;
      else if (lists?.has(child.name)) (existing as XmlValue[]).push(child.value);
      else {
        children[child.name] = [existing, child.value];
        (lists ??= new Set()).add(child.name);
      }
    }
    return { name, value: children ?? text };
  }
}

/** Parses one document; throws XmlError on anything malformed, oversized or declaring entities. */
export function parseXml(input: string | Buffer, maxBytes = XML_MAX_BYTES): { root: string; value: XmlRecord } {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > maxBytes) throw new XmlError(`document of ${size} bytes exceeds ${maxBytes}`);
  const text = typeof input === 'string' ? input : input.toString('utf8');
  return new Parser(text).parseDocument();
}

/** A WeChat message: the children of `<xml>`, every value a string or a nested record. */
export function parseWechatXml(input: string | Buffer, maxBytes = XML_MAX_BYTES): XmlRecord {
  const { root, value } = parseXml(input, maxBytes);
  if (root !== 'xml') throw new XmlError(`root element is <${root}>, expected <xml>`);
  return value;
}

/** CDATA that survives any text, including a ']]>' inside it. */
export function cdata(text: string): string {
  return `<![CDATA[${text.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
}

export type XmlOut = string | number | bigint | { [name: string]: XmlOut } | XmlOut[];

/** Builds `<xml>…</xml>`: strings as CDATA, numbers (and 64-bit bigints) bare, records nested, arrays as repeated elements. */
export function buildXml(fields: Record<string, XmlOut>, root = 'xml'): string {
  const out: string[] = [];
  const emit = (name: string, v: XmlOut) => {
    if (Array.isArray(v)) for (const item of v) emit(name, item);
    else if (typeof v === 'number' || typeof v === 'bigint') out.push(`<${name}>${v}</${name}>`);
    else if (typeof v === 'string') out.push(`<${name}>${cdata(v)}</${name}>`);
    else {
      out.push(`<${name}>`);
      for (const [k, child] of Object.entries(v)) emit(k, child);
      out.push(`</${name}>`);
    }
  };
  emit(root, fields);
  return out.join('');
}

/**
 * The text of one top-level element, read straight from the raw document without parsing it (the `Encrypt` of a
 * safe-mode callback must be verified before anything is parsed). Undefined when absent or not plain.
 */
export function rawElementText(raw: string, name: string): string | undefined {
  const open = `<${name}>`;
  // Markup only: an `<Encrypt>` typed by a user inside a CDATA field (compatible mode) is text, not the element.
  let from = 0;
  let start: number;
  for (;;) {
    start = raw.indexOf(open, from);
    if (start < 0) return undefined;
    const cdata = raw.indexOf('<![CDATA[', from);
    if (cdata < 0 || cdata > start) break;
    const cdataEnd = raw.indexOf(']]>', cdata + 9);
    if (cdataEnd < 0) return undefined;
    from = cdataEnd + 3;
  }
  const end = raw.indexOf(`</${name}>`, start + open.length);
  if (end < 0) return undefined;
  const inner = raw.slice(start + open.length, end).trim();
  if (inner.startsWith('<![CDATA[')) {
    if (!inner.endsWith(']]>')) return undefined;
    const v = inner.slice(9, -3);
    return v.includes(']]>') ? undefined : v;
  }
  return inner.includes('<') || inner.includes('&') ? undefined : inner;
}

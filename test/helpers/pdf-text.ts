import zlib from 'node:zlib';

interface PdfObject {
  dict: string;
  stream?: Buffer;
}

/** The objects of a PDF as pdfkit writes them (no object streams; every stream with a direct /Length), inflated. */
function objects(pdf: Buffer): Map<string, PdfObject> {
  const text = pdf.toString('latin1');
  const out = new Map<string, PdfObject>();
  const head = /(\d+) 0 obj\s*/g;
  let m: RegExpExecArray | null;
  while ((m = head.exec(text))) {
    const from = m.index + m[0].length;
    const endobj = text.indexOf('endobj', from);
    const streamAt = text.indexOf('stream', from);
    if (streamAt < 0 || streamAt > endobj) {
      out.set(m[1]!, { dict: text.slice(from, endobj) });
      continue;
    }
    const dict = text.slice(from, streamAt);
    const start = streamAt + (text.startsWith('stream\r\n', streamAt) ? 8 : 7);
    const length = Number(dict.match(/\/Length (\d+)/)![1]);
    let data = pdf.subarray(start, start + length);
    if (/\/FlateDecode/.test(dict)) data = zlib.inflateSync(data);
    out.set(m[1]!, { dict, stream: data });
    head.lastIndex = text.indexOf('endobj', start + length);
  }
  return out;
}

/** A ToUnicode CMap: glyph code (hex) → text. */
function cmap(source: string): Map<string, string> {
  const map = new Map<string, string>();
  const unhex = (h: string) => String.fromCodePoint(...(h.match(/.{4}/g) ?? []).map((u) => parseInt(u, 16)));
  for (const block of source.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
    for (const r of block[1]!.matchAll(/<([0-9a-f]+)>\s*<([0-9a-f]+)>\s*(\[[^\]]*\]|<[0-9a-f]+>)/gi)) {
      const lo = parseInt(r[1]!, 16);
      const hi = parseInt(r[2]!, 16);
      const targets = r[3]!.startsWith('[') ? [...r[3]!.matchAll(/<([0-9a-f]+)>/gi)].map((t) => unhex(t[1]!)) : null;
      for (let c = lo; c <= hi; c++) {
        const key = c.toString(16).padStart(4, '0');
        map.set(key, targets ? targets[c - lo]! : String.fromCodePoint(parseInt(r[3]!.slice(1, -1), 16) + c - lo));
      }
    }
  }
  for (const block of source.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    for (const r of block[1]!.matchAll(/<([0-9a-f]+)>\s*<([0-9a-f]+)>/gi)) map.set(r[1]!.toLowerCase().padStart(4, '0'), unhex(r[2]!));
  }
  return map;
}

/**
 * Every text a pdfkit PDF shows, in drawing order (one string per text-showing operator: a line of wrapped text),
 * read back through the fonts' ToUnicode maps: what a PDF reader would copy out of the page.
 */
export function pdfTexts(pdf: Buffer): string[] {
  const objs = objects(pdf);
  const fonts = new Map<string, Map<string, string>>();
  for (const o of objs.values()) {
    const res = o.dict.match(/\/Font\s*<<([\s\S]*?)>>/);
    if (!res) continue;
    for (const f of res[1]!.matchAll(/\/(\w+)\s+(\d+) 0 R/g)) {
      const toUnicode = objs.get(f[2]!)?.dict.match(/\/ToUnicode\s+(\d+) 0 R/);
      const stream = toUnicode && objs.get(toUnicode[1]!)?.stream;
      if (stream) fonts.set(f[1]!, cmap(stream.toString('latin1')));
    }
  }
  const texts: string[] = [];
  for (const o of objs.values()) {
    const content = o.stream?.toString('latin1');
    if (!content || !/\bBT\b/.test(content)) continue;
    let font: Map<string, string> | undefined;
    for (const op of content.matchAll(/\/(\w+)\s+[\d.]+\s+Tf|\[((?:\s*<[0-9a-f]*>\s*-?[\d.]*)*)\]\s*TJ|<([0-9a-f]*)>\s*Tj/gi)) {
      if (op[1]) {
        font = fonts.get(op[1]);
        continue;
      }
      const hex = op[2] !== undefined ? [...op[2].matchAll(/<([0-9a-f]*)>/gi)].map((h) => h[1]!).join('') : op[3]!;
      texts.push((hex.match(/.{4}/g) ?? []).map((code) => font?.get(code.toLowerCase()) ?? '\ufffd').join(''));
    }
  }
  return texts;
}

import fs from 'node:fs';
import iconv from 'iconv-lite';

export type TextEncoding = 'utf-8' | 'gb18030';

export interface CsvRecord {
  /** Physical line (1-based) where the record starts, as a spreadsheet shows it. */
  line: number;
  fields: string[];
  /** Why the record cannot be trusted as read (a NUL character, a quote never closed); its fields are then not used. */
  problem?: string;
}

export interface CsvReadOptions {
  /** Called with bytes read so far (progress bars, job progress). */
  onBytes?: (bytes: number) => void;
  /** A record longer than this is malformed (an unclosed quote eating the file). */
  maxRecordChars?: number;
  highWaterMark?: number;
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];

/** Node's ICU decoder is several times faster than the JavaScript one; small-ICU builds fall back to iconv-lite. */
const nativeGb18030 = (() => {
  try {
    new TextDecoder('gb18030');
    return true;
  } catch {
    return false;
  }
})();

/** UTF-8 (with or without BOM) when the first bytes decode as valid UTF-8, else GB18030 (a superset of GBK). */
export function detectEncoding(head: Buffer): { encoding: TextEncoding; bomLength: number } {
  if (head.length >= 3 && UTF8_BOM.every((b, i) => head[i] === b)) return { encoding: 'utf-8', bomLength: 3 };
  if (head.length >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))) {
    throw new CsvFormatError('UTF-16 files are not supported: save the report as CSV (GBK or UTF-8)');
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return { encoding: 'utf-8', bomLength: 0 };
  } catch {
    return { encoding: 'gb18030', bomLength: 0 };
  }
}

export class CsvFormatError extends Error {
  override name = 'CsvFormatError';
}

/**
 * Streams a seller-center CSV as batches of records (one per chunk read): encoding detected from the first bytes, RFC 4180 quoting (commas, quotes
 * and line breaks inside quotes), CRLF or LF, and Excel formula cells `="2036455525271594000"` read as their text.
 * Memory holds one chunk and the record being read, whatever the file size.
 */
export async function* readCsv(path: string, opts: CsvReadOptions = {}): AsyncGenerator<CsvRecord[]> {
  const maxRecord = opts.maxRecordChars ?? 1_000_000;
  // 64 KiB reads: a chunk's records are done with before the next chunk, so they die young and the garbage
  // collector's scavenges stay cheap (1 MiB chunks made parsing twice as slow).
  const stream = fs.createReadStream(path, { highWaterMark: opts.highWaterMark ?? 1 << 16 });
  let decode: ((b: Buffer) => string) | undefined;
  let flush: () => string = () => '';
  let bytes = 0;
  let buf = '';
  const state = { line: 1 };
  for await (const raw of stream as AsyncIterable<Buffer>) {
    let chunk = raw;
    bytes += chunk.length;
    if (!decode) {
      const { encoding, bomLength } = detectEncoding(chunk.subarray(0, 64 * 1024));
      chunk = chunk.subarray(bomLength);
      if (encoding === 'utf-8') {
        const d = new TextDecoder('utf-8');
        decode = (b) => d.decode(b, { stream: true });
        flush = () => d.decode();
      } else if (nativeGb18030) {
        const d = new TextDecoder('gb18030');
        decode = (b) => d.decode(b, { stream: true });
        flush = () => d.decode();
      } else {
        const d = iconv.getDecoder('gb18030');
        decode = (b) => d.write(b);
        flush = () => d.end() ?? '';
      }
    }
    buf += decode(chunk);
    // One batch per chunk: an await per record would cost more than parsing it.
    const batch: CsvRecord[] = [];
    const nul = buf.includes('\u0000');
    const pos = splitRecords(buf, false, state, batch);
    buf = buf.slice(pos);
    if (nul) markNul(batch);
    if (batch.length) yield batch;
    if (buf.length > maxRecord) throw new CsvFormatError(`Line ${state.line}: a record longer than ${maxRecord} characters (an unclosed quote?)`);
    opts.onBytes?.(bytes);
  }
  buf += flush();
  const rest: CsvRecord[] = [];
  splitRecords(buf, true, state, rest);
  markNul(rest);
  if (rest.length) yield rest;
}

/** PostgreSQL text cannot hold U+0000: a record with one is refused as a whole (its line is reported). */
function markNul(records: CsvRecord[]): void {
  for (const r of records) {
    if (!r.problem && r.fields.some((f) => f.includes('\u0000'))) r.problem = 'a cell holds a NUL character (U+0000)';
  }
}

const UNCLOSED = 'a quoted cell is never closed: the row runs to the end of the file';

const NONE = -1;
const UNKNOWN = -2;

/**
 * Appends the complete records of `s` to `out` and returns where the first incomplete one starts (all of `s` when
 * `final`). One pass: the next comma, CR and LF are each found with indexOf and remembered until passed, so a
 * field costs a slice, not a regular-expression match. `state.line` is the physical line of the next record.
 */
function splitRecords(s: string, final: boolean, state: { line: number }, out: CsvRecord[]): number {
  const n = s.length;
  let pos = 0;
  let comma = UNKNOWN;
  let cr = UNKNOWN;
  let lf = UNKNOWN;
  // The first delimiter (comma, CR or LF) at or after i, or n when there is none.
  const delimiter = (i: number): number => {
    if (comma !== NONE && comma < i) comma = s.indexOf(',', i);
    if (cr !== NONE && cr < i) cr = s.indexOf('\r', i);
    if (lf !== NONE && lf < i) lf = s.indexOf('\n', i);
    let d = n;
    if (comma !== NONE && comma < d) d = comma;
    if (cr !== NONE && cr < d) d = cr;
    if (lf !== NONE && lf < d) d = lf;
    return d;
  };
  records: while (pos < n) {
    const fields: string[] = [];
    let problem: string | undefined;
    let i = pos;
    let newlines = 0;
    for (;;) {
      let value: string;
      let c = s.charCodeAt(i);
      // `="…"` (Excel formula text) reads like a quoted cell whose text is the inner value.
      if (c === 61 /* = */ && s.charCodeAt(i + 1) === 34) {
        i += 1;
        c = 34;
      }
      if (c === 34 /* " */) {
        let j = i + 1;
        value = '';
        for (;;) {
          const k = s.indexOf('"', j);
          if (k < 0) {
            if (!final) break records;
            value += s.slice(j); // unclosed quote at end of file: the record is refused, with its line
            problem = UNCLOSED;
            i = n;
            break;
          }
          if (k + 1 >= n && !final) break records;
          if (s.charCodeAt(k + 1) === 34) {
            value += s.slice(j, k + 1);
            j = k + 2;
            continue;
          }
          value += s.slice(j, k);
          i = k + 1;
          break;
        }
        for (let p = value.indexOf('\n'); p >= 0; p = value.indexOf('\n', p + 1)) newlines++;
        // Text after the closing quote up to the delimiter is kept (lenient, like spreadsheets).
        const stop = i >= n ? n : delimiter(i);
        if (stop === n && !final) break records;
        if (stop > i) value += s.slice(i, stop);
        i = stop;
      } else {
        const stop = delimiter(i);
        if (stop === n && !final) break records;
        value = s.slice(i, stop);
        i = stop;
      }
      fields.push(value);
      if (i >= n) {
        out.push(problem ? { line: state.line, fields, problem } : { line: state.line, fields });
        state.line += newlines + 1;
        return n;
      }
      const d = s.charCodeAt(i);
      if (d === 44 /* , */) {
        i++;
        if (i >= n) {
          if (!final) break records;
          fields.push('');
          out.push({ line: state.line, fields });
          state.line += newlines + 1;
          return n;
        }
        continue;
      }
      if (d === 13 /* \r */) {
        if (i + 1 >= n && !final) break records;
        i += s.charCodeAt(i + 1) === 10 ? 2 : 1;
      } else {
        i += 1;
      }
      out.push({ line: state.line, fields });
      state.line += newlines + 1;
      pos = i;
      continue records;
    }
  }
  return pos;
}

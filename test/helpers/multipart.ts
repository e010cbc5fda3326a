import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** A multipart/form-data body for app.inject: text fields and files read from disk. */
export function multipart(fields: Record<string, string>, files: Record<string, string>): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----snowball${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  for (const [name, file] of Object.entries(files)) {
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${path.basename(file)}"\r\nContent-Type: text/csv\r\n\r\n`),
      fs.readFileSync(file),
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** A multipart/form-data body with one file given as bytes (the part's content type says nothing: the server sniffs). */
export function multipartBuffer(field: string, filename: string, bytes: Buffer): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----snowball${randomBytes(8).toString('hex')}`;
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

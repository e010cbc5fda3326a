import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { invalid } from '../../infra/errors';

export const MAX_SCREENSHOT_BYTES = 5 * 1024 * 1024;

export type ImageType = 'image/jpeg' | 'image/png' | 'image/webp' | 'image/heic';

/** The image type told by the file's own first bytes, never by its name or the client's content type. */
export function sniffImageType(bytes: Buffer): ImageType | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  if (bytes.length >= 12 && bytes.toString('latin1', 4, 8) === 'ftyp' && ['heic', 'heix', 'mif1', 'msf1'].includes(bytes.toString('latin1', 8, 12))) {
    return 'image/heic';
  }
  return null;
}

const EXT: Record<ImageType, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp', 'image/heic': 'heic' };

/** Where review screenshots live; local files under DATA_DIR, or object storage behind the same interface. */
export interface FileStore {
  put(bytes: Buffer, type: ImageType): Promise<string>;
  get(key: string): Promise<Buffer>;
  remove(key: string): Promise<void>;
}

export class LocalFileStore implements FileStore {
  constructor(private readonly root: string) {}

  async put(bytes: Buffer, type: ImageType): Promise<string> {
    const month = new Date().toISOString().slice(0, 7);
    const key = `${month}/${randomUUID()}.${EXT[type]}`;
    const file = this.resolve(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, bytes, { flag: 'wx' });
    return key;
  }

  get(key: string): Promise<Buffer> {
    return fs.readFile(this.resolve(key));
  }

  async remove(key: string): Promise<void> {
    await fs.rm(this.resolve(key), { force: true });
  }

  /** Keys are ours (month/uuid.ext); anything else is refused so that no path can escape the root. */
  private resolve(key: string): string {
    if (!/^\d{4}-\d{2}\/[0-9a-f-]{36}\.(jpg|png|webp|heic)$/.test(key)) throw invalid('bad_file_key', 'Unknown file');
    return path.join(this.root, key);
  }
}

export function checkScreenshot(bytes: Buffer): ImageType {
  if (bytes.length === 0) throw invalid('screenshot_missing', 'Attach a screenshot of your review');
  if (bytes.length > MAX_SCREENSHOT_BYTES) throw invalid('screenshot_too_large', 'The screenshot must be 5 MB or smaller');
  const type = sniffImageType(bytes);
  if (!type) throw invalid('screenshot_not_image', 'The screenshot must be a JPEG, PNG, WebP or HEIC image');
  return type;
}

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyReply } from 'fastify';

// A Chinese font for browsers without one (a bare Linux, the tests' chromium): the stylesheets name the system's
// fonts first, so a browser that has one never downloads these. The same files the insert cards are set in.
const FONT_DIR = path.join(path.dirname(createRequire(__filename).resolve('@embedpdf/fonts-sc')), '..', 'fonts');
const FONTS: Record<string, string> = { 'sans-sc-regular.otf': 'NotoSansHans-Regular.otf', 'sans-sc-bold.otf': 'NotoSansHans-Bold.otf' };

/** Answers `GET …/fonts/:name` with one of the two fonts, or a 404 in the app's error shape. */
export function sendCjkFont(name: string, reply: FastifyReply): FastifyReply {
  const file = FONTS[name];
  if (!file) return reply.code(404).send({ code: 'font_not_found', message: 'No such font' });
  return reply.type('font/otf').header('cache-control', 'public, max-age=604800').send(fs.createReadStream(path.join(FONT_DIR, file)));
}

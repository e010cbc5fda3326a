import type { FastifyPluginAsync } from 'fastify';
import { phoneBundle } from './build';
import { CSP_DIRECTIVES } from '../../infra/http';
import { sendCjkFont } from '../../infra/cjk-fonts';

/** The page of one phone; `?person=<id>` is whose phone it is, `&path=<page?query>` where it opens. */
const phonePage = `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>沙盒小程序</title>
<link rel="stylesheet" href="phone.css">
</head>
<body>
<script src="phone.js"></script>
</body>
</html>
`;

/**
 * The browser phone (/sandbox/phone/): the mini-program of miniprogram/src, built on the first request and cached.
 * Scripts and styles are files of this origin (no inline script, no eval).
 */
export const phoneRoutes: FastifyPluginAsync = async (app) => {
  const hidden = { schema: { hide: true }, config: { rateLimit: false as const } };
  app.get('/phone', hidden, async (req, reply) => reply.redirect(`${req.url.split('?')[0]}/${req.url.includes('?') ? `?${req.url.split('?')[1]}` : ''}`));
  // The sandbox page shows each phone in a frame of its own origin, and a picked screenshot is a blob: URL the phone
  // previews and uploads (wx.chooseMedia, wx.uploadFile); everything else of the policy stays.
  const framedBySandbox = {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        ...CSP_DIRECTIVES,
        'frame-ancestors': ["'self'"],
        'img-src': [...CSP_DIRECTIVES['img-src']!, 'blob:'],
        'connect-src': [...CSP_DIRECTIVES['connect-src']!, 'blob:'],
      },
    },
  };
  app.get('/phone/', { ...hidden, helmet: framedBySandbox }, async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(phonePage));
  app.get('/phone/phone.js', hidden, async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send((await phoneBundle()).js));
  app.get<{ Params: { name: string } }>('/phone/fonts/:name', hidden, async (req, reply) => sendCjkFont(req.params.name, reply));
  app.get('/phone/phone.css', hidden, async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send((await phoneBundle()).css));
};

import fs from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { CSP_DIRECTIVES } from '../infra/http';

/**
 * The merchant console in the browser (/console/): a staff login, then the 晒单评价有礼 review queue with each claim's
 * screenshot and its approve and reject buttons. Everything it does is a call to /api/admin with the staff token,
 * the same calls /docs makes; the page holds the token in sessionStorage (gone with the tab).
 */
const consolePage = `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Snowball 商家后台 · 晒单审核</title>
<link rel="stylesheet" href="/console/console.css">
</head>
<body>
<header><div class="wrap"><a href="/" class="home">Snowball</a> <b>商家后台</b> <span class="en">Merchant console</span><span id="who"></span><button id="logout" class="secondary" hidden>退出登录</button></div></header>
<main class="wrap">
  <section id="login">
    <h2>登录 <span class="en">Log in</span></h2>
    <form id="login-form">
      <label>用户名 <input id="username" name="username" autocomplete="username" required></label>
      <label>密码 <input id="password" name="password" type="password" autocomplete="current-password" required></label>
      <button type="submit">登录</button>
    </form>
    <p class="muted">沙盒的演示店铺：用户名 demo，密码在运行 npm start 的终端方框里。</p>
    <p id="login-error" class="error" hidden></p>
  </section>
  <section id="reviews" hidden>
    <h2>晒单评价有礼 · 待审核 <span class="en">Review claims to decide</span></h2>
    <p class="muted">核对截图里的评价属于这笔订单即可通过；奖励与评分无关（任何评分都可以）。</p>
    <div id="pending"></div>
    <p id="pending-empty" class="muted" hidden>没有待审核的申请。</p>
    <h2>已处理 <span class="en">Decided</span></h2>
    <table><thead><tr><th>订单号</th><th>奖励</th><th>状态</th><th>处理时间</th></tr></thead><tbody id="decided"></tbody></table>
  </section>
</main>
<script src="/console/console.js"></script>
</body>
</html>
`;

const PAGE_DIR = path.join(__dirname, 'page');
const FILES: Record<string, string> = { 'console.js': 'text/javascript; charset=utf-8', 'console.css': 'text/css; charset=utf-8' };

export const consoleRoutes: FastifyPluginAsync = async (app) => {
  const hidden = { schema: { hide: true }, config: { rateLimit: false as const } };
  // A screenshot is fetched with the staff token and shown as a blob: URL; everything else of the policy stays.
  const blobImages = { contentSecurityPolicy: { useDefaults: false, directives: { ...CSP_DIRECTIVES, 'img-src': [...CSP_DIRECTIVES['img-src']!, 'blob:'] } } };
  app.get('/console', hidden, async (_req, reply) => reply.redirect('/console/'));
  app.get('/console/', { ...hidden, helmet: blobImages }, async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(consolePage));
  app.get<{ Params: { name: string } }>('/console/:name', hidden, async (req, reply) => {
    const type = FILES[req.params.name];
    if (!type) return reply.code(404).send({ code: 'not_found', message: 'No such file' });
    return reply.type(type).header('cache-control', 'no-cache').send(await fs.promises.readFile(path.join(PAGE_DIR, req.params.name)));
  });
};

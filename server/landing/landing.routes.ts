import fs from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { sendCjkFont } from '../infra/cjk-fonts';
import { consoleRoutes } from '../console/console.routes';

export interface LandingOptions {
  /** Sandbox mode: the page links the sandbox, the people's phones and the demo login (never in production). */
  sandbox: boolean;
  /** Where the sandbox is mounted. */
  sandboxBase?: string;
  /** PUBLIC_URL, for the login example. */
  publicUrl: string;
}

/**
 * The address the README gives (`/`): what Snowball is and where to go next, in Chinese with English beside it for
 * developers. Its stylesheet and script are files of this origin, under the same Content-Security-Policy as every page.
 * It also mounts the merchant console's pages (/console/) it links to.
 */
export const landingRoutes: FastifyPluginAsync<LandingOptions> = async (app, opts) => {
  const hidden = { schema: { hide: true }, config: { rateLimit: false as const } };
  const html = landingPage(opts.sandbox, opts.sandboxBase ?? '/sandbox', opts.publicUrl);
  app.get('/', hidden, async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html));
  app.get<{ Params: { name: string } }>('/landing/:name', hidden, async (req, reply) => {
    const type = LANDING_FILES[req.params.name];
    if (!type) return reply.code(404).send({ code: 'not_found', message: 'No such file' });
    return reply.type(type).header('cache-control', 'no-cache').send(await fs.promises.readFile(path.join(PAGE_DIR, req.params.name)));
  });
  app.get<{ Params: { name: string } }>('/landing/fonts/:name', hidden, async (req, reply) => sendCjkFont(req.params.name, reply));
  // The merchant console's pages, linked from here.
  await app.register(consoleRoutes);
};

const PAGE_DIR = path.join(__dirname, 'page');
const LANDING_FILES: Record<string, string> = { 'landing.js': 'text/javascript; charset=utf-8', 'landing.css': 'text/css; charset=utf-8' };

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function landingPage(sandbox: boolean, base: string, publicUrl: string): string {
  const trySection = sandbox
    ? `
<section class="try" id="try">
  <h2>试一试 <span class="en">Try it, no WeChat account needed</span></h2>
  <p class="mode">沙盒模式：微信、微信支付都由服务器自己模拟，所有请求照常签名、加密、走 HTTP。<span class="en">Sandbox mode: WeChat and WeChat Pay are simulated by this server.</span></p>
  <div class="cards">
    <a class="card go" href="${base}" id="link-sandbox">
      <b>沙盒 · 模拟微信</b><span class="en">The WeChat sandbox</span>
      <p>新建用户，扫包裹卡二维码，发订单号绑定，看公众号消息。</p>
    </a>
    <div class="card" id="phones">
      <b>手机 · 小程序</b><span class="en">Phones running the mini-program</span>
      <p>每个沙盒用户一部手机，运行 <code>miniprogram/src</code> 里真实的小程序。</p>
      <ul id="phone-list"><li class="muted" id="phone-empty">还没有用户：在沙盒里点「新建用户」。<span class="en">No people yet: create one in the sandbox.</span></li></ul>
    </div>
    <div class="card" id="demo-login">
      <b>演示店铺的商家登录</b><span class="en">The demo shop's merchant login</span>
      <p id="demo-owner">首次启动时种下演示店铺：300 笔淘宝订单、一批包裹卡、晒单评价有礼活动和商品。</p>
      <p class="muted">仅沙盒模式 · <span class="en">sandbox only</span></p>
    </div>
  </div>
</section>`
    : '';
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Snowball 雪球 · 淘宝买家变微信会员</title>
<link rel="stylesheet" href="/landing/landing.css">
</head>
<body data-sandbox="${sandbox ? 'true' : 'false'}" data-base="${base}">
<header>
  <div class="wrap">
    <h1>Snowball <small>雪球</small></h1>
    <p class="lead">把淘宝、天猫的一次性买家，变成品牌自己的微信会员，并让他们一再回来。</p>
    <p class="en lead-en">Turns one-off Taobao / Tmall buyers into a brand's own WeChat members, and keeps them coming back.</p>
  </div>
</header>
<main class="wrap">
${trySection}
<section id="what">
  <h2>它做什么 <span class="en">What it does</span></h2>
  <div class="cards four">
    <div class="card"><b>包裹卡 → 关注</b><span class="en">Parcel inserts → followers</span><p>包裹里的带参二维码把买家带到品牌公众号；每次扫码、关注、取关都记到它的批次上。</p></div>
    <div class="card"><b>绑定淘宝订单</b><span class="en">Binding the Taobao buyer</span><p>在公众号里发订单号和收件手机后四位，或在小程序里绑定：订单、消费、等级和积分随之而来。</p></div>
    <div class="card"><b>会员小程序</b><span class="en">The mini-program</span><p>会员卡和会员码、每日签到、积分商城、商城与微信支付、晒单评价有礼（任何评分都可以）。</p></div>
    <div class="card"><b>一本会员账</b><span class="en">One member ledger</span><p>公众号、小程序 openid 按 unionid 合为一人；卖家中心导出直接导入；积分账只增不改。</p></div>
  </div>
</section>
<section id="dev">
  <h2>开发者 <span class="en">For developers</span></h2>
  <div class="cards two">
    <div class="card stack">
      <a class="go" href="/docs" id="link-docs"><b>API 文档</b><span class="en">API docs (OpenAPI)</span></a>
      <p>所有接口，可在页面里直接调用；机器可读的文档在 <code>/docs/json</code>。</p>
      <p><b>运行状态</b><span class="en">Health</span><a href="/healthz">/healthz</a> 进程存活 · <a href="/readyz">/readyz</a> 数据库与存储就绪。</p>
    </div>
    <a class="card go" href="/console/" id="link-console"><b>商家后台 · 晒单审核</b><span class="en">Merchant console: review claims</span><p>登录商家账号，看会员提交的评价截图，点「通过」发放奖励或写理由驳回。</p></a>
    <div class="card wide" id="merchant-login">
      <b>商家 API 登录</b><span class="en">Merchant API login</span>
      <p>用商家账号换取令牌，之后每个 <code>/api/admin</code> 请求都带上它：</p>
      <pre>curl -X POST ${escapeHtml(publicUrl)}/api/admin/login \\
  -H 'content-type: application/json' \\
  -d '{"username":"…","password":"…"}'
# → {"token":"…"}  Authorization: Bearer …</pre>
      <p class="muted">账号：启动时设置 <code>ADMIN_USERNAME</code>、<code>ADMIN_PASSWORD</code>，或 <code>npm run admin:create</code>。</p>
    </div>
  </div>
</section>
</main>
<footer class="wrap muted">Snowball · <span class="en">README.md in the repository has the set-up, the configuration and the commands.</span></footer>
<script src="/landing/landing.js"></script>
</body>
</html>
`;
}

import fs from 'node:fs';
import path from 'node:path';

/**
 * The sandbox's web page: create people and QR codes, act as a person (scan, message, click, unfollow, open their
 * phone with the mini-program) and watch each inbox fill. Its script and stylesheet are files (page/), no build step.
 */
export function sandboxPage(base: string): string {
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Snowball 沙盒 · 模拟微信</title>
<link rel="stylesheet" href="${base}/page/sandbox.css">
</head>
<body data-base="${base}">
<header>
  <h1>Snowball 沙盒 — 模拟微信</h1>
  <p id="account">下面的每个操作都像微信一样发给服务器：签名、加密、走 HTTP。</p>
</header>
<main>
  <div>
    <section id="demo" hidden>
      <h2>演示店铺：走一遍</h2>
      <ol>
        <li>新建一个用户（下方）。</li>
        <li>在用户卡片里选 <b id="demo-batch"></b>，点「扫码」：关注公众号，收到欢迎消息。</li>
        <li>发送下表中的一个订单号，再发送它旁边的四位数字：订单绑定到这个用户，积分显示在卡片上。</li>
        <li>点「打开小程序」（或欢迎消息里的小程序卡片）：同意隐私提示、签到、在商城用微信支付下单。</li>
        <li><span id="demo-reward"></span> 晒单评价有礼：在手机「我的 → 晒单评价有礼」填订单号、选评价截图提交；商家在 <a href="/console/" id="demo-console" target="_blank" rel="noopener">商家后台</a> 登录<span id="demo-owner"></span>，看截图点「通过」；之后在手机里点「··· → 刷新」和「确认收款」。</li>
      </ol>
      <table><thead><tr><th>订单号</th><th>再发送</th><th>买家</th><th></th></tr></thead><tbody id="demo-orders"></tbody></table>
    </section>
    <section>
      <h2>用户</h2>
      <div class="row"><input id="nickname" placeholder="昵称（可不填）"><button id="create-person">新建用户</button></div>
    </section>
    <section>
      <h2>二维码</h2>
      <div class="row"><input id="scene" placeholder="场景值，例如 batch-2024-11" value="parcel-card-1"><button id="create-qr">生成二维码</button></div>
      <div id="qrcodes"></div>
    </section>
    <section>
      <h2>发给服务器的推送</h2>
      <ul id="log"></ul>
    </section>
  </div>
  <div class="people" id="people"></div>
</main>
<script src="${base}/page/sandbox.js"></script>
</body>
</html>
`;
}

const PAGE_DIR = path.join(__dirname, 'page');
/** The page's own files: name → content type. */
export const SANDBOX_PAGE_FILES: Record<string, string> = { 'sandbox.js': 'text/javascript; charset=utf-8', 'sandbox.css': 'text/css; charset=utf-8' };
export const readSandboxPageFile = (name: string) => fs.promises.readFile(path.join(PAGE_DIR, name));

/**
 * The sandbox's web page: create people and QR codes, act as a person (scan, message, click, unfollow, open the
 * mini-program) and watch each inbox fill. Plain DOM, text only (never innerHTML of server data), no build step.
 */
export const sandboxPage = `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Snowball sandbox · WeChat, simulated</title>
<style>
  body { font: 14px/1.45 system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; margin: 0; background: #f3f4f6; color: #1f2937; }
  header { background: #07c160; color: #fff; padding: 12px 20px; }
  header h1 { margin: 0; font-size: 18px; }
  header p { margin: 2px 0 0; opacity: .9; font-size: 12px; }
  main { display: grid; grid-template-columns: 320px 1fr; gap: 16px; padding: 16px 20px; }
  section { background: #fff; border-radius: 8px; padding: 12px 14px; box-shadow: 0 1px 2px rgba(0,0,0,.06); margin-bottom: 16px; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  input, select, button { font: inherit; padding: 4px 8px; border: 1px solid #d1d5db; border-radius: 6px; }
  button { background: #07c160; color: #fff; border-color: #07c160; cursor: pointer; }
  button.secondary { background: #fff; color: #374151; border-color: #d1d5db; }
  .row { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; margin: 6px 0; }
  .qr { display: flex; gap: 10px; align-items: center; border-top: 1px solid #f0f0f0; padding: 6px 0; }
  .qr img { width: 72px; height: 72px; image-rendering: pixelated; }
  .people { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 16px; }
  .person h3 { margin: 0; font-size: 15px; }
  .muted { color: #6b7280; font-size: 12px; word-break: break-all; }
  .badge { font-size: 11px; padding: 1px 6px; border-radius: 10px; background: #e5e7eb; }
  .badge.on { background: #d1fae5; color: #065f46; }
  .inbox { background: #ededed; border-radius: 6px; padding: 8px; min-height: 60px; max-height: 260px; overflow: auto; }
  .bubble { background: #fff; border-radius: 6px; padding: 6px 8px; margin: 4px 0; white-space: pre-wrap; }
  .bubble .ch { font-size: 11px; color: #07c160; display: block; }
  .out { font-size: 12px; color: #374151; background: #f9fafb; border-radius: 6px; padding: 4px 8px; white-space: pre-wrap; }
  #log li { font-size: 12px; }
  #demo ol { margin: 4px 0 8px; padding-left: 20px; }
  #demo table { border-collapse: collapse; width: 100%; font-size: 12px; }
  #demo td, #demo th { text-align: left; padding: 2px 4px; border-top: 1px solid #f0f0f0; }
  #demo .no { font-family: ui-monospace, monospace; }
  #demo tr.bound { color: #9ca3af; }
</style>
</head>
<body>
<header>
  <h1>Snowball sandbox — WeChat, simulated</h1>
  <p id="account">Every action below goes to the server exactly as WeChat would send it: signed, encrypted, over HTTP.</p>
</header>
<main>
  <div>
    <section id="demo" hidden>
      <h2>Demo shop: try the journey</h2>
      <ol>
        <li>New person (below).</li>
        <li>In their card pick <b id="demo-batch"></b> and press Scan: they follow and get the welcome.</li>
        <li>Send one of these order numbers, then its four digits: the order is bound and its points appear.</li>
        <li>Claim the <span id="demo-reward"></span> review reward in the mini-program (<code>POST /api/mp/review-claims</code>, once the privacy notice is accepted: <code>POST /api/mp/privacy/accept</code>); the merchant approves it in <a href="../docs">/docs</a><span id="demo-owner"></span>.</li>
      </ol>
      <table><thead><tr><th>order number</th><th>then send</th><th>buyer</th><th></th></tr></thead><tbody id="demo-orders"></tbody></table>
    </section>
    <section>
      <h2>People</h2>
      <div class="row"><input id="nickname" placeholder="nickname (optional)"><button id="create-person">New person</button></div>
    </section>
    <section>
      <h2>QR codes</h2>
      <div class="row"><input id="scene" placeholder="scene, e.g. batch-2024-11" value="parcel-card-1"><button id="create-qr">Create QR code</button></div>
      <div id="qrcodes"></div>
    </section>
    <section>
      <h2>Deliveries to the server</h2>
      <ul id="log"></ul>
    </section>
  </div>
  <div class="people" id="people"></div>
</main>
<script>
(() => {
  const base = location.pathname.replace(/\\/$/, '');
  const api = async (method, path, body) => {
    const res = await fetch(base + '/api' + path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.message || ('HTTP ' + res.status));
    return data;
  };
  const el = (tag, props, ...children) => {
    const e = document.createElement(tag);
    Object.assign(e, props || {});
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  };
  let qrcodes = [];
  let demo = null;
  const cards = new Map();

  const describe = (r) => {
    const parts = (r.deliveries || []).map((d) => '#' + d.attempt + ' → ' + (d.status || 'no answer') + (d.error ? ' (' + d.error + ')' : ''));
    const reply = r.reply ? ('reply: ' + (r.reply.Content || '[' + r.reply.MsgType + ']')) : 'reply: success (none)';
    return r.event + (r.eventKey ? ' ' + r.eventKey : '') + '\\n' + parts.join(', ') + '\\n' + reply;
  };

  function personCard(p) {
    const out = el('div', { className: 'out', textContent: '' });
    const status = el('span', { className: 'badge' });
    const ticket = el('select', { className: 'ticket' });
    const deliveries = el('select', { className: 'deliveries' }, ...[1, 2, 3].map((n) => el('option', { value: String(n), textContent: n + '× delivery' })));
    const text = el('input', { className: 'text', placeholder: 'message, e.g. an order number' });
    const key = el('input', { className: 'key', placeholder: 'menu key', value: 'MEMBER_CENTER' });
    const inbox = el('div', { className: 'inbox' });
    const act = (label, cls, fn) => el('button', { textContent: label, className: cls, onclick: async () => {
      try { out.textContent = await fn(); } catch (e) { out.textContent = '⚠ ' + e.message; }
      refreshPerson(p.id);
    } });
    const card = el('section', { className: 'person', id: 'person-' + p.id },
      el('h3', {}, p.nickname + ' ', status),
      el('div', { className: 'muted', textContent: 'OA openid ' + p.oaOpenid + ' · MP openid ' + p.mpOpenid + ' · unionid ' + p.unionid }),
      el('div', { className: 'row' }, ticket, deliveries, act('Scan', 'scan', async () => describe(await api('POST', '/people/' + p.id + '/scan', { ticket: ticket.value, deliveries: Number(deliveries.value) })))),
      el('div', { className: 'row' }, text, act('Send', 'send', async () => describe(await api('POST', '/people/' + p.id + '/messages', { text: text.value || '你好' })))),
      el('div', { className: 'row' }, key, act('Click menu', 'secondary click', async () => describe(await api('POST', '/people/' + p.id + '/click', { key: key.value })))),
      el('div', { className: 'row' },
        act('Login code', 'secondary login', async () => 'wx.login code: ' + (await api('POST', '/people/' + p.id + '/login-code')).code),
        act('Unfollow', 'secondary unfollow', async () => describe(await api('POST', '/people/' + p.id + '/unfollow')))),
      out,
      el('h2', { textContent: 'Inbox' }),
      inbox);
    cards.set(p.id, { card, status, ticket, inbox, count: -1 });
    fillTickets(cards.get(p.id));
    return card;
  }

  function fillTickets(c) {
    const keep = c.ticket.value;
    const demoTicket = demo ? demo.batch.ticket : null;
    c.ticket.replaceChildren(...qrcodes.map((q) => el('option', { value: q.ticket, textContent: 'QR ' + q.scene + (q.ticket === demoTicket ? ' · ' + demo.batch.name : '') })));
    if (keep) c.ticket.value = keep;
    else if (demoTicket && qrcodes.some((q) => q.ticket === demoTicket)) c.ticket.value = demoTicket;
  }

  async function refreshPerson(id) {
    const c = cards.get(id);
    if (!c) return;
    const [p, inbox] = await Promise.all([api('GET', '/people/' + id), api('GET', '/people/' + id + '/inbox')]);
    c.status.textContent = p.following ? 'following' : 'not following';
    c.status.className = 'badge' + (p.following ? ' on' : '');
    if (inbox.items.length !== c.count) {
      c.count = inbox.items.length;
      c.inbox.replaceChildren(...inbox.items.map((m) => el('div', { className: 'bubble' }, el('span', { className: 'ch', textContent: m.channel + ' · ' + m.at.slice(11, 19) }), m.text)));
      c.inbox.scrollTop = c.inbox.scrollHeight;
    }
  }

  function showDemo() {
    const box = document.getElementById('demo');
    box.hidden = !demo;
    if (!demo) return;
    document.getElementById('demo-batch').textContent = 'QR ' + demo.batch.scene + ' · ' + demo.batch.name;
    document.getElementById('demo-reward').textContent = '¥' + (demo.rewardFen / 100).toFixed(2);
    document.getElementById('demo-owner').textContent = demo.ownerUsername ? ' (log in as ' + demo.ownerUsername + ', password in the server log)' : '';
    document.getElementById('demo-orders').replaceChildren(...demo.orders.map((o) => el('tr', { className: o.bound ? 'bound' : 'hint' },
      el('td', { className: 'no', textContent: o.orderNo }),
      el('td', { className: 'no', textContent: o.phoneLast4 }),
      el('td', { textContent: o.buyerNick + ' · ¥' + (o.totalFen / 100).toFixed(2) }),
      el('td', { textContent: o.bound ? 'bound' : '' }))));
  }

  async function refresh() {
    const [{ people }, qr, stats, shop] = await Promise.all([api('GET', '/people'), api('GET', '/qrcodes'), api('GET', '/stats'), api('GET', '/demo').catch(() => ({ demo: null }))]);
    qrcodes = qr.qrcodes;
    demo = shop.demo;
    showDemo();
    document.getElementById('account').textContent = 'Official Account ' + stats.originalId + ' · token fetches OA ' + stats.tokenFetches.oa + ', mini-program ' + stats.tokenFetches.mp;
    document.getElementById('qrcodes').replaceChildren(...qrcodes.map((q) => el('div', { className: 'qr' },
      el('img', { src: base + '/' + q.imageUrl, alt: 'QR ' + q.scene }),
      el('div', {}, el('div', { textContent: q.scene + (q.permanent ? ' (permanent)' : '') }), el('div', { className: 'muted', textContent: q.scans + ' scans · ' + (q.expiresAt ? 'until ' + q.expiresAt.slice(0, 10) : 'no expiry') })))));
    const container = document.getElementById('people');
    for (const p of people) if (!cards.has(p.id)) container.append(personCard(p));
    for (const c of cards.values()) fillTickets(c);
    document.getElementById('log').replaceChildren(...stats.deliveries.slice(0, 12).map((d) =>
      el('li', { textContent: d.at.slice(11, 19) + ' ' + d.type + ' #' + d.attempt + ' → ' + (d.status || 'no answer') + (d.error ? ' ' + d.error : '') })));
    await Promise.all(people.map((p) => refreshPerson(p.id)));
  }

  document.getElementById('create-person').onclick = async () => {
    await api('POST', '/people', { nickname: document.getElementById('nickname').value || undefined });
    document.getElementById('nickname').value = '';
    await refresh();
  };
  document.getElementById('create-qr').onclick = async () => {
    await api('POST', '/qrcodes', { scene: document.getElementById('scene').value || 'default' });
    await refresh();
  };
  refresh();
  setInterval(() => refresh().catch(() => undefined), 2000);
})();
</script>
</body>
</html>
`;

/** The page's inline <style> and <script> text, exactly as served: the Content-Security-Policy allows these by hash. */
export const sandboxPageInline = {
  style: [...sandboxPage.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!),
  script: [...sandboxPage.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!),
};

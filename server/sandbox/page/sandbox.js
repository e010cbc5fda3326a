// The sandbox page: people, QR codes, their inboxes and their phones (the mini-program, running in the browser).
// Plain DOM, text only: server data goes in through textContent, never innerHTML.
(() => {
  const base = document.body.dataset.base;
  const api = async (method, path, body) => {
    const res = await fetch(base + '/api' + path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.message || ('HTTP ' + res.status));
    return data;
  };
  const el = (tag, props, ...children) => {
    const e = document.createElement(tag);
    Object.assign(e, props || {});
    for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
    return e;
  };
  const yuan = (fen) => '¥' + (fen / 100).toFixed(2);
  let qrcodes = [];
  let demo = null;
  const cards = new Map();

  const describe = (r) => {
    const parts = (r.deliveries || []).map((d) => '第' + d.attempt + '次 → ' + (d.status || '无应答') + (d.error ? '（' + d.error + '）' : ''));
    const reply = r.reply ? ('回复：' + stripLinks(r.reply.Content || '[' + r.reply.MsgType + ']')) : '回复：success（无）';
    return r.event + (r.eventKey ? ' ' + r.eventKey : '') + '\n' + parts.join('，') + '\n' + reply;
  };

  // WeChat shows <a href> and <a data-miniprogram-path> in a text message as links; so does the inbox.
  const LINK = /<a\s([^>]*)>([\s\S]*?)<\/a>/g;
  const attr = (attrs, name) => {
    const m = new RegExp('(?:^|\\s)' + name + '="([^"]*)"').exec(attrs);
    return m ? m[1].replace(/&quot;/g, '"').replace(/&amp;/g, '&') : null;
  };
  const stripLinks = (text) => text.replace(LINK, (_m, _a, inner) => inner);
  function messageNodes(text, personId) {
    const nodes = [];
    let last = 0;
    for (const m of text.matchAll(LINK)) {
      if (m.index > last) nodes.push(text.slice(last, m.index));
      const mpPath = attr(m[1], 'data-miniprogram-path');
      const href = attr(m[1], 'href');
      if (mpPath !== null) {
        nodes.push(el('button', { className: 'mpcard', title: '在这个人的手机里打开小程序', onclick: () => openPhone(personId, mpPath) },
          el('small', { textContent: '小程序' }), m[2]));
      } else if (href && /^https?:\/\//.test(href)) {
        nodes.push(el('a', { href, target: '_blank', rel: 'noopener noreferrer', textContent: m[2] }));
      } else nodes.push(m[2]);
      last = m.index + m[0].length;
    }
    if (last < text.length) nodes.push(text.slice(last));
    return nodes;
  }

  function openPhone(id, path) {
    const c = cards.get(id);
    if (!c) return;
    const src = base + '/phone/?person=' + encodeURIComponent(id) + (path ? '&path=' + encodeURIComponent(path) : '');
    c.phone.hidden = false;
    c.openBtn.textContent = '收起手机';
    c.frame.src = src;
    c.phone.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }

  function personCard(p) {
    const out = el('div', { className: 'out', textContent: '' });
    const status = el('span', { className: 'badge' });
    const member = el('div', { className: 'member', hidden: true });
    const ticket = el('select', { className: 'ticket' });
    const deliveries = el('select', { className: 'deliveries' }, ...[1, 2, 3].map((n) => el('option', { value: String(n), textContent: '投递 ' + n + ' 次' })));
    const text = el('input', { className: 'text', placeholder: '发消息，例如订单号' });
    const key = el('input', { className: 'key', placeholder: '菜单 key', value: 'MEMBER_CENTER' });
    const inbox = el('div', { className: 'inbox' });
    const frame = el('iframe', { title: p.nickname + ' 的手机' });
    const phone = el('div', { className: 'phone', hidden: true }, frame);
    const act = (label, cls, fn) => el('button', { textContent: label, className: cls, onclick: async () => {
      try { out.textContent = await fn(); } catch (e) { out.textContent = '⚠ ' + e.message; }
      refreshPerson(p.id);
    } });
    const openBtn = el('button', { textContent: '打开小程序', className: 'open-phone', onclick: () => {
      if (!phone.hidden) { phone.hidden = true; frame.removeAttribute('src'); openBtn.textContent = '打开小程序'; return; }
      openPhone(p.id);
    } });
    const card = el('section', { className: 'person', id: 'person-' + p.id },
      el('h3', {}, p.nickname + ' ', status),
      el('div', { className: 'muted', textContent: '公众号 openid ' + p.oaOpenid + ' · 小程序 openid ' + p.mpOpenid + ' · unionid ' + p.unionid }),
      member,
      el('div', { className: 'row' }, ticket, deliveries, act('扫码', 'scan', async () => describe(await api('POST', '/people/' + p.id + '/scan', { ticket: ticket.value, deliveries: Number(deliveries.value) })))),
      el('div', { className: 'row' }, text, act('发送', 'send', async () => describe(await api('POST', '/people/' + p.id + '/messages', { text: text.value || '你好' })))),
      el('div', { className: 'row' }, key, act('点菜单', 'secondary click', async () => describe(await api('POST', '/people/' + p.id + '/click', { key: key.value })))),
      el('div', { className: 'row' },
        openBtn,
        act('登录 code', 'secondary login', async () => 'wx.login code：' + (await api('POST', '/people/' + p.id + '/login-code')).code),
        act('取消关注', 'secondary unfollow', async () => describe(await api('POST', '/people/' + p.id + '/unfollow')))),
      out,
      el('h2', { textContent: '收到的消息' }),
      inbox,
      phone);
    cards.set(p.id, { card, status, member, ticket, inbox, phone, frame, openBtn, count: -1 });
    fillTickets(cards.get(p.id));
    return card;
  }

  function fillTickets(c) {
    const keep = c.ticket.value;
    const demoTicket = demo ? demo.batch.ticket : null;
    c.ticket.replaceChildren(...qrcodes.map((q) => el('option', { value: q.ticket, textContent: '二维码 ' + q.scene + (q.ticket === demoTicket ? ' · ' + demo.batch.name : '') })));
    if (keep) c.ticket.value = keep;
    else if (demoTicket && qrcodes.some((q) => q.ticket === demoTicket)) c.ticket.value = demoTicket;
  }

  async function refreshPerson(id) {
    const c = cards.get(id);
    if (!c) return;
    const [p, inbox, m] = await Promise.all([api('GET', '/people/' + id), api('GET', '/people/' + id + '/inbox'), api('GET', '/people/' + id + '/member').catch(() => ({ member: null }))]);
    c.status.textContent = p.following ? '已关注' : '未关注';
    c.status.className = 'badge' + (p.following ? ' on' : '');
    const mem = m.member;
    c.member.hidden = !mem;
    if (mem) c.member.textContent = '会员 · ' + mem.tier + ' · 积分 ' + mem.points + ' · 已绑定淘宝订单 ' + mem.boundOrders + ' 笔' + (mem.buyer ? '（' + mem.buyer + '）' : '');
    if (inbox.items.length !== c.count) {
      c.count = inbox.items.length;
      c.inbox.replaceChildren(...inbox.items.map((msg) => el('div', { className: 'bubble' }, el('span', { className: 'ch', textContent: msg.channel + ' · ' + msg.at.slice(11, 19) }), ...messageNodes(msg.text, id))));
      c.inbox.scrollTop = c.inbox.scrollHeight;
    }
  }

  function showDemo() {
    const box = document.getElementById('demo');
    box.hidden = !demo;
    if (!demo) return;
    document.getElementById('demo-batch').textContent = '二维码 ' + demo.batch.scene + ' · ' + demo.batch.name;
    document.getElementById('demo-reward').textContent = yuan(demo.rewardFen);
    document.getElementById('demo-owner').textContent = demo.ownerUsername ? '（用户名 ' + demo.ownerUsername + '，密码在运行 npm start 的终端方框里）' : '';
    document.getElementById('demo-orders').replaceChildren(...demo.orders.map((o) => el('tr', { className: o.bound ? 'bound' : 'hint' },
      el('td', { className: 'no', textContent: o.orderNo }),
      el('td', { className: 'no', textContent: o.phoneLast4 }),
      el('td', { textContent: o.buyerNick + ' · ' + yuan(o.totalFen) }),
      el('td', { textContent: o.bound ? '已绑定' : '' }))));
  }

  async function refresh() {
    const [{ people }, qr, stats, shop] = await Promise.all([api('GET', '/people'), api('GET', '/qrcodes'), api('GET', '/stats'), api('GET', '/demo').catch(() => ({ demo: null }))]);
    qrcodes = qr.qrcodes;
    demo = shop.demo;
    showDemo();
    document.getElementById('account').textContent = '公众号 ' + stats.originalId + ' · access_token 获取次数：公众号 ' + stats.tokenFetches.oa + '，小程序 ' + stats.tokenFetches.mp;
    document.getElementById('qrcodes').replaceChildren(...qrcodes.map((q) => el('div', { className: 'qr' },
      el('img', { src: base + '/' + q.imageUrl, alt: '二维码 ' + q.scene }),
      el('div', {}, el('div', { textContent: q.scene + (q.permanent ? '（永久）' : '') }), el('div', { className: 'muted', textContent: '扫码 ' + q.scans + ' 次 · ' + (q.expiresAt ? '有效期至 ' + q.expiresAt.slice(0, 10) : '长期有效') })))));
    const container = document.getElementById('people');
    for (const p of people) if (!cards.has(p.id)) container.append(personCard(p));
    for (const c of cards.values()) fillTickets(c);
    document.getElementById('log').replaceChildren(...stats.deliveries.slice(0, 12).map((d) =>
      el('li', { textContent: d.at.slice(11, 19) + ' ' + d.type + ' 第' + d.attempt + '次 → ' + (d.status || '无应答') + (d.error ? ' ' + d.error : '') })));
    await Promise.all(people.map((p) => refreshPerson(p.id)));
  }

  // A share from one phone (open-type="share") opens in the friend's phone.
  window.addEventListener('message', (e) => {
    if (e.origin !== location.origin || !e.data || e.data.type !== 'snowball-phone-share') return;
    openPhone(e.data.to, e.data.path);
  });

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

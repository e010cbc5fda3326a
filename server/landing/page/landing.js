// The landing page in sandbox mode: the sandbox's people, each a link to their phone, and the demo login's username.
// Plain DOM, text only: server data goes in through textContent, never innerHTML.
(() => {
  if (document.body.dataset.sandbox !== 'true') return;
  const base = document.body.dataset.base;
  const get = (path) => fetch(base + '/api' + path).then((r) => (r.ok ? r.json() : Promise.reject(new Error('HTTP ' + r.status))));
  const el = (tag, props, ...children) => {
    const e = document.createElement(tag);
    Object.assign(e, props || {});
    for (const c of children) e.append(c);
    return e;
  };

  async function showPhones() {
    const { people } = await get('/people');
    const list = document.getElementById('phone-list');
    if (people.length === 0) return;
    list.replaceChildren(...people.map((p) => el('li', {},
      el('a', { href: base + '/phone/?person=' + encodeURIComponent(p.id), textContent: p.nickname + ' 的手机' }),
      ' ',
      el('span', { className: 'muted', textContent: p.following ? '已关注公众号' : '未关注' }))));
  }

  async function showDemoOwner() {
    const { demo } = await get('/demo');
    if (!demo) return;
    const box = document.getElementById('demo-owner');
    if (!demo.ownerUsername) {
      box.textContent = '演示店铺「' + demo.brand + '」已就绪；商家账号是启动时设置的 ADMIN_USERNAME。';
      return;
    }
    box.replaceChildren('用户名 ', el('span', { className: 'user', textContent: demo.ownerUsername }),
      '，密码在运行 npm start 的终端里的方框中（只显示一次）。',
      el('span', { className: 'en', textContent: ' Username ' + demo.ownerUsername + '; the password is in the boxed block the terminal showed at the first start.' }));
  }

  showPhones().catch(() => undefined);
  showDemoOwner().catch(() => undefined);
  setInterval(() => showPhones().catch(() => undefined), 3000);
})();

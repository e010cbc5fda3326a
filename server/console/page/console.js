// The merchant console: staff login, then the review queue. Every action is a call to /api/admin with the token.
// Plain DOM, text only: server data goes in through textContent, never innerHTML.
(() => {
  const KEY = 'snowball-staff-token';
  const STATUS = { submitted: '待审核', rejected: '已驳回', approved: '已通过，发放中', transfer_pending: '已通过，待会员确认收款', paid: '已到账', transfer_failed: '转账失败', points_awarded: '已发积分' };
  const ROLE = { owner: '店主', operator: '运营', customer_service: '客服' };
  const $ = (id) => document.getElementById(id);
  const el = (tag, props, ...children) => {
    const e = document.createElement(tag);
    Object.assign(e, props || {});
    for (const c of children) e.append(c);
    return e;
  };
  const yuan = (fen) => '¥' + (fen / 100).toFixed(2);
  const reward = (c) => (c.rewardKind === 'cash' ? yuan(c.amountFen) + ' 现金' : c.points + ' 积分');
  const when = (iso) => (iso ? new Date(iso).toLocaleString('zh-CN', { hour12: false }) : '');
  const shots = new Map();

  async function api(method, path, body) {
    const headers = { authorization: 'Bearer ' + sessionStorage.getItem(KEY) };
    if (body) headers['content-type'] = 'application/json';
    const res = await fetch('/api/admin' + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
    if (res.status === 401) { logout(); throw new Error('登录已失效，请重新登录'); }
    if (!res.ok) {
      const data = await res.json().catch(() => ({}));
      throw new Error(data.message || 'HTTP ' + res.status);
    }
    return path.endsWith('/screenshot') ? res.blob() : res.json();
  }

  function logout() {
    sessionStorage.removeItem(KEY);
    for (const url of shots.values()) URL.revokeObjectURL(url);
    shots.clear();
    show(null);
  }

  function show(me) {
    $('login').hidden = !!me;
    $('reviews').hidden = !me;
    $('logout').hidden = !me;
    $('who').textContent = me ? me.username + ' · ' + (ROLE[me.role] || me.role) : '';
  }

  async function screenshot(claim, img) {
    if (!shots.has(claim.id)) shots.set(claim.id, URL.createObjectURL(await api('GET', '/review-claims/' + claim.id + '/screenshot')));
    img.src = shots.get(claim.id);
  }

  function claimCard(c) {
    const img = el('img', { alt: '订单 ' + c.orderNo + ' 的评价截图' });
    screenshot(c, img).catch(() => { img.alt = '截图无法显示'; });
    const msg = el('div', { className: 'error' });
    const reason = el('input', { placeholder: '驳回理由（会员会看到）' });
    const act = (label, cls, fn) => el('button', { textContent: label, className: cls, onclick: async (e) => {
      e.target.disabled = true;
      try { await fn(); await refresh(); } catch (err) { msg.textContent = err.message; e.target.disabled = false; }
    } });
    return el('div', { className: 'claim', id: 'claim-' + c.id }, img,
      el('div', {},
        el('div', { className: 'no', textContent: '订单 ' + c.orderNo }),
        el('div', { textContent: '奖励 ' + reward(c) + ' · 提交于 ' + when(c.submittedAt) }),
        el('div', { className: 'actions' },
          act('通过', 'approve', () => api('POST', '/review-claims/' + c.id + '/approve')),
          reason,
          act('驳回', 'reject', () => {
            if (reason.value.trim().length < 2) throw new Error('请写下驳回理由');
            return api('POST', '/review-claims/' + c.id + '/reject', { reason: reason.value.trim() });
          })),
        msg));
  }

  async function refresh() {
    const all = await api('GET', '/review-claims?limit=200');
    const pending = all.filter((c) => c.status === 'submitted');
    const keep = new Set(pending.map((c) => c.id));
    for (const node of [...$('pending').children]) if (!keep.has(node.id.slice(6))) node.remove();
    for (const c of pending) if (!$('claim-' + c.id)) $('pending').append(claimCard(c));
    $('pending-empty').hidden = pending.length > 0;
    const decided = all.filter((c) => c.status !== 'submitted').sort((a, b) => (b.decidedAt || '').localeCompare(a.decidedAt || ''));
    $('decided').replaceChildren(...decided.map((c) => el('tr', { className: 'status-' + c.status },
      el('td', { className: 'no', textContent: c.orderNo }),
      el('td', { textContent: reward(c) }),
      el('td', { textContent: (STATUS[c.status] || c.status) + (c.rejectReason ? '：' + c.rejectReason : '') + (c.failureReason ? '（' + c.failureReason + '）' : '') }),
      el('td', { textContent: when(c.decidedAt) }))));
  }

  async function start() {
    if (!sessionStorage.getItem(KEY)) return show(null);
    try {
      show(await api('GET', '/me'));
      await refresh();
    } catch (err) {
      $('login-error').hidden = false;
      $('login-error').textContent = err.message;
    }
  }

  $('login-form').onsubmit = async (e) => {
    e.preventDefault();
    $('login-error').hidden = true;
    const res = await fetch('/api/admin/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: $('username').value, password: $('password').value }) });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      $('login-error').hidden = false;
      $('login-error').textContent = res.status === 401 ? '用户名或密码不对' : data.message || 'HTTP ' + res.status;
      return;
    }
    sessionStorage.setItem(KEY, data.token);
    $('password').value = '';
    await start();
  };
  $('logout').onclick = () => {
    api('POST', '/logout').catch(() => undefined);
    logout();
  };
  start();
  setInterval(() => { if (sessionStorage.getItem(KEY)) refresh().catch(() => undefined); }, 3000);
})();

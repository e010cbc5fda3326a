import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import type { CallbackDeliverer } from './callback-deliverer';
import { WxError, type Person, type SandboxWorld } from './sandbox-world';

type Json = Record<string, unknown>;

const ok = (extra: Json = {}) => ({ errcode: 0, errmsg: 'ok', ...extra });
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const templateText = (data: unknown) =>
  Object.entries((data ?? {}) as Record<string, { value?: unknown }>)
    .map(([k, v]) => `${k}: ${String(v?.value ?? '')}`)
    .join('\n');

/**
 * The Official Account and mini-program HTTP APIs, WeChat-shaped: `{errcode, errmsg}` with HTTP 200 on errors,
 * the access token in the query, the documented limits. Completion events go back to the server's callback.
 */
export const sandboxWechatApiRoutes: FastifyPluginAsync<{ world: SandboxWorld; deliverer: CallbackDeliverer }> = async (app, { world, deliverer }) => {
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof WxError) return reply.code(200).send({ errcode: err.errcode, errmsg: err.errmsg });
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status < 500) return reply.code(200).send({ errcode: 47001, errmsg: 'data format error' });
    app.log.error({ err }, 'sandbox WeChat API failed');
    return reply.code(200).send({ errcode: -1, errmsg: 'system error' });
  });

  const hide = { schema: { hide: true }, config: { rateLimit: false } } as const;
  const body = (req: FastifyRequest) => (req.body && typeof req.body === 'object' ? (req.body as Json) : {});
  const q = (req: FastifyRequest) => req.query as Record<string, string | undefined>;
  const auth = (req: FastifyRequest, app?: 'oa' | 'mp') => world.authenticate(q(req).access_token, app);
  const follower = (openid: unknown): Person => {
    const p = typeof openid === 'string' ? world.byOaOpenid(openid) : undefined;
    if (!p) throw new WxError(40003, 'invalid openid');
    return p;
  };
  const later = (fn: () => Promise<unknown>) => setImmediate(() => void fn().catch(() => undefined));

  // Tokens.
  app.get('/cgi-bin/token', hide, async (req) => world.issueToken(q(req)));
  app.post('/cgi-bin/stable_token', hide, async (req) => world.issueStableToken(body(req) as never));

  // QR codes: creation with the documented limits, and the image as a PNG of the ticket's URL.
  app.post('/cgi-bin/qrcode/create', hide, async (req) => {
    auth(req, 'oa');
    const qr = world.createQrCode(body(req) as never);
    return { ticket: qr.ticket, ...(qr.permanent ? {} : { expire_seconds: Math.round((qr.expiresAt! - qr.createdAt) / 1000) }), url: qr.url };
  });
  app.get('/cgi-bin/showqrcode', hide, async (req, reply: FastifyReply) => {
    const qr = world.liveQrCode(q(req).ticket ?? '');
    if (!qr) return reply.code(404).type('text/plain').send('ticket not found or expired');
    return reply.type('image/png').send(await QRCode.toBuffer(qr.url, { margin: 2, width: 258 }));
  });

  // Followers and tags.
  const followerInfo = (p: Person) => {
    if (!p.following) return { subscribe: 0, openid: p.oaOpenid };
    return {
      subscribe: 1,
      openid: p.oaOpenid,
      language: 'zh_CN',
      subscribe_time: p.subscribeTime,
      unionid: p.unionid,
      remark: '',
      groupid: 0,
      tagid_list: [...p.tagIds],
      subscribe_scene: p.subscribeScene,
      qr_scene: p.qrScene && /^\d+$/.test(p.qrScene) ? Number(p.qrScene) : 0,
      qr_scene_str: p.qrScene && !/^\d+$/.test(p.qrScene) ? p.qrScene : '',
    };
  };
  app.get('/cgi-bin/user/info', hide, async (req) => {
    auth(req, 'oa');
    world.consume('user_info');
    return followerInfo(follower(q(req).openid));
  });
  app.post('/cgi-bin/user/info/batchget', hide, async (req) => {
    auth(req, 'oa');
    const list = body(req).user_list;
    if (!Array.isArray(list) || list.length === 0 || list.length > 100) throw new WxError(40032, 'invalid openid list size');
    world.consume('user_info');
    return { user_info_list: list.map((u) => followerInfo(follower((u as Json | null)?.openid))) };
  });
  app.get('/cgi-bin/user/get', hide, async (req) => {
    auth(req, 'oa');
    const all = [...world.people.values()].filter((p) => p.following).map((p) => p.oaOpenid);
    const next = q(req).next_openid;
    const start = next && next !== 'undefined' ? all.indexOf(next) + 1 : 0;
    const page = all.slice(start, start + 10_000);
    return { total: all.length, count: page.length, data: { openid: page }, next_openid: page.at(-1) ?? '' };
  });
  app.post('/cgi-bin/tags/create', hide, async (req) => {
    auth(req, 'oa');
    return { tag: world.createTag((body(req).tag as Json | undefined)?.name) };
  });
  app.get('/cgi-bin/tags/get', hide, async (req) => {
    auth(req, 'oa');
    const people = [...world.people.values()];
    return { tags: [...world.tags.values()].map((t) => ({ ...t, count: people.filter((p) => p.tagIds.has(t.id)).length })) };
  });
  app.post('/cgi-bin/tags/members/batchtagging', hide, async (req) => {
    auth(req, 'oa');
    world.tagging(body(req).openid_list, body(req).tagid, true);
    return ok();
  });
  app.post('/cgi-bin/tags/members/batchuntagging', hide, async (req) => {
    auth(req, 'oa');
    world.tagging(body(req).openid_list, body(req).tagid, false);
    return ok();
  });
  app.post('/cgi-bin/tags/getidlist', hide, async (req) => {
    auth(req, 'oa');
    return { tagid_list: [...follower(body(req).openid).tagIds] };
  });

  // Messages.
  app.post('/cgi-bin/message/custom/send', hide, async (req) => {
    auth(req, 'oa');
    const b = body(req);
    const p = follower(b.touser);
    if (!p.following) throw new WxError(43004, 'require subscribe');
    world.useWindow(p);
    world.consume('custom_send');
    const msgtype = str(b.msgtype) ?? 'text';
    const text = msgtype === 'text' ? String((b.text as Json | undefined)?.content ?? '') : `[${msgtype}]`;
    world.deliver(p, 'custom', text, b);
    return ok();
  });

  app.post('/cgi-bin/message/template/send', hide, async (req) => {
    auth(req, 'oa');
    const b = body(req);
    const p = follower(b.touser);
    if (!str(b.template_id)) throw new WxError(40037, 'invalid template_id');
    if (!p.following) throw new WxError(43004, 'require subscribe');
    world.consume('template_send', String(b.template_id));
    const msgid = world.newMsgId();
    world.deliver(p, 'template', templateText(b.data), b);
    later(() =>
      deliverer.deliver({
        ToUserName: world.originalId,
        FromUserName: p.oaOpenid,
        CreateTime: Math.floor(Date.now() / 1000),
        MsgType: 'event',
        Event: 'TEMPLATESENDJOBFINISH',
        MsgID: BigInt(msgid),
        Status: 'success',
      }),
    );
    return ok({ msgid: Number(BigInt(msgid) % 10_000_000_000n) });
  });

  const massSend = async (req: FastifyRequest, recipients: Person[]) => {
    const b = body(req);
    const msgtype = str(b.msgtype);
    if (!msgtype || !b[msgtype]) throw new WxError(40004, 'invalid media type');
    const clientMsgId = str(b.clientmsgid);
    if (clientMsgId && world.seenClientMsgId(clientMsgId)) throw new WxError(45065, 'clientmsgid exist');
    world.consume('mass_send');
    const text = msgtype === 'text' ? String((b.text as Json).content ?? '') : `[${msgtype}]`;
    let sent = 0;
    let filtered = 0;
    for (const p of recipients) {
      if (!p.following || !world.massAllowed(p)) {
        filtered++;
        continue;
      }
      world.deliver(p, 'mass', text, b);
      sent++;
    }
    const msgId = Number(world.newMsgId().slice(-9));
    later(() =>
      deliverer.deliver({
        ToUserName: world.originalId,
        FromUserName: 'mphelper',
        CreateTime: Math.floor(Date.now() / 1000),
        MsgType: 'event',
        Event: 'MASSSENDJOBFINISH',
        MsgID: msgId,
        Status: 'send success',
        TotalCount: recipients.length,
        FilterCount: sent,
        SentCount: sent,
        ErrorCount: 0,
      }),
    );
    return { errcode: 0, errmsg: 'send job submission success', msg_id: msgId, msg_data_id: msgId + 1 };
  };

  app.post('/cgi-bin/message/mass/send', hide, async (req) => {
    auth(req, 'oa');
    const touser = body(req).touser;
    if (!Array.isArray(touser) || touser.length < 2 || touser.length > 10_000) throw new WxError(40130, 'invalid openid list size, at least two openid');
    return massSend(req, touser.map((o) => follower(o)));
  });
  app.post('/cgi-bin/message/mass/sendall', hide, async (req) => {
    auth(req, 'oa');
    const filter = (body(req).filter ?? {}) as Json;
    const everyone = [...world.people.values()];
    if (filter.is_to_all === true) return massSend(req, everyone);
    if (typeof filter.tag_id !== 'number' || !world.tags.has(filter.tag_id)) throw new WxError(40050, 'invalid tag id');
    return massSend(req, everyone.filter((p) => p.tagIds.has(filter.tag_id as number)));
  });

  // One-time subscription notices: OA bizsend, mini-program subscribe/send (the same path as on WeChat).
  app.post('/cgi-bin/message/subscribe/bizsend', hide, async (req) => {
    auth(req, 'oa');
    const b = body(req);
    const p = follower(b.touser);
    world.useAcceptance(p, 'oa', String(b.template_id ?? ''));
    world.deliver(p, 'subscribe', templateText(b.data), b);
    return ok();
  });
  app.post('/cgi-bin/message/subscribe/send', hide, async (req) => {
    auth(req, 'mp');
    const b = body(req);
    const p = typeof b.touser === 'string' ? world.byMpOpenid(b.touser) : undefined;
    if (!p) throw new WxError(40003, 'invalid openid');
    world.useAcceptance(p, 'mp', String(b.template_id ?? ''));
    world.deliver(p, 'mp_subscribe', templateText(b.data), b);
    return ok();
  });

  app.post('/cgi-bin/menu/create', hide, async (req) => {
    auth(req, 'oa');
    const button = body(req).button;
    if (!Array.isArray(button) || button.length < 1 || button.length > 3) throw new WxError(40016, 'invalid button size');
    for (const b of button as Json[]) {
      const sub = b.sub_button;
      if (Array.isArray(sub) && sub.length > 5) throw new WxError(40023, 'invalid sub button size');
    }
    world.setMenu({ button });
    return ok();
  });

  // Mini-program.
  app.get('/sns/jscode2session', hide, async (req) => {
    const query = q(req);
    if (query.appid !== world.mp.appid) throw new WxError(40013, 'invalid appid');
    if (query.secret !== world.mp.secret) throw new WxError(40125, 'invalid appsecret');
    if (query.grant_type !== 'authorization_code') throw new WxError(40002, 'invalid grant_type');
    const p = world.redeemLoginCode(query.js_code);
    return { openid: p.mpOpenid, session_key: Buffer.from(`${p.id}:${Date.now()}`).toString('base64').slice(0, 24), unionid: p.unionid };
  });
  // Shipping information for mini-program payments of physical goods (WeChat holds the money until it has it).
  app.post('/wxa/sec/order/upload_shipping_info', hide, async (req) => {
    auth(req, 'mp');
    const b = body(req);
    const key = (b.order_key ?? {}) as Json;
    const byTransaction = key.order_number_type === 2 && typeof key.transaction_id === 'string';
    const byTradeNo = key.order_number_type === 1 && typeof key.mchid === 'string' && typeof key.out_trade_no === 'string';
    if (!byTransaction && !byTradeNo) throw new WxError(47001, 'order_key: order_number_type 1 needs mchid + out_trade_no, 2 needs transaction_id');
    const list = b.shipping_list;
    if (![1, 2, 3, 4].includes(Number(b.logistics_type))) throw new WxError(47001, 'invalid logistics_type');
    if (!Array.isArray(list) || list.length < 1 || list.length > 10) throw new WxError(47001, 'shipping_list must hold 1 to 10 parcels');
    for (const item of list as Json[]) {
      if (!str(item.item_desc) || String(item.item_desc).length > 120) throw new WxError(47001, 'item_desc is required (at most 120 characters)');
      if (Number(b.logistics_type) === 1 && (!str(item.tracking_no) || !str(item.express_company))) {
        throw new WxError(47001, 'express delivery needs tracking_no and express_company');
      }
    }
    const payer = ((b.payer ?? {}) as Json).openid;
    if (!str(payer) || !world.byMpOpenid(String(payer))) throw new WxError(40003, 'invalid payer openid');
    world.recordShipping({ orderKey: key, logisticsType: Number(b.logistics_type), shippingList: list as Json[], payerOpenid: String(payer), at: new Date().toISOString() });
    return ok();
  });
  app.post('/wxa/getwxacodeunlimit', hide, async (req, reply: FastifyReply) => {
    auth(req, 'mp');
    const b = body(req);
    const scene = str(b.scene);
    if (!scene || scene.length > 32 || !/^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]+$/.test(scene)) throw new WxError(40169, 'invalid length for scene, or the data is not json string');
    const width = typeof b.width === 'number' ? Math.min(Math.max(b.width, 280), 1280) : 430;
    const content = `wxacode:${world.mp.appid}:${str(b.page) ?? 'pages/index/index'}?scene=${scene}`;
    return reply.type('image/png').send(await QRCode.toBuffer(content, { width, margin: 1 }));
  });
};

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, conflict, notFound } from '../infra/errors';
import type { XmlOut, XmlRecord } from '../wechat/xml';
import type { CallbackDeliverer, DeliveryResult } from './callback-deliverer';
import { sandboxDemoOut, sandboxMemberOut, type SandboxDemoSource, type SandboxMemberSource } from './sandbox-demo';
import type { SandboxPayments } from './sandbox-payments';
import { DEFAULT_QUOTAS, WxError, type Person, type SandboxWorld } from './sandbox-world';

const personOut = z.object({
  id: z.string(),
  nickname: z.string(),
  oaOpenid: z.string(),
  mpOpenid: z.string(),
  unionid: z.string(),
  following: z.boolean(),
  tagIds: z.array(z.number()),
});

const deliveryOut = z.object({ attempt: z.number(), status: z.number(), error: z.string().optional(), ms: z.number() });
const replyOut = z.record(z.string(), z.unknown()).nullable();
const eventOut = z.object({
  event: z.string(),
  eventKey: z.string().optional(),
  msgId: z.string().optional(),
  deliveries: z.array(deliveryOut),
  /** The passive reply, decrypted and parsed (null when the server answered `success`). */
  reply: replyOut,
});

const deliveriesIn = z.number().int().min(1).max(3).default(1).describe('Deliver the same event 1–3 times, as WeChat retries');
const concurrentIn = z.boolean().default(false).describe('Deliver them at once instead of one after another');
const idParams = z.object({ id: z.string() });
const errorOut = z.object({ code: z.string(), message: z.string() });
const tags = ['sandbox'];
const payNotAvailable = { code: 'pay_not_available', message: 'The WeChat Pay sandbox is not mounted' };

const show = (p: Person) => ({
  id: p.id,
  nickname: p.nickname,
  oaOpenid: p.oaOpenid,
  mpOpenid: p.mpOpenid,
  unionid: p.unionid,
  following: p.following,
  tagIds: [...p.tagIds],
});

/**
 * The control API: what tests, the page, scripts and later features use to play WeChat's users.
 * Route names are a contract (see the issue): keep them.
 */
export const sandboxControlRoutes: FastifyPluginAsyncZod<{ world: SandboxWorld; deliverer: CallbackDeliverer; payments?: SandboxPayments; demo?: SandboxDemoSource; member?: SandboxMemberSource }> = async (
  app,
  { world, deliverer, payments, demo, member },
) => {
  const open = { rateLimit: false };
  const person = (id: string) => {
    const p = world.person(id);
    if (!p) throw notFound('person_not_found', `No sandbox person ${id}`);
    return p;
  };

  /** Sends the event as WeChat would and records the passive reply (once) in the person's inbox. */
  const send = async (p: Person, fields: Record<string, XmlOut>, opts: { deliveries: number; concurrent: boolean }) => {
    const results = await deliverer.deliver(
      { ToUserName: world.originalId, FromUserName: p.oaOpenid, CreateTime: Math.floor(world.now() / 1000), ...fields },
      opts,
    );
    const answered = results.find((r) => r.reply);
    if (answered?.reply) world.deliver(p, 'reply', replyText(answered.reply), answered.reply);
    return { deliveries: results.map((r, i) => summary(r, i + 1)), reply: answered?.reply ?? null };
  };

  app.post(
    '/people',
    { config: open, schema: { tags, summary: 'Create a simulated person (an openid per app, a unionid)', body: z.object({ nickname: z.string().max(32).optional() }).default({}), response: { 200: personOut } } },
    async (req) => show(world.createPerson(req.body.nickname)),
  );
  app.post(
    '/people/crowd',
    {
      config: open,
      schema: {
        tags,
        summary: 'Create many simulated people at once (load tests, demos); none follows yet',
        body: z.object({ count: z.number().int().min(1).max(10_000) }),
        response: { 200: z.object({ people: z.array(z.object({ id: z.string(), oaOpenid: z.string(), mpOpenid: z.string() })) }) },
      },
    },
    async (req) => ({
      people: Array.from({ length: req.body.count }, () => {
        const p = world.createPerson();
        return { id: p.id, oaOpenid: p.oaOpenid, mpOpenid: p.mpOpenid };
      }),
    }),
  );
  app.get('/people', { config: open, schema: { tags, response: { 200: z.object({ people: z.array(personOut) }) } } }, async () => ({
    people: [...world.people.values()].map(show),
  }));
  app.get('/people/:id', { config: open, schema: { tags, params: idParams, response: { 200: personOut, 404: errorOut } } }, async (req) =>
    show(person(req.params.id)),
  );

  app.get(
    '/people/:id/member',
    { config: open, schema: { tags, summary: 'The person as the app knows them: tier, points and bound orders (null before they are a member)', params: idParams, response: { 200: z.object({ member: sandboxMemberOut.nullable() }), 404: errorOut } } },
    async (req) => {
      const p = person(req.params.id);
      return { member: member ? await member({ unionid: p.unionid, oaOpenid: p.oaOpenid, mpOpenid: p.mpOpenid }) : null };
    },
  );

  app.post(
    '/people/:id/scan',
    {
      config: open,
      schema: {
        tags,
        summary: 'The person scans a QR ticket: subscribe (qrscene_…) if not following, else SCAN',
        params: idParams,
        body: z.object({ ticket: z.string().min(1), deliveries: deliveriesIn, concurrent: concurrentIn }),
        response: { 200: eventOut, 404: errorOut, 409: errorOut },
      },
    },
    async (req) => {
      const p = person(req.params.id);
      const qr = world.qrcodes.get(req.body.ticket);
      if (!qr) throw notFound('ticket_not_found', 'No QR code has this ticket');
      if (!world.liveQrCode(qr.ticket)) throw conflict('qrcode_expired', 'This temporary QR code has expired');
      world.scanned(qr);
      const first = !p.following;
      if (first) world.follow(p, { scene: qr.scene, via: 'qr' });
      else world.openWindow(p, 'interaction');
      const event = first ? 'subscribe' : 'SCAN';
      const eventKey = first ? `qrscene_${qr.scene}` : qr.scene;
      const out = await send(p, { MsgType: 'event', Event: event, EventKey: eventKey, Ticket: qr.ticket }, req.body);
      return { event, eventKey, ...out };
    },
  );

  app.post(
    '/people/:id/follow',
    { config: open, schema: { tags, summary: 'The person follows by searching the account (no QR scene)', params: idParams, body: z.object({ deliveries: deliveriesIn, concurrent: concurrentIn }).default({ deliveries: 1, concurrent: false }), response: { 200: eventOut, 404: errorOut } } },
    async (req) => {
      const p = person(req.params.id);
      world.follow(p);
      return { event: 'subscribe', ...(await send(p, { MsgType: 'event', Event: 'subscribe', EventKey: '' }, req.body)) };
    },
  );

  app.post(
    '/people/:id/messages',
    {
      config: open,
      schema: {
        tags,
        summary: 'The person sends a text; answers the server’s passive reply, decrypted',
        params: idParams,
        body: z.object({ text: z.string().min(1).max(2048), deliveries: deliveriesIn, concurrent: concurrentIn }),
        response: { 200: eventOut, 404: errorOut, 409: errorOut },
      },
    },
    async (req) => {
      const p = person(req.params.id);
      if (!p.following) throw conflict('not_following', 'Only followers can message the account');
      world.openWindow(p, 'message');
      const msgId = world.newMsgId();
      const out = await send(p, { MsgType: 'text', Content: req.body.text, MsgId: BigInt(msgId) }, req.body);
      return { event: 'text', msgId, ...out };
    },
  );

  app.post(
    '/people/:id/click',
    { config: open, schema: { tags, summary: 'The person clicks a menu button (CLICK with its key)', params: idParams, body: z.object({ key: z.string().min(1).max(128), deliveries: deliveriesIn, concurrent: concurrentIn }), response: { 200: eventOut, 404: errorOut, 409: errorOut } } },
    async (req) => {
      const p = person(req.params.id);
      if (!p.following) throw conflict('not_following', 'Only followers see the menu');
      world.openWindow(p, 'interaction');
      return { event: 'CLICK', eventKey: req.body.key, ...(await send(p, { MsgType: 'event', Event: 'CLICK', EventKey: req.body.key }, req.body)) };
    },
  );

  app.post(
    '/people/:id/unfollow',
    { config: open, schema: { tags, summary: 'The person unfollows (unsubscribe, no EventKey)', params: idParams, response: { 200: eventOut, 404: errorOut, 409: errorOut } } },
    async (req) => {
      const p = person(req.params.id);
      if (!p.following) throw conflict('not_following', 'This person does not follow the account');
      world.unfollow(p);
      return { event: 'unsubscribe', ...(await send(p, { MsgType: 'event', Event: 'unsubscribe' }, { deliveries: 1, concurrent: false })) };
    },
  );

  app.post(
    '/people/:id/login-code',
    { config: open, schema: { tags, summary: 'The person opens the mini-program: a wx.login code (works once)', params: idParams, response: { 200: z.object({ code: z.string() }), 404: errorOut } } },
    async (req) => ({ code: world.loginCode(person(req.params.id)) }),
  );

  app.post(
    '/people/:id/subscriptions',
    {
      config: open,
      schema: {
        tags,
        summary: 'The person accepts a one-time subscription (one message per acceptance)',
        params: idParams,
        body: z.object({ templateId: z.string().min(1), app: z.enum(['oa', 'mp']).default('mp') }),
        response: { 200: z.object({ templateId: z.string(), app: z.string(), available: z.number() }), 404: errorOut },
      },
    },
    async (req) => {
      const p = person(req.params.id);
      return { templateId: req.body.templateId, app: req.body.app, available: world.acceptSubscription(p, req.body.app, req.body.templateId) };
    },
  );

  app.post(
    '/people/:id/pay',
    { config: open, schema: { tags, summary: 'The person pays a JSAPI prepay in the mini-program', params: idParams, body: z.object({ prepayId: z.string().min(1) }), response: { 200: z.object({ transactionId: z.string() }), 404: errorOut, 501: errorOut } } },
    async (req, reply) => {
      const p = person(req.params.id);
      if (!payments) return reply.code(501).send(payNotAvailable);
      const result = await payments.pay(req.body.prepayId, p.mpOpenid);
      world.openWindow(p, 'payment');
      return result;
    },
  );

  app.get(
    '/people/:id/prepays/:prepayId',
    {
      config: open,
      schema: {
        tags,
        summary: 'What the payment sheet shows for a prepay of this person: description and amount',
        params: z.object({ id: z.string(), prepayId: z.string().min(1) }),
        response: { 200: z.object({ description: z.string(), totalFen: z.number().int() }), 404: errorOut, 501: errorOut },
      },
    },
    async (req, reply) => {
      const p = person(req.params.id);
      if (!payments?.prepay) return reply.code(501).send(payNotAvailable);
      const found = payments.prepay(req.params.prepayId, p.mpOpenid);
      if (!found) throw notFound('prepay_not_found', 'This person has no order with this prepay id');
      return found;
    },
  );

  app.post(
    '/pay/drop-notifications',
    {
      config: open,
      schema: {
        tags,
        summary: 'WeChat Pay loses the next notifications (of one event type and order, or any): the merchant must find out by query',
        body: z.object({
          count: z.number().int().min(1).max(100).default(1),
          eventType: z.enum(['TRANSACTION.SUCCESS', 'REFUND.SUCCESS', 'REFUND.CLOSED', 'REFUND.ABNORMAL', 'MCHTRANSFER.BILL.FINISHED']).optional(),
          outTradeNo: z.string().min(1).max(32).optional(),
        }),
        response: { 200: z.object({ dropping: z.number().int() }), 501: errorOut },
      },
    },
    async (req, reply) => {
      if (!payments?.dropNotifications) return reply.code(501).send(payNotAvailable);
      payments.dropNotifications(req.body.count, { eventType: req.body.eventType, outTradeNo: req.body.outTradeNo });
      return { dropping: req.body.count };
    },
  );

  app.post(
    '/people/:id/confirm-transfer',
    { config: open, schema: { tags, summary: 'The person confirms a merchant transfer (package_info)', params: idParams, body: z.object({ packageInfo: z.string().min(1) }), response: { 200: z.object({ confirmed: z.literal(true) }), 404: errorOut, 501: errorOut } } },
    async (req, reply) => {
      const p = person(req.params.id);
      if (!payments) return reply.code(501).send(payNotAvailable);
      await payments.confirmTransfer(req.body.packageInfo, p.mpOpenid);
      return { confirmed: true as const };
    },
  );

  app.get(
    '/people/:id/inbox',
    {
      config: open,
      schema: {
        tags,
        summary: 'Everything the server sent the person: passive replies, custom, template, mass and subscription messages',
        params: idParams,
        response: { 200: z.object({ items: z.array(z.object({ id: z.number(), at: z.string(), channel: z.string(), text: z.string(), payload: z.unknown() })) }), 404: errorOut },
      },
    },
    async (req) => ({ items: person(req.params.id).inbox }),
  );

  const qrOut = z.object({ ticket: z.string(), actionName: z.string(), scene: z.string(), permanent: z.boolean(), url: z.string(), createdAt: z.string(), expiresAt: z.string().nullable(), scans: z.number(), imageUrl: z.string() });
  const showQr = (qr: { ticket: string; actionName: string; scene: string; permanent: boolean; url: string; createdAt: number; expiresAt?: number; scans: number }) => ({
    ...qr,
    createdAt: new Date(qr.createdAt).toISOString(),
    expiresAt: qr.expiresAt ? new Date(qr.expiresAt).toISOString() : null,
    imageUrl: `cgi-bin/showqrcode?ticket=${encodeURIComponent(qr.ticket)}`,
  });

  app.get(
    '/demo',
    { config: open, schema: { tags, summary: 'The seeded demo shop: the parcel batch to scan and orders to bind (null when none)', response: { 200: z.object({ demo: sandboxDemoOut.nullable() }) } } },
    async () => ({ demo: demo ? await demo() : null }),
  );

  app.get('/qrcodes', { config: open, schema: { tags, summary: 'QR tickets created (by the server or here), with their scene', response: { 200: z.object({ qrcodes: z.array(qrOut) }) } } }, async () => ({
    qrcodes: [...world.qrcodes.values()].reverse().map(showQr),
  }));
  app.post(
    '/qrcodes',
    {
      config: open,
      schema: {
        tags,
        summary: 'Create a QR ticket directly, as the merchant’s console would (the server uses qrcode/create)',
        body: z.object({ scene: z.string().min(1).max(64), permanent: z.boolean().default(false), expireSeconds: z.number().int().min(1).max(2_592_000).default(2_592_000) }),
        response: { 200: qrOut, 400: errorOut },
      },
    },
    async (req) => {
      try {
        const b = req.body;
        return showQr(world.createQrCode({ action_name: b.permanent ? 'QR_LIMIT_STR_SCENE' : 'QR_STR_SCENE', expire_seconds: b.permanent ? undefined : b.expireSeconds, action_info: { scene: { scene_str: b.scene } } }));
      } catch (err) {
        if (err instanceof WxError) throw new AppError('invalid', 'wechat_refused', err.message);
        throw err;
      }
    },
  );

  app.post('/tokens/expire', { config: open, schema: { tags, summary: 'Expire every issued access token (next calls get 42001)', response: { 200: z.object({ expired: z.number() }) } } }, async () => ({
    expired: world.expireTokens(),
  }));

  app.post(
    '/clock',
    { config: open, schema: { tags, summary: 'Move the sandbox clock forward (token lifetimes, QR expiry, message windows)', body: z.object({ advanceSeconds: z.number().int().min(0).max(400 * 86_400) }), response: { 200: z.object({ now: z.string() }) } } },
    async (req) => {
      const before = world.now;
      const step = req.body.advanceSeconds * 1000;
      world.now = () => before() + step;
      return { now: new Date(world.now()).toISOString() };
    },
  );

  app.put(
    '/quotas/:name',
    { config: open, schema: { tags, summary: 'Set a quota (to see 45009 / 45028 without a million calls)', params: z.object({ name: z.enum(Object.keys(DEFAULT_QUOTAS) as [keyof typeof DEFAULT_QUOTAS]) }), body: z.object({ limit: z.number().int().min(0) }), response: { 200: z.record(z.string(), z.number()) } } },
    async (req) => {
      return world.setQuota(req.params.name, req.body.limit);
    },
  );

  app.get(
    '/stats',
    {
      config: open,
      schema: {
        tags,
        summary: 'Token fetches, quota use today, the menu, and the latest callback deliveries',
        response: { 200: z.object({ originalId: z.string(), tokenFetches: z.object({ oa: z.number(), mp: z.number() }), quotaUsedToday: z.record(z.string(), z.number()), menu: z.unknown(), deliveries: z.array(z.object({ at: z.string(), type: z.string(), openid: z.string(), attempt: z.number(), status: z.number(), error: z.string().optional() })) }) },
      },
    },
    async () => ({ originalId: world.originalId, tokenFetches: { ...world.tokenFetches }, quotaUsedToday: world.usedToday(), menu: world.menu ?? null, deliveries: deliverer.log.slice(-50).reverse() }),
  );
};

function summary(r: DeliveryResult, attempt: number) {
  return { attempt, status: r.status, ms: r.ms, ...(r.error ? { error: r.error } : {}) };
}

function replyText(reply: XmlRecord): string {
  if (reply.MsgType === 'text') return String(reply.Content ?? '');
  return `[${String(reply.MsgType ?? 'reply')}]`;
}

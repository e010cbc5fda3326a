import type { Ctx } from '../infra/db';
import { buildXml, type XmlRecord } from './xml';

/** Events the Official Account sends that Snowball handles; `string` keeps rarer ones open. */
export type WechatEventName =
  | 'subscribe'
  | 'unsubscribe'
  | 'SCAN'
  | 'CLICK'
  | 'VIEW'
  | 'LOCATION'
  | 'TEMPLATESENDJOBFINISH'
  | 'MASSSENDJOBFINISH'
  | 'subscribe_msg_popup_event'
  | (string & {});

export type WechatMessageType = 'text' | 'image' | 'voice' | 'video' | 'shortvideo' | 'location' | 'link' | (string & {});

/** One verified, decrypted callback from WeChat. Every value is a string, as it arrived (64-bit ids stay exact). */
export interface InboundMessage {
  readonly kind: 'event' | 'message';
  /** `Event` for events (case as WeChat sends it: 'subscribe', 'SCAN'), `MsgType` for messages ('text'). */
  readonly type: string;
  /** The Official Account's original id (gh_…). */
  readonly toUserName: string;
  /** The follower's openid. */
  readonly openid: string;
  /** Unix seconds, as WeChat stamped it. */
  readonly createTime: number;
  readonly msgId?: string;
  readonly content?: string;
  readonly eventKey?: string;
  readonly ticket?: string;
  /** The QR scene of a parameterised-code follow (`qrscene_` stripped) or scan; undefined otherwise. */
  readonly scene?: string;
  /** What makes a redelivery the same message: MsgId, or FromUserName + CreateTime for events. */
  readonly dedupeKey: string;
  /** Every field of the message, including nested ones (ScanCodeInfo, SendPicsInfo …). */
  readonly fields: XmlRecord;
}

/** A passive reply, sent back in the HTTP answer (it must be built within WeChat's 5 s). */
export type PassiveReply =
  | { readonly type: 'text'; readonly content: string }
  | { readonly type: 'image'; readonly mediaId: string }
  | {
      readonly type: 'news';
      readonly articles: ReadonlyArray<{ title: string; description?: string; picUrl?: string; url: string }>;
    };

/**
 * Handles one kind of inbound message. It runs before WeChat's 5 s are up: do the quick part (a row, a reply)
 * and send slow work to the queue. It may return a passive reply; it runs once per message (redeliveries are
 * absorbed before it, unless it is registered as self-deduping), but must still be idempotent in what it writes,
 * since a crash can cause a reprocess.
 */
export type InboundHandler = (msg: InboundMessage, ctx: Ctx) => Promise<PassiveReply | undefined | void>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export class InboundMessageError extends Error {
  override name = 'InboundMessageError';
}

/** Turns the parsed `<xml>` fields into an InboundMessage; throws when the required fields are missing. */
export function toInboundMessage(fields: XmlRecord): InboundMessage {
  const msgType = str(fields.MsgType);
  const openid = str(fields.FromUserName);
  const toUserName = str(fields.ToUserName);
  const createTimeText = str(fields.CreateTime);
  if (!msgType || !openid || !toUserName || !createTimeText || !/^\d{1,12}$/.test(createTimeText)) {
    throw new InboundMessageError('message lacks ToUserName, FromUserName, CreateTime or MsgType');
  }
  const createTime = Number(createTimeText);
  if (msgType === 'event') {
    const event = str(fields.Event);
    if (!event) throw new InboundMessageError('event message lacks Event');
    const eventKey = str(fields.EventKey);
    let scene: string | undefined;
    if (event === 'subscribe' && eventKey?.startsWith('qrscene_')) scene = eventKey.slice('qrscene_'.length);
    else if (event === 'SCAN' && eventKey) scene = eventKey;
    // Job-finish events of one user in one second differ by their MsgID; the event name keeps kinds apart.
    const jobId = str(fields.MsgID) ?? str(fields.MsgId);
    return {
      kind: 'event',
      type: event,
      toUserName,
      openid,
      createTime,
      msgId: jobId,
      eventKey,
      ticket: str(fields.Ticket),
      scene,
      dedupeKey: `e:${openid}:${createTime}:${event}${jobId ? `:${jobId}` : ''}`,
      fields,
    };
  }
  const msgId = str(fields.MsgId);
  if (!msgId || !/^\d{1,20}$/.test(msgId)) throw new InboundMessageError('message lacks a numeric MsgId');
  return {
    kind: 'message',
    type: msgType,
    toUserName,
    openid,
    createTime,
    msgId,
    content: str(fields.Content),
    dedupeKey: `m:${msgId}`,
    fields,
  };
}

/** The XML of a passive reply to `msg`. */
export function passiveReplyXml(msg: InboundMessage, reply: PassiveReply, now = Date.now()): string {
  const head = { ToUserName: msg.openid, FromUserName: msg.toUserName, CreateTime: Math.floor(now / 1000) };
  switch (reply.type) {
    case 'text':
      return buildXml({ ...head, MsgType: 'text', Content: reply.content });
    case 'image':
      return buildXml({ ...head, MsgType: 'image', Image: { MediaId: reply.mediaId } });
    case 'news':
      return buildXml({
        ...head,
        MsgType: 'news',
        ArticleCount: reply.articles.length,
        Articles: {
          item: reply.articles.map((a) => ({ Title: a.title, Description: a.description ?? '', PicUrl: a.picUrl ?? '', Url: a.url })),
        },
      });
  }
}

/**
 * Where modules register what they do with inbound events and messages. Handlers of one type run in the order
 * registered; the first reply returned is the one sent.
 *
 *   dispatcher.onEvent('subscribe', (msg, ctx) => parcels.recordScan(ctx, msg));
 *   dispatcher.onMessage('text', (msg, ctx) => binding.tryOrderNumber(ctx, msg));
 */
export interface HandlerOptions {
  /**
   * The handler dedupes deliveries itself (its writes are keyed by the message, e.g. a unique constraint) and answers
   * a redelivery with the same reply as the first. When every handler of a message says so, the boundary does not
   * mark the message in the shared store: two store round trips fewer on that message's path.
   */
  readonly selfDeduping?: boolean;
}

export class InboundDispatcher {
  private readonly events = new Map<string, InboundHandler[]>();
  private readonly messages = new Map<string, InboundHandler[]>();
  private readonly selfDeduping = new Set<InboundHandler>();

  onEvent(event: WechatEventName, handler: InboundHandler, opts: HandlerOptions = {}): this {
    push(this.events, event, handler);
    if (opts.selfDeduping) this.selfDeduping.add(handler);
    return this;
  }

  onMessage(type: WechatMessageType, handler: InboundHandler, opts: HandlerOptions = {}): this {
    push(this.messages, type, handler);
    if (opts.selfDeduping) this.selfDeduping.add(handler);
    return this;
  }

  handlersFor(msg: InboundMessage): readonly InboundHandler[] {
    return (msg.kind === 'event' ? this.events : this.messages).get(msg.type) ?? [];
  }

  /** True when the message has handlers and every one of them dedupes deliveries itself. */
  dedupesItself(msg: InboundMessage): boolean {
    const handlers = this.handlersFor(msg);
    return handlers.length > 0 && handlers.every((h) => this.selfDeduping.has(h));
  }

  /** Runs every handler for the message; answers the first reply given. */
  async dispatch(msg: InboundMessage, ctx: Ctx): Promise<PassiveReply | undefined> {
    let reply: PassiveReply | undefined;
    for (const handler of this.handlersFor(msg)) {
      const r = await handler(msg, ctx);
      if (r && !reply) reply = r;
    }
    return reply;
  }
}

function push(map: Map<string, InboundHandler[]>, key: string, handler: InboundHandler) {
  const list = map.get(key);
  if (list) list.push(handler);
  else map.set(key, [handler]);
}

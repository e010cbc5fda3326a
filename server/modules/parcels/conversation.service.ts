import { randomUUID } from 'node:crypto';
import type { Ctx, Db } from '../../infra/db';
import type { KvStore } from '../../infra/kv';
import { conflict, isUniqueViolation, notFound } from '../../infra/errors';
import { KeywordReply, OaMessage } from './parcels.entity';
import { sceneFromEventKey, type ParcelsService } from './parcels.service';
import type { MemberDirectory, OaUsers } from './parcels.ports';

const ORDER_NO = /(?<!\d)(\d{18,19})(?!\d)/;
const LAST4 = /^\s*(\d{4})\s*$/;
const BIND_STATE_TTL_MS = 10 * 60_000;

export interface ConversationOptions {
  brand: string;
  /** The mini-program's appid: welcome replies link straight to its bind page. */
  mpAppid?: string;
  bindPagePath: string;
  /** Where a WeChat too old for mini-program links goes instead. */
  fallbackUrl: string;
}

export interface MessageView {
  id: string;
  msgId: string;
  openid: string;
  direction: 'in' | 'out';
  msgType: string;
  content: string | null;
  staffId: string | null;
  sentAt: string;
}

/** Replies in Chinese for every binding outcome; none of them asks for or rewards a follow or a rating. */
export const bindReplies = {
  askLast4: (orderNo: string) => `收到订单号 ${orderNo.slice(0, 4)}…${orderNo.slice(-4)}。请回复收货人手机号的后四位，完成订单绑定。`,
  bound: (nick: string, orders: number, points: number) =>
    `绑定成功！已关联淘宝账号 ${nick}，共 ${orders} 笔订单${points > 0 ? `，获得 ${points} 积分` : ''}。进入会员中心可查看积分与权益。`,
  order_not_found: '没有找到这个订单号。请核对后重新发送淘宝订单号（18 或 19 位数字）。',
  phone_mismatch: '手机号后四位与订单不符，请重新回复收货人手机号的后四位。',
  already_bound_to_other: '这个订单已绑定到另一个微信账号。如有疑问，请回复“人工客服”。',
  too_many_attempts: '尝试次数过多，请一小时后再试。',
} as const;

/** The Official Account conversation: welcome, binding a Taobao order by chat, keyword replies, the message log. */
export class ConversationService {
  constructor(
    private readonly db: Db,
    private readonly kv: KvStore,
    private readonly parcels: ParcelsService,
    private readonly members: MemberDirectory,
    private readonly users: OaUsers,
    private readonly opts: ConversationOptions,
  ) {}

  welcomeText(batchWelcome: string | null): string {
    const link = this.opts.mpAppid
      ? `<a data-miniprogram-appid="${this.opts.mpAppid}" data-miniprogram-path="${this.opts.bindPagePath}" href="${this.opts.fallbackUrl}">进入会员中心</a>`
      : `<a href="${this.opts.fallbackUrl}">进入会员中心</a>`;
    const body = batchWelcome ?? `欢迎来到${this.opts.brand}！\n直接回复淘宝订单号即可绑定订单，或${link}绑定，查看积分、会员权益和晒单评价有礼。`;
    return batchWelcome ? `${body}\n${link}` : body;
  }

  /**
   * subscribe / SCAN → recorded against its batch; the reply is the welcome (a SCAN by a follower gets one too).
   * A redelivery records nothing and answers the same welcome: WeChat redelivers only when the first answer was lost.
   */
  async onFollow(ctx: Ctx, e: { openid: string; event: 'subscribe' | 'SCAN'; eventKey?: string; createTime: number }): Promise<string | null> {
    const outcome = await this.parcels.recordFollow(ctx, {
      openid: e.openid,
      event: e.event === 'SCAN' ? 'scan' : 'subscribe',
      scene: sceneFromEventKey(e.eventKey, e.event),
      eventTime: new Date(e.createTime * 1000),
    });
    return this.welcomeText(outcome.batch?.welcomeText ?? null);
  }

  async onUnfollow(ctx: Ctx, e: { openid: string; createTime: number }): Promise<void> {
    await this.parcels.recordUnfollow(ctx, { openid: e.openid, eventTime: new Date(e.createTime * 1000) });
  }

  /** Any message: kept for customer service (once per MsgId); texts may continue a binding or match a keyword. */
  async onMessage(ctx: Ctx, m: { openid: string; msgId: string; msgType: string; content?: string; createTime: number }): Promise<string | null> {
    try {
      await this.db.repo(ctx, OaMessage).insert({
        msgId: m.msgId,
        openid: m.openid,
        msgType: m.msgType,
        content: m.content ?? null,
        direction: 'in',
        staffId: null,
        sentAt: new Date(m.createTime * 1000),
      });
    } catch (err) {
      if (isUniqueViolation(err)) return null; // the same message delivered again: handled the first time
      throw err;
    }
    if (m.msgType !== 'text' || !m.content) return null;
    return (await this.continueBinding(ctx, m.openid, m.content)) ?? (await this.keywordReply(ctx, m.content));
  }

  private async continueBinding(ctx: Ctx, openid: string, text: string): Promise<string | null> {
    const stateKey = `oa:bind:${openid}`;
    const orderNo = text.match(ORDER_NO)?.[1];
    if (orderNo) {
      await this.kv.set(stateKey, orderNo, BIND_STATE_TTL_MS);
      return bindReplies.askLast4(orderNo);
    }
    const last4 = text.match(LAST4)?.[1];
    if (!last4) return null;
    const pending = await this.kv.get(stateKey);
    if (!pending) return null;
    const memberId = await this.members.memberForOaOpenid(ctx, openid);
    const outcome = await this.members.bindTaobaoOrder(ctx, memberId, pending, last4);
    if (outcome.ok) {
      await this.kv.del(stateKey);
      return bindReplies.bound(outcome.buyerNick, outcome.ordersLinked, outcome.pointsAwarded);
    }
    if (outcome.code !== 'phone_mismatch') await this.kv.del(stateKey);
    return bindReplies[outcome.code];
  }

  private async keywordReply(ctx: Ctx, text: string): Promise<string | null> {
    const trimmed = text.trim();
    const [hit] = await this.db.rows(ctx, `SELECT reply FROM keyword_reply
       WHERE (match_kind = 'exact' AND keyword = $1) OR (match_kind = 'contains' AND strpos($1, keyword) > 0)
       ORDER BY (match_kind = 'exact') DESC, priority DESC, created_at LIMIT 1`,
      [trimmed],
    );
    return hit?.reply ?? null;
  }

  /** A customer-service reply from the console; WeChat only allows it inside the 48-hour window. */
  async reply(ctx: Ctx, staffId: string, openid: string, text: string): Promise<MessageView> {
    const follower = await this.parcels.followerOfOpenid(ctx, openid);
    if (!follower) throw notFound('follower_not_found', 'No follower with that openid');
    try {
      await this.users.sendText(openid, text);
    } catch (err) {
      // The WeChat boundary's error: its kind (server/wechat/api-errors.ts) and WeChat's errcode, kept for the console.
      const { wechatKind, errcode } = err as { wechatKind?: string; errcode?: number };
      if (wechatKind === 'out_of_window' || errcode === 45015 || errcode === 45047) {
        throw conflict(
          'out_of_window',
          errcode === 45047
            ? 'WeChat allows 5 replies to each message of the follower; wait for their next message'
            : 'WeChat only allows replies within 48 hours of the follower’s last message',
          { errcode },
        );
      }
      throw err;
    }
    const row = await this.db.repo(ctx, OaMessage).save({
      msgId: randomUUID(),
      openid,
      msgType: 'text',
      content: text,
      direction: 'out' as const,
      staffId,
      sentAt: new Date(),
    });
    return toMessageView(row);
  }

  async listMessages(ctx: Ctx, q: { openid?: string; since?: Date; until?: Date; before?: string; limit: number }): Promise<MessageView[]> {
    const qb = this.db.repo(ctx, OaMessage).createQueryBuilder('m').orderBy('m.id', 'DESC').limit(q.limit);
    if (q.openid) qb.andWhere('m.openid = :openid', { openid: q.openid });
    if (q.since) qb.andWhere('m.sent_at >= :since', { since: q.since });
    if (q.until) qb.andWhere('m.sent_at < :until', { until: q.until });
    if (q.before) qb.andWhere('m.id < :before', { before: q.before });
    return (await qb.getMany()).map(toMessageView);
  }

  listKeywordReplies(ctx: Ctx): Promise<KeywordReply[]> {
    return this.db.repo(ctx, KeywordReply).find({ order: { priority: 'DESC', createdAt: 'ASC' } });
  }

  async addKeywordReply(ctx: Ctx, input: { keyword: string; matchKind: 'exact' | 'contains'; reply: string; priority?: number }): Promise<KeywordReply> {
    try {
      return await this.db.repo(ctx, KeywordReply).save({ ...input, keyword: input.keyword.trim(), priority: input.priority ?? 0 });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('keyword_exists', `A ${input.matchKind} reply for “${input.keyword}” exists already`);
      throw err;
    }
  }

  async removeKeywordReply(ctx: Ctx, id: string): Promise<void> {
    const res = await this.db.repo(ctx, KeywordReply).delete({ id });
    if (!res.affected) throw notFound('keyword_reply_not_found', 'No keyword reply with that id');
  }
}

function toMessageView(m: OaMessage): MessageView {
  return {
    id: String(m.id),
    msgId: m.msgId,
    openid: m.openid,
    direction: m.direction,
    msgType: m.msgType,
    content: m.content,
    staffId: m.staffId,
    sentAt: new Date(m.sentAt).toISOString(),
  };
}

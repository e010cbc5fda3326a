import { invalid } from '../infra/errors';
import { WechatApiClient } from './api-client';
import { isWechatError } from './api-errors';

export interface QrCodeRequest {
  /** A string scene (1–64 characters) or a numeric one (permanent: 1–100000). */
  scene: string | number;
  /** Permanent codes are limited to 100,000 per account; temporary ones live `expireSeconds` (≤ 30 days). */
  permanent?: boolean;
  expireSeconds?: number;
}

export interface QrCode {
  ticket: string;
  /** The QR content: render it locally, or fetch the image at imageUrl. */
  url: string;
  imageUrl: string;
  expireSeconds?: number;
}

export interface FollowerInfo {
  subscribe: 0 | 1;
  openid: string;
  unionid?: string;
  subscribe_time?: number;
  subscribe_scene?: string;
  qr_scene?: number;
  qr_scene_str?: string;
  tagid_list?: number[];
  remark?: string;
  language?: string;
}

export interface TemplateMessage {
  touser: string;
  templateId: string;
  url?: string;
  miniprogram?: { appid: string; pagepath?: string };
  /** Dedupes a retried send on WeChat's side. */
  clientMsgId?: string;
  data: Record<string, { value: string }>;
}

export type MassTarget = { tagId: number } | { toAll: true } | { openids: string[] };

const MAX_TAGGING = 50;
export const MAX_BATCH_INFO = 100;
const INVALID_OPENID = 40003;

/** The Official Account API Snowball uses. */
export class OfficialAccountApi extends WechatApiClient {
  async createQrCode(req: QrCodeRequest): Promise<QrCode> {
    const stringScene = typeof req.scene === 'string';
    const action = req.permanent ? (stringScene ? 'QR_LIMIT_STR_SCENE' : 'QR_LIMIT_SCENE') : stringScene ? 'QR_STR_SCENE' : 'QR_SCENE';
    const scene = stringScene ? { scene_str: req.scene } : { scene_id: req.scene };
    const body = {
      action_name: action,
      action_info: { scene },
      ...(req.permanent ? {} : { expire_seconds: req.expireSeconds ?? 2_592_000 }),
    };
    const r = await this.post<{ ticket: string; url: string; expire_seconds?: number }>('qrcode/create', body);
    return { ticket: r.ticket, url: r.url, imageUrl: this.api.showQRCodeURL(encodeURIComponent(r.ticket)), expireSeconds: r.expire_seconds };
  }

  async getFollower(openid: string): Promise<FollowerInfo> {
    return (await this.api.getUser({ openid: encodeURIComponent(openid), lang: 'zh_CN' })) as FollowerInfo;
  }

  /**
   * user/info/batchget: up to 100 followers in one call; an openid WeChat does not know maps to null. One unknown
   * openid fails the whole call (40003), so then each is asked on its own to tell which.
   */
  async getFollowersInfo(openids: readonly string[]): Promise<Map<string, FollowerInfo | null>> {
    if (openids.length > MAX_BATCH_INFO) throw invalid('too_many_openids', `user/info/batchget takes at most ${MAX_BATCH_INFO} openids`);
    const infos = new Map<string, FollowerInfo | null>();
    if (openids.length === 0) return infos;
    try {
      const r = await this.post<{ user_info_list?: FollowerInfo[] }>('user/info/batchget', {
        user_list: openids.map((openid) => ({ openid, lang: 'zh_CN' })),
      });
      for (const f of r.user_info_list ?? []) infos.set(f.openid, f);
      return infos;
    } catch (err) {
      if (!isWechatError(err) || err.errcode !== INVALID_OPENID) throw err;
    }
    for (const openid of openids) {
      try {
        infos.set(openid, await this.getFollower(openid));
      } catch (err) {
        if (!isWechatError(err) || err.errcode !== INVALID_OPENID) throw err;
        infos.set(openid, null);
      }
    }
    return infos;
  }

  /** One page of follower openids (10,000 at most); pass next_openid to continue. */
  async listFollowers(nextOpenid?: string): Promise<{ total: number; count: number; openids: string[]; nextOpenid: string }> {
    const r = (await this.api.getFollowers(nextOpenid ? encodeURIComponent(nextOpenid) : undefined)) as {
      total: number;
      count: number;
      data?: { openid: string[] };
      next_openid: string;
    };
    return { total: r.total, count: r.count, openids: r.data?.openid ?? [], nextOpenid: r.next_openid };
  }

  async createTag(name: string): Promise<{ id: number; name: string }> {
    return ((await this.api.createTags(name)) as { tag: { id: number; name: string } }).tag;
  }

  async listTags(): Promise<Array<{ id: number; name: string; count: number }>> {
    return ((await this.api.getTags()) as { tags: Array<{ id: number; name: string; count: number }> }).tags;
  }

  /** Tags any number of followers, 50 per call as WeChat requires. */
  async tagFollowers(openids: string[], tagId: number): Promise<void> {
    for (let i = 0; i < openids.length; i += MAX_TAGGING) await this.api.batchTagging(openids.slice(i, i + MAX_TAGGING), tagId);
  }

  async untagFollowers(openids: string[], tagId: number): Promise<void> {
    for (let i = 0; i < openids.length; i += MAX_TAGGING) await this.api.batchUnTagging(openids.slice(i, i + MAX_TAGGING), tagId);
  }

  async followerTags(openid: string): Promise<number[]> {
    return ((await this.api.getIdList(openid)) as { tagid_list: number[] }).tagid_list;
  }

  /** A customer-service text: only inside the window the follower's last action opened (45015 / 45047 otherwise). */
  async sendCustomText(openid: string, text: string): Promise<void> {
    await this.api.sendText(openid, text);
  }

  async sendTemplate(msg: TemplateMessage): Promise<{ msgId: string | number }> {
    const r = await this.post<{ msgid: string | number }>('message/template/send', {
      touser: msg.touser,
      template_id: msg.templateId,
      url: msg.url,
      miniprogram: msg.miniprogram,
      client_msg_id: msg.clientMsgId,
      data: msg.data,
    });
    return { msgId: r.msgid };
  }

  /** A mass text by tag, to all, or to a list of 2–10,000 openids; completion arrives as MASSSENDJOBFINISH. */
  async massSendText(target: MassTarget, content: string, clientMsgId?: string): Promise<{ msgId: string | number; msgDataId?: string | number }> {
    let receivers: string[] | number | boolean;
    if ('openids' in target) {
      if (target.openids.length < 2 || target.openids.length > 10_000) throw invalid('mass_list_size', 'A list mass send takes 2 to 10,000 openids');
      receivers = target.openids;
    } else receivers = 'tagId' in target ? target.tagId : true;
    const r = (await this.api.massSend({ msgtype: 'text', text: { content } }, receivers, clientMsgId)) as {
      msg_id: string | number;
      msg_data_id?: string | number;
    };
    return { msgId: r.msg_id, msgDataId: r.msg_data_id };
  }

  /** A one-time subscription notice (43101 when the follower has not accepted this template). */
  async sendSubscriptionNotice(msg: { touser: string; templateId: string; page?: string; miniprogram?: { appid: string; pagepath: string }; data: Record<string, { value: string }> }): Promise<void> {
    await this.post('message/subscribe/bizsend', {
      touser: msg.touser,
      template_id: msg.templateId,
      page: msg.page,
      miniprogram: msg.miniprogram,
      data: msg.data,
    });
  }

  async createMenu(menu: { button: object[] }): Promise<void> {
    await this.api.createMenu(menu);
  }
}

import type { MemberCard, TierPerks } from './api-types';
import { config } from '../config';
import { shanghaiDate } from '../utils/shanghai-time';

export interface MemberCardView {
  nickname: string;
  avatarUrl: string;
  // The member set both a nickname and an avatar (else 我的 invites them to).
  hasProfile: boolean;
  tierCode: string;
  tierName: string;
  perks: string[];
  pointsBalance: number;
  expiringText: string;
  bound: boolean;
  buyerText: string;
  memberCode: string;
  // The code in groups of four, as a cashier reads it out: 3024 1865 73.
  memberCodeText: string;
}

export function perkTexts(perks: TierPerks): string[] {
  const texts: string[] = [];
  if (perks.discountPercent > 0) texts.push(`会员价 ${(100 - perks.discountPercent) / 10} 折`);
  if (perks.freeShipping) texts.push('全场包邮');
  if (perks.pointsMultiplier > 1) texts.push(`${perks.pointsMultiplier} 倍积分`);
  if (perks.birthdayGift) texts.push('生日礼');
  return texts;
}

// The server gives its own avatars as a path: an <image> needs the whole address.
export function avatarSrc(url: string | null): string {
  if (!url) return '';
  return url.startsWith('/') ? `${config.apiBaseUrl}${url}` : url;
}

// WeChat's nickname input checks the text on blur; the server holds the same rules (one line, 1–32 characters).
export function validateNickname(input: string): string {
  const nickname = input.trim();
  if (!nickname) return '请填写昵称';
  if ([...nickname].length > 32) return '昵称最多 32 个字';
  return '';
}

export function toMemberCardView(card: MemberCard): MemberCardView {
  return {
    nickname: card.nickname || '微信会员',
    avatarUrl: avatarSrc(card.avatarUrl),
    hasProfile: !!card.nickname && !!card.avatarUrl,
    tierCode: card.tier.code,
    tierName: card.tier.name,
    perks: perkTexts(card.tier.perks),
    pointsBalance: card.pointsBalance,
    expiringText: card.expiringPoints && card.expiringPoints.points > 0
      ? `${card.expiringPoints.points} 积分将于 ${shanghaiDate(card.expiringPoints.expiresAt)} 过期`
      : '',
    bound: card.taobaoBuyer !== null,
    buyerText: card.taobaoBuyer
      ? `已绑定 ${card.taobaoBuyer.channelName} 买家 ${card.taobaoBuyer.nickMasked}（${card.taobaoBuyer.ordersCount} 笔订单）`
      : '',
    memberCode: card.memberCode,
    memberCodeText: card.memberCode.replace(/(\d{4})(?=\d)/g, '$1 '),
  };
}

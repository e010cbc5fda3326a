import type { MemberCard, TierPerks } from './api-types';
import { shanghaiDate } from '../utils/shanghai-time';

export interface MemberCardView {
  nickname: string;
  avatarUrl: string;
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

export function toMemberCardView(card: MemberCard): MemberCardView {
  return {
    nickname: card.nickname || '微信会员',
    avatarUrl: card.avatarUrl || '',
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

import type { CheckInMonth, CheckInResult } from './api-types';
import { daysInMonth, mondayFirstWeekday } from '../utils/shanghai-time';

export type DayState = 'checked' | 'made_up' | 'missed' | 'today' | 'future' | 'blank';

export interface CalendarCell {
  key: string;
  date: string;
  day: number | null;
  state: DayState;
  // A missed past day the member may make up (补签) with a card.
  canMakeUp: boolean;
}

export interface CalendarWeek {
  key: string;
  days: CalendarCell[];
}

export interface CheckInView {
  month: string;
  monthTitle: string;
  today: string;
  todayCheckedIn: boolean;
  streak: number;
  makeUpCards: number;
  weeks: CalendarWeek[];
  checkedDays: number;
  rulesText: string[];
  isCurrentMonth: boolean;
}

export const WEEKDAY_LABELS = ['一', '二', '三', '四', '五', '六', '日'];

function dayState(date: string, today: string, checkedIn: boolean, madeUp: boolean): DayState {
  if (madeUp) return 'made_up';
  if (checkedIn) return 'checked';
  if (date === today) return 'today';
  return date < today ? 'missed' : 'future';
}

export function toCheckInView(data: CheckInMonth): CheckInView {
  const byDate = new Map(data.days.map((d) => [d.date, d]));
  const cells: CalendarCell[] = [];
  const first = `${data.month}-01`;
  for (let i = 0; i < mondayFirstWeekday(first); i++) cells.push({ key: `b${i}`, date: '', day: null, state: 'blank', canMakeUp: false });
  const total = daysInMonth(data.month);
  for (let day = 1; day <= total; day++) {
    const date = `${data.month}-${day < 10 ? '0' : ''}${day}`;
    const entry = byDate.get(date);
    const state = dayState(date, data.today, entry?.checkedIn === true, entry?.madeUp === true);
    cells.push({ key: date, date, day, state, canMakeUp: state === 'missed' && data.makeUpCards > 0 });
  }
  while (cells.length % 7 !== 0) cells.push({ key: `e${cells.length}`, date: '', day: null, state: 'blank', canMakeUp: false });
  const weeks: CalendarWeek[] = [];
  for (let i = 0; i < cells.length; i += 7) weeks.push({ key: `w${i / 7}`, days: cells.slice(i, i + 7) });

  const [year, month] = data.month.split('-').map(Number);
  const { rules } = data;
  const rulesText = [`每日签到得 ${rules.basePoints} 积分`];
  if (rules.day7Bonus > 0) rulesText.push(`连续签到 7 天额外奖励 ${rules.day7Bonus} 积分`);
  if (rules.day30Bonus > 0) rulesText.push(`连续签到 30 天额外奖励 ${rules.day30Bonus} 积分`);
  if (rules.makeUpCostPoints > 0) rulesText.push(`补签卡可用 ${rules.makeUpCostPoints} 积分兑换`);
  rulesText.push('签到与积分无需关注公众号');

  return {
    month: data.month,
    monthTitle: `${year}年${month}月`,
    today: data.today,
    todayCheckedIn: data.todayCheckedIn,
    streak: data.streak,
    makeUpCards: data.makeUpCards,
    weeks,
    checkedDays: data.days.filter((d) => d.checkedIn || d.madeUp).length,
    rulesText,
    isCurrentMonth: data.today.startsWith(data.month),
  };
}

export function checkInRewardText(result: CheckInResult): string {
  const parts = [`+${result.reward.points} 积分`];
  if (result.reward.couponName) parts.push(`获得「${result.reward.couponName}」`);
  return `签到成功，已连续 ${result.streak} 天：${parts.join('，')}`;
}


import type { Wechat } from '../../wechat/wechat';
import { defineModule } from '../module';
import { CheckIn, CheckInCard, CheckInReminder, CheckInRules } from './check-ins.entity';
import { checkInsPrivacy } from './check-ins.privacy';
import { checkInAdminRoutes, checkInMemberRoutes } from './check-ins.routes';
import { CheckInService, SEND_REMINDERS, type CheckInPoints, type ReminderSender } from './check-ins.service';

declare module '../module' {
  interface Services {
    checkIns: CheckInService;
  }
}

/** Daily check-in: streaks, bonuses, make-up cards and the evening reminder. */
export const checkInsModule = defineModule({
  name: 'check-ins',
  tables: ['check_in', 'check_in_rules', 'check_in_card', 'check_in_reminder'],
  entities: [CheckIn, CheckInRules, CheckInCard, CheckInReminder],
  needs: ({ services }): { points: CheckInPoints; reminders: ReminderSender } => ({
    points: {
      debit: async (ctx, memberId, amount, idempotencyKey, reason) => (await services.points.spend(ctx, { memberId, amount, idempotencyKey, reason })).balanceAfter,
      balance: (ctx, memberId) => services.points.balance(ctx, memberId),
      expiryOf: (earnedAt) => services.points.expiryOf(earnedAt),
    },
    reminders: reminderSender(services.wechat),
  }),
  services: ({ infra, ports, clock }) => ({ checkIns: new CheckInService(infra.db, ports.points, ports.reminders, clock) }),
  jobs: ({ services }) => [{ name: SEND_REMINDERS, retryLimit: 1, handler: async () => void (await services.checkIns.sendDailyReminders({})) }],
  // 19:00 in Shanghai: inside the evening hours people read (18:30–19:30), never at night.
  schedules: [{ job: SEND_REMINDERS, cron: '0 19 * * *', tz: 'Asia/Shanghai' }],
  adminRoutes: async (scope, { services }) => scope.register(checkInAdminRoutes, { checkIns: services.checkIns }),
  memberRoutes: async (scope, { services }) => scope.register(checkInMemberRoutes, { checkIns: services.checkIns }),
  privacy: ({ infra }) => [checkInsPrivacy(infra.db)],
});

function reminderSender(wechat: Wechat): ReminderSender {
  return {
    async sendCheckInReminder(mpOpenid, templateId, streak) {
      if (!wechat.mp) throw new Error('no mini-program is configured');
      await wechat.mp.sendSubscribeMessage({
        touser: mpOpenid,
        templateId,
        page: 'pages/check-in/index',
        data: { thing1: { value: '今天还没有签到哦' }, number2: { value: String(streak) } },
      });
    },
  };
}

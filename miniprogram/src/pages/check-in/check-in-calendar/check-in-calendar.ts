import { WEEKDAY_LABELS, type CalendarWeek } from '../../../models/check-in.model';

Component({
  properties: {
    weeks: { type: Array, value: [] as CalendarWeek[] },
  },
  data: { weekdays: WEEKDAY_LABELS },
  methods: {
    tapDay(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { date: string; makeup: boolean }>) {
      const { date, makeup } = e.currentTarget.dataset;
      if (makeup) this.triggerEvent('makeup', { date });
    },
  },
});

// China has no daylight saving time: Asia/Shanghai is always UTC+8, so plain arithmetic is exact.
const OFFSET_MS = 8 * 3600_000;

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function shifted(iso: string): Date {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`not an ISO time: ${iso}`);
  return new Date(ms + OFFSET_MS);
}

// 'YYYY-MM-DD' of an instant, on the Shanghai calendar.
export function shanghaiDate(iso: string): string {
  const d = shifted(iso);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

// 'YYYY-MM-DD HH:mm' of an instant, on the Shanghai clock.
export function shanghaiDateTime(iso: string): string {
  const d = shifted(iso);
  return `${shanghaiDate(iso)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

// 'YYYY-MM' of the month before or after the given one.
export function shiftMonth(month: string, delta: number): string {
  const [y, m] = month.split('-').map(Number);
  const index = y * 12 + (m - 1) + delta;
  return `${Math.floor(index / 12)}-${pad((index % 12) + 1)}`;
}

export function daysInMonth(month: string): number {
  const [y, m] = month.split('-').map(Number);
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

// 0 = Monday … 6 = Sunday, the week as Chinese calendars print it.
export function mondayFirstWeekday(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7;
}

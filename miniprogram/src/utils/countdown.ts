// A countdown to a time the server gave (an unpaid order's expiresAt), by the device clock, once a second.

// Whole seconds left until `iso`, never below 0; 0 for a time that cannot be read.
export function secondsLeft(iso: string, now: number = Date.now()): number {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return 0;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

// 14:59, or 1:02:03 past an hour.
export function clockText(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${two(m)}:${two(s % 60)}`;
}

// Calls tick with the seconds left now and every second after, the last time with 0; answers a stop function.
export function startCountdown(iso: string, tick: (seconds: number) => void): () => void {
  let left = secondsLeft(iso);
  tick(left);
  if (left === 0) return () => undefined;
  const timer = setInterval(() => {
    left = secondsLeft(iso);
    tick(left);
    if (left === 0) clearInterval(timer);
  }, 1000);
  return () => clearInterval(timer);
}

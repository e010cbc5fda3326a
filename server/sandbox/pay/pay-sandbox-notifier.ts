import { randomBytes } from 'node:crypto';
import { encryptResource } from '../../wechat/pay/wxpay-crypto';
import { memorySandboxState, type SandboxState } from '../sandbox-state';

/** WeChat's redelivery gaps after the first attempt, in seconds: 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h. */
export const WECHAT_RETRY_GAPS_S = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600] as const;

/** WeChat waits this long for an answer before counting the attempt as failed. */
const ANSWER_TIMEOUT_MS = 5_000;

export interface DeliveryAttempt {
  at: string;
  status?: number;
  error?: string;
}

export interface NotificationDelivery {
  id: string;
  eventType: string;
  notifyUrl: string;
  createTime: string;
  /** The plaintext resource (what the merchant should decrypt). */
  resource: unknown;
  attempts: DeliveryAttempt[];
  /** dropped: never sent (a notification lost on the way, see PaySandboxNotifier.drop). */
  state: 'pending' | 'acknowledged' | 'abandoned' | 'dropped';
}

/** A notification as the sandbox state keeps it: the delivery and, while pending, the envelope and when it goes next. */
interface KeptNotification extends NotificationDelivery {
  envelope?: string;
  nextAttemptAt?: number;
}

const KIND = 'wxpay.notification';

export interface Signer {
  /** Headers carrying WeChat Pay's signature over `timestamp\nnonce\nbody\n`. */
  sign(body: string): Record<string, string>;
}

/**
 * Posts notifications as WeChat does: one envelope (id, create_time, encrypted resource) per event, signed afresh on
 * every attempt, redelivered on WeChat's schedule (times `timeScale`) until a 200/204 answer arrives. Given a durable
 * state, a notification still pending at a restart is attempted again once `resume()` is called, on its schedule.
 */
export class PaySandboxNotifier {
  private readonly deliveries = new Map<string, NotificationDelivery>();
  /** The envelope of each pending delivery and when its next attempt is due. */
  private readonly envelopes = new Map<string, { envelope: string; nextAttemptAt?: number }>();
  private readonly state: SandboxState;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Deliveries with an attempt scheduled in this process. */
  private readonly pendingTimers = new Set<string>();
  private readonly waiters = new Map<string, (() => void)[]>();
  private closed = false;
  /** Notifications still to lose: the next `count` of this event type and order (any when absent). */
  private readonly drops: { eventType?: string; outTradeNo?: string; count: number }[] = [];

  constructor(
    private readonly opts: {
      apiV3Key: string;
      signer: Signer;
      timeScale: number;
      onError?: (msg: string, err: unknown) => void;
      state?: SandboxState;
    },
  ) {
    this.state = opts.state ?? memorySandboxState();
    for (const [id, { envelope, nextAttemptAt, ...delivery }] of this.state.records<KeptNotification>(KIND)) {
      this.deliveries.set(id, delivery);
      if (envelope !== undefined) this.envelopes.set(id, { envelope, nextAttemptAt });
    }
  }

  /** Schedules again the attempts that were due when the state was kept (once, after a restart). */
  resume(): void {
    for (const d of this.deliveries.values()) {
      const e = this.envelopes.get(d.id);
      if (d.state !== 'pending' || !e || this.pendingTimers.has(d.id)) continue;
      this.schedule(d, e.envelope, Math.max(0, (e.nextAttemptAt ?? 0) - Date.now()));
    }
  }

  /** Queues a notification; the first attempt goes out at once. Returns its id. */
  notify(p: { eventType: string; summary: string; originalType: string; notifyUrl: string; resource: object }): string {
    const id = `EV-${chinaStamp(new Date())}${randomBytes(5).readUIntBE(0, 5).toString().padStart(13, '0')}`;
    const createTime = chinaIso(new Date());
    const envelope = JSON.stringify({
      id,
      create_time: createTime,
      resource_type: 'encrypt-resource',
      event_type: p.eventType,
      summary: p.summary,
      resource: encryptResource(this.opts.apiV3Key, JSON.stringify(p.resource), p.originalType, p.originalType),
    });
    const delivery: NotificationDelivery = {
      id,
      eventType: p.eventType,
      notifyUrl: p.notifyUrl,
      createTime,
      resource: p.resource,
      attempts: [],
      state: 'pending',
    };
    this.deliveries.set(id, delivery);
    const orderOf = (p.resource as { out_trade_no?: string }).out_trade_no;
    const drop = this.drops.find((d) => d.count > 0 && (!d.eventType || d.eventType === p.eventType) && (!d.outTradeNo || d.outTradeNo === orderOf));
    if (drop) {
      drop.count--;
      this.finish(delivery, 'dropped');
      return id;
    }
    this.schedule(delivery, envelope, 0);
    return id;
  }

  /** The next `count` notifications (of one event type and order, or any) are never sent: what reconciliation must make up for. */
  drop(count: number, filter: { eventType?: string; outTradeNo?: string } = {}): void {
    this.drops.push({ ...filter, count });
  }

  list(): NotificationDelivery[] {
    return [...this.deliveries.values()];
  }

  get(id: string): NotificationDelivery | undefined {
    return this.deliveries.get(id);
  }

  /** Resolves when the notification is acknowledged or abandoned (tests, the web page). */
  settled(id: string): Promise<NotificationDelivery> {
    const d = this.deliveries.get(id);
    if (!d) return Promise.reject(new Error(`no notification ${id}`));
    if (d.state !== 'pending') return Promise.resolve(d);
    return new Promise((resolve) => {
      const list = this.waiters.get(id) ?? [];
      list.push(() => resolve(d));
      this.waiters.set(id, list);
    });
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private schedule(d: NotificationDelivery, envelope: string, delayMs: number): void {
    this.envelopes.set(d.id, { envelope, nextAttemptAt: Date.now() + delayMs });
    this.keep(d);
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.pendingTimers.delete(d.id);
      this.attempt(d, envelope).catch((err) => this.opts.onError?.('notification attempt failed unexpectedly', err));
    }, delayMs);
    t.unref();
    this.timers.add(t);
    this.pendingTimers.add(d.id);
  }

  private keep(d: NotificationDelivery): void {
    this.state.changed(KIND, d.id, (): KeptNotification => {
      const e = this.envelopes.get(d.id);
      return d.state === 'pending' && e ? { ...d, envelope: e.envelope, nextAttemptAt: e.nextAttemptAt } : d;
    });
  }

  private async attempt(d: NotificationDelivery, envelope: string): Promise<void> {
    if (this.closed || d.state !== 'pending') return;
    const attempt: DeliveryAttempt = { at: new Date().toISOString() };
    try {
      const res = await fetch(d.notifyUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'Mozilla/4.0', ...this.opts.signer.sign(envelope) },
        body: envelope,
        signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      attempt.status = res.status;
    } catch (err) {
      attempt.error = (err as Error).message;
    }
    if (this.closed) return; // stopped while waiting for the answer: attempted again after the restart
    d.attempts.push(attempt);
    if (attempt.status === 200 || attempt.status === 204) return this.finish(d, 'acknowledged');
    const gap = WECHAT_RETRY_GAPS_S[d.attempts.length - 1];
    if (gap === undefined) return this.finish(d, 'abandoned');
    this.schedule(d, envelope, gap * 1000 * this.opts.timeScale);
  }

  private finish(d: NotificationDelivery, state: 'acknowledged' | 'abandoned' | 'dropped'): void {
    d.state = state;
    this.envelopes.delete(d.id);
    this.keep(d);
    for (const w of this.waiters.get(d.id) ?? []) w();
    this.waiters.delete(d.id);
  }
}

/** yyyyMMddHHmmss in China time. */
export function chinaStamp(d: Date): string {
  return new Date(d.getTime() + 8 * 3600_000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** RFC 3339 with +08:00, as WeChat writes times. */
export function chinaIso(d: Date): string {
  return new Date(d.getTime() + 8 * 3600_000).toISOString().replace(/\.\d{3}Z$/, '+08:00');
}

// Webhook delivery as Stripe does it (STRIPE.md §11): every event to every matching endpoint, signed
// (`Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")`), retried with backoff on a non-2xx or a
// network error, with a new signature per attempt. Order is not promised; for tests a mode shuffles,
// duplicates and holds deliveries on demand.
import { createHmac } from 'node:crypto';
import { newId } from './ids';
import type { Account, StripeEvent } from './state';
import { typeMatcher } from './events';
import { renderEventAt } from './versions';

/** An endpoint set through the control API or the CLI (its secret chosen by the caller, e.g. the app's). */
export interface ControlEndpoint {
  id: string;
  url: string;
  secret: string;
  /** Only this account's events (its secret key); all accounts when null. */
  apiKey: string | null;
  /** Event types (`*` for all, `customer.subscription.*` for a family). */
  enabledEvents: string[];
  /** The API version its events are rendered at (an endpoint's `api_version`); null: the pinned one. */
  apiVersion: string | null;
}

export interface DeliveryMode {
  /** Keep deliveries until flush(). */
  hold: boolean;
  /** Deliver pending events in random order rather than as they were made. */
  shuffle: boolean;
  /** Probability (0..1) that an event is delivered a second time, as a separate delivery. */
  duplicates: number;
  /** Seed of the random order and duplicates, for a reproducible run (random when null). */
  seed: number | null;
}

export interface WebhookSettings {
  /** Delays before each retry after a failed attempt (Stripe's sandbox: 3 retries over a few hours, compressed here). */
  retryDelaysMs: number[];
  /** How long an endpoint may take to answer. */
  timeoutMs: number;
}

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = { retryDelaysMs: [1_000, 5_000, 25_000], timeoutMs: 30_000 };
export const DEFAULT_DELIVERY_MODE: DeliveryMode = { hold: false, shuffle: false, duplicates: 0, seed: null };

export interface DeliveryRecord {
  id: string;
  eventId: string;
  type: string;
  endpointId: string;
  url: string;
  attempt: number;
  duplicate: boolean;
  /** HTTP status, or null when the request failed (connection refused, timeout). */
  status: number | null;
  error?: string;
  /** Real time of the attempt, ms. */
  at: number;
}

interface Target {
  id: string;
  url: string;
  secret: string;
  apiVersion: string | null;
}

interface Pending {
  event: StripeEvent;
  target: Target;
  attempt: number;
  duplicate: boolean;
  held: boolean;
}

/** A small seeded PRNG (mulberry32): reproducible shuffles. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function signature(payload: string, secret: string, timestamp: number): string {
  return createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
}

export class WebhookDispatcher {
  controlEndpoints: ControlEndpoint[] = [];
  mode: DeliveryMode = { ...DEFAULT_DELIVERY_MODE };
  settings: WebhookSettings = { ...DEFAULT_WEBHOOK_SETTINGS };
  readonly log: DeliveryRecord[] = [];
  private pending: Pending[] = [];
  private readonly inFlight = new Map<string, Pending>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly delivered = new Set<string>();
  private rng = random(Math.floor(Math.random() * 2 ** 32));
  private pumpScheduled = false;
  private waiters: Array<() => void> = [];
  private closed = false;

  constructor(private readonly onDelivery?: (record: DeliveryRecord) => void) {}

  setMode(mode: Partial<DeliveryMode>): DeliveryMode {
    this.mode = { ...this.mode, ...mode };
    if (mode.seed !== undefined) this.rng = random(mode.seed ?? Math.floor(Math.random() * 2 ** 32));
    if (mode.hold === false) this.release();
    return this.mode;
  }

  /** The endpoints an account's event goes to: the control ones, and the account's own enabled ones. */
  private targetsFor(account: Account, type: string): Target[] {
    const targets: Target[] = [];
    for (const endpoint of this.controlEndpoints) {
      if ((endpoint.apiKey === null || endpoint.apiKey === account.apiKey) && endpoint.enabledEvents.some((e) => e === '*' || typeMatcher(e, undefined)(type))) {
        targets.push({ id: endpoint.id, url: endpoint.url, secret: endpoint.secret, apiVersion: endpoint.apiVersion });
      }
    }
    for (const rec of account.webhookEndpoints.values()) {
      const endpoint = rec.value;
      if (rec.meta.deleted || endpoint.status !== 'enabled') continue;
      if (endpoint.enabled_events.some((e) => e === '*' || typeMatcher(e, undefined)(type))) targets.push({ id: endpoint.id, url: endpoint.url, secret: rec.meta.secret, apiVersion: endpoint.api_version });
    }
    return targets;
  }

  onEvent(account: Account, event: StripeEvent): void {
    if (this.closed) return;
    const targets = this.targetsFor(account, event.type);
    event.pending_webhooks = targets.length;
    for (const target of targets) {
      this.pending.push({ event, target, attempt: 1, duplicate: false, held: this.mode.hold });
      if (this.mode.duplicates > 0 && this.rng() < this.mode.duplicates) this.pending.push({ event, target, attempt: 1, duplicate: true, held: this.mode.hold });
    }
    this.schedulePump();
  }

  /** Delivers everything held, then resolves when nothing is queued or in flight (retries included). */
  async flush(timeoutMs = 60_000): Promise<void> {
    this.release();
    await this.idle(timeoutMs);
  }

  private release(): void {
    for (const p of this.pending) p.held = false;
    this.schedulePump();
  }

  /** Resolves when no delivery is queued (held ones aside), in flight, or waiting to be retried. */
  idle(timeoutMs = 60_000): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        reject(new Error(`fake-stripe: webhook deliveries still pending after ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(done);
    });
  }

  /** Resolves once each of these events has had its first attempt at every endpoint (retries may follow). */
  async firstAttempts(eventIds: Set<string>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const waiting = () => [...this.pending.filter((p) => !p.held && p.attempt === 1), ...this.inFlight.values()].some((p) => eventIds.has(p.event.id));
    while (waiting() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }

  private isIdle(): boolean {
    return this.pending.every((p) => p.held) && this.inFlight.size === 0 && this.retryTimers.size === 0;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // After the current request: a burst of events is queued whole before the order is chosen.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** One delivery in flight per endpoint; the next is the oldest, or a random one in shuffle mode. */
  private pump(): void {
    if (this.closed) return;
    const byTarget = new Map<string, Pending[]>();
    for (const p of this.pending) {
      if (p.held || this.inFlight.has(p.target.id)) continue;
      byTarget.set(p.target.id, [...(byTarget.get(p.target.id) ?? []), p]);
    }
    for (const candidates of byTarget.values()) {
      const next = this.mode.shuffle ? candidates[Math.floor(this.rng() * candidates.length)] : candidates[0];
      this.pending.splice(this.pending.indexOf(next), 1);
      this.inFlight.set(next.target.id, next);
      void this.send(next);
    }
    if (this.isIdle()) this.notifyIdle();
  }

  private notifyIdle(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private async send(p: Pending): Promise<void> {
    // Rendered at the endpoint's API version, as Stripe renders each endpoint's copy (versions.ts).
    const payload = JSON.stringify(p.target.apiVersion ? renderEventAt(p.event, p.target.apiVersion) : p.event, null, 2);
    // A new timestamp and signature per attempt, as Stripe signs each retry afresh.
    const timestamp = Math.floor(Date.now() / 1000);
    const header = `t=${timestamp},v1=${signature(payload, p.target.secret, timestamp)},v0=${signature(payload, 'whsec_test_v0_fake', timestamp)}`;
    const record: DeliveryRecord = {
      id: newId('wd', 14),
      eventId: p.event.id,
      type: p.event.type,
      endpointId: p.target.id,
      url: p.target.url,
      attempt: p.attempt,
      duplicate: p.duplicate,
      status: null,
      at: Date.now(),
    };
    try {
      const response = await fetch(p.target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': header, 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
        body: payload,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      record.status = response.status;
      const text = await response.text().catch(() => '');
      if (!response.ok) record.error = text.slice(0, 300);
    } catch (error) {
      record.error = (error as Error).message;
    }
    this.log.push(record);
    this.onDelivery?.(record);
    this.inFlight.delete(p.target.id);
    const ok = record.status !== null && record.status >= 200 && record.status < 300;
    const key = `${p.event.id} ${p.target.id}`;
    if (ok && !this.delivered.has(key)) {
      this.delivered.add(key);
      p.event.pending_webhooks = Math.max(0, p.event.pending_webhooks - 1);
    }
    const delay = this.settings.retryDelaysMs[p.attempt - 1];
    if (!ok && !p.duplicate && delay !== undefined && !this.closed) {
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        this.pending.push({ ...p, attempt: p.attempt + 1, held: false });
        this.schedulePump();
      }, delay);
      this.retryTimers.add(timer);
    }
    this.schedulePump();
  }

  /** Forgets queued deliveries and the log (keeps the endpoints and settings unless asked). */
  reset(all: boolean): void {
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    this.pending = [];
    this.log.length = 0;
    this.delivered.clear();
    if (all) {
      this.controlEndpoints = [];
      this.mode = { ...DEFAULT_DELIVERY_MODE };
    }
    this.schedulePump();
  }

  close(): void {
    this.closed = true;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    this.pending = [];
    this.notifyIdle();
  }
}

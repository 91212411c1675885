// A typed client for the simulator's control API (`/_fake/...`), for tests and scripts that talk to a
// simulator in another process (the one `scripts/emulators.mjs` starts), and helpers over the
// Stripe SDK that tests share: advancing a test clock and waiting until it is ready.
import type Stripe from 'stripe';
import type { DeliveryMode, DeliveryRecord } from './delivery';
import type { FailureRule, DelayRule, FakeStripeState, SettingsUpdate, WebhookTarget } from './server';
import type { TestClock } from './state';

export class FakeStripeControl {
  constructor(readonly baseUrl: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json()) as T & { error?: { message: string } };
    if (!response.ok) throw new Error(`fake-stripe ${method} ${path}: ${response.status} ${json.error?.message ?? ''}`);
    return json;
  }

  reset(all = false): Promise<unknown> {
    return this.call('POST', '/_fake/reset', { all });
  }
  state(apiKey?: string): Promise<FakeStripeState> {
    return this.call('GET', `/_fake/state${apiKey ? `?apiKey=${encodeURIComponent(apiKey)}` : ''}`);
  }
  failNext(rule: FailureRule): Promise<unknown> {
    return this.call('POST', '/_fake/failures', rule);
  }
  delayNext(rule: DelayRule): Promise<unknown> {
    return this.call('POST', '/_fake/delay', rule);
  }
  async addWebhook(target: WebhookTarget): Promise<string> {
    return (await this.call<{ id: string }>('POST', '/_fake/webhooks', target)).id;
  }
  removeWebhook(id: string): Promise<unknown> {
    return this.call('DELETE', `/_fake/webhooks/${id}`);
  }
  setDeliveryMode(mode: Partial<DeliveryMode>): Promise<DeliveryMode> {
    return this.call('POST', '/_fake/webhooks/mode', mode);
  }
  flushWebhooks(timeoutMs?: number): Promise<unknown> {
    return this.call('POST', '/_fake/webhooks/flush', { timeoutMs });
  }
  async deliveries(filter: { eventId?: string; type?: string } = {}): Promise<DeliveryRecord[]> {
    const query = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined) as Array<[string, string]>);
    return (await this.call<{ data: DeliveryRecord[] }>('GET', `/_fake/webhooks/deliveries?${query}`)).data;
  }
  configure(update: SettingsUpdate): Promise<unknown> {
    return this.call('POST', '/_fake/settings', update);
  }
  defaultTestClock(apiKey: string): Promise<TestClock> {
    return this.call('GET', `/_fake/test-clock?apiKey=${encodeURIComponent(apiKey)}`);
  }
  /** Makes the next charges to an attached card succeed or decline ("the card expired since"). */
  setChargeOutcome(paymentMethodId: string, outcome: 'succeed' | 'decline', declineCode?: string): Promise<unknown> {
    return this.call('POST', `/_fake/payment_methods/${paymentMethodId}/charges`, { outcome, decline_code: declineCode });
  }
  tick(): Promise<unknown> {
    return this.call('POST', '/_fake/tick');
  }
}

/** Advances a test clock through Stripe's API and waits until it is `ready` (its events' first deliveries done). */
export async function advanceClock(stripe: Stripe, clockId: string, frozenTime: number, timeoutMs = 60_000): Promise<Stripe.TestHelpers.TestClock> {
  await stripe.testHelpers.testClocks.advance(clockId, { frozen_time: frozenTime });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const clock = await stripe.testHelpers.testClocks.retrieve(clockId);
    if (clock.status === 'ready') return clock;
    if (clock.status === 'internal_failure') throw new Error(`test clock ${clockId} failed to advance`);
    if (Date.now() > deadline) throw new Error(`test clock ${clockId} still ${clock.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

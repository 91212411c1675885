// The plumbing between the local Stripe simulator and the real stripeWebhook on the Functions emulator:
// the launcher exports the run's webhook URL and secret (STRIPE_WEBHOOK_URL, STRIPE_WEBHOOK_SECRET);
// deliveries signed with that secret are accepted, others refused, and retried (STRIPE.md §11).
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeStripeControl } from '../../tools/fake-stripe/control';
import { clearEmulators } from '../helpers/emulators';

const required = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with \`npm test\`, which starts the Stripe simulator`);
  return value;
};
// An account of its own, so that no other test's Stripe objects are delivered while this file runs.
const KEY = 'sk_test_delivery_plumbing';
const base = new URL(required('STRIPE_API_BASE'));
const stripe = new Stripe(KEY, { host: base.hostname, port: Number(base.port), protocol: 'http', maxNetworkRetries: 0, telemetry: false });
const control = new FakeStripeControl(base.origin);
const webhooks: string[] = [];
let retryDelaysMs: number[];

beforeAll(async () => {
  retryDelaysMs = (await control.settings()).webhooks.retryDelaysMs;
  await control.configure({ webhooks: { retryDelaysMs: [50, 50, 50] } }); // Stripe's backoff, compressed further
});
afterAll(async () => {
  for (const id of webhooks) await control.removeWebhook(id);
  await control.configure({ webhooks: { retryDelaysMs } });
});
beforeEach(() => clearEmulators());

async function deliveriesOf(eventType: string) {
  await control.flushWebhooks();
  const [event] = (await stripe.events.list({ type: eventType, limit: 1 })).data;
  return control.deliveries({ eventId: event.id });
}

describe('the Stripe simulator delivers to the test run\'s stripeWebhook', () => {
  it('signs with the functions\' STRIPE_WEBHOOK_SECRET: the real endpoint verifies the signature and answers 200', async () => {
    webhooks.push(await control.addWebhook({ url: required('STRIPE_WEBHOOK_URL'), secret: required('STRIPE_WEBHOOK_SECRET'), apiKey: KEY }));
    await stripe.customers.create({ email: 'plumbing@acme.test' });
    const deliveries = await deliveriesOf('customer.created');
    expect(deliveries.map((d) => [d.attempt, d.status])).toEqual([[1, 200]]);
    expect(deliveries[0].url).toBe(required('STRIPE_WEBHOOK_URL'));
    await control.removeWebhook(webhooks.pop()!);
  });

  it('signed with another secret: the endpoint refuses it with 400, and Stripe retries it, three more times', async () => {
    webhooks.push(await control.addWebhook({ url: required('STRIPE_WEBHOOK_URL'), secret: 'whsec_not_the_functions_secret', apiKey: KEY }));
    await stripe.customers.create({ email: 'forged@acme.test' });
    const deliveries = await deliveriesOf('customer.created');
    expect(deliveries.map((d) => [d.attempt, d.status])).toEqual([
      [1, 400],
      [2, 400],
      [3, 400],
      [4, 400],
    ]);
    await control.removeWebhook(webhooks.pop()!);
  });
});

// Events and webhook delivery, checked against STRIPE.md §11: one event per change with the full
// object and previous_attributes, listable and retrievable; signed deliveries (t=, v1= HMAC-SHA256
// over "t.body") that the SDK verifies; retries with a new signature; no promised order or
// uniqueness, which a delivery mode makes happen on demand.
import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import { ORDERED_DELIVERY } from '../../tools/fake-stripe/delivery';
import { afterEach, describe, expect, it, beforeEach } from 'vitest';
import { Clock, PRICE, HOUR, WebhookReceiver, rejection, useSimulator } from './simulator';

let receiver: WebhookReceiver;

const sim = useSimulator({ options: { webhookSettings: { retryDelaysMs: [50, 100, 200] } }, clockPerTest: false });
beforeEach(async () => {
  receiver = await new WebhookReceiver().start();
});
afterEach(() => receiver.close());

describe('event objects (STRIPE.md §11)', () => {
  it('one event per change: full data.object snapshot, previous_attributes on *.updated only, api_version, request', async () => {
    const customer = await sim.stripe.customers.create({ email: 'a@acme.test' }, { idempotencyKey: 'create-a' });
    await sim.stripe.customers.update(customer.id, { email: 'b@acme.test', metadata: { tenantId: 't1' } });
    const [updated, created] = (await sim.stripe.events.list({ limit: 2 })).data;
    expect(created).toMatchObject({ object: 'event', type: 'customer.created', api_version: '2026-10-28.endive', livemode: false });
    expect(created.request).toEqual({ id: expect.stringMatching(/^req_/), idempotency_key: 'create-a' });
    expect(created.data.previous_attributes).toBeUndefined();
    expect((created.data.object as Stripe.Customer).email).toBe('a@acme.test'); // a snapshot, not the live object
    expect(updated.type).toBe('customer.updated');
    expect(updated.data.previous_attributes).toEqual({ email: 'a@acme.test', metadata: { tenantId: null } }); // an added key was null
    expect((updated.data.object as Stripe.Customer).email).toBe('b@acme.test');
    expect(await sim.stripe.events.retrieve(updated.id)).toEqual(updated);
  });

  it('nested hashes in previous_attributes carry only the changed keys', async () => {
    const customer = await sim.stripe.customers.create({ email: 'a@acme.test' });
    const pm = await sim.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await sim.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
    const [event] = (await sim.stripe.events.list({ type: 'customer.updated' })).data;
    expect(event.data.previous_attributes).toEqual({ invoice_settings: { default_payment_method: null } });
  });

  it('lists newest first, filtered by type (with .* families), types[] and created; paginates', async () => {
    const clock = await Clock.start(sim.stripe);
    const customer = await clock.customer();
    await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }], trial_period_days: 14 });
    const subscriptionEvents = await sim.stripe.events.list({ type: 'customer.subscription.*' });
    expect(subscriptionEvents.data.map((e) => e.type)).toEqual(['customer.subscription.created']);
    const some = await sim.stripe.events.list({ types: ['invoice.paid', 'customer.created'] });
    expect(some.data.map((e) => e.type)).toEqual(['invoice.paid', 'customer.created']);
    const atClockTime = await sim.stripe.events.list({ created: { gte: clock.now, lte: clock.now }, limit: 100 });
    expect(atClockTime.data.length).toBeGreaterThan(0);
    expect(atClockTime.data.every((e) => e.created === clock.now)).toBe(true); // events on a clock carry its time
    const page = await sim.stripe.events.list({ limit: 2 });
    expect(page.has_more).toBe(true);
    const next = await sim.stripe.events.list({ limit: 2, starting_after: page.data[1].id });
    expect(next.data[0].id).not.toBe(page.data[1].id);
    await rejection(sim.stripe.events.retrieve('evt_missing'), 'StripeInvalidRequestError', { statusCode: 404, code: 'resource_missing' });
  });
});

describe('signed delivery (STRIPE.md §11)', () => {
  it('delivers every event to a control-registered endpoint, signed so that sim.stripe.webhooks.constructEvent accepts it', async () => {
    sim.fake.addWebhook({ url: receiver.url, secret: receiver.secret });
    const customer = await sim.stripe.customers.create({ email: 'a@acme.test' });
    await sim.stripe.customers.update(customer.id, { name: 'Acme' });
    await sim.fake.flushWebhooks();
    expect(receiver.refused).toEqual([]);
    expect(receiver.types()).toEqual(['customer.created', 'customer.updated']);
    const { signature, body, event } = receiver.received[0];
    const parts = Object.fromEntries(signature.split(',').map((p) => p.split('=') as [string, string]));
    expect(Math.abs(Number(parts.t) - Date.now() / 1000)).toBeLessThan(60); // real time, within the SDK's 300 s tolerance
    expect(parts.v1).toBe(createHmac('sha256', receiver.secret).update(`${parts.t}.${body}`).digest('hex'));
    expect(event).toEqual(await sim.stripe.events.retrieve(event.id).then((e) => ({ ...e, pending_webhooks: event.pending_webhooks })));
    expect((await sim.stripe.events.retrieve(event.id)).pending_webhooks).toBe(0);
  });

  it('a wrong secret is refused by the receiver: the signature is really checked', async () => {
    sim.fake.addWebhook({ url: receiver.url, secret: 'whsec_not_the_receivers' });
    await sim.stripe.customers.create({ email: 'a@acme.test' });
    await sim.fake.flushWebhooks();
    expect(receiver.received).toEqual([]);
    expect(receiver.refused[0]).toMatch(/No signatures found matching the expected signature/);
  });

  it('sends only enabled event types, and only an account\'s own events when the endpoint names the account', async () => {
    sim.fake.addWebhook({ url: receiver.url, secret: receiver.secret, apiKey: 'sk_test_simulator', enabledEvents: ['customer.updated'] });
    const customer = await sim.stripe.customers.create({ email: 'a@acme.test' });
    await sim.stripe.customers.update(customer.id, { name: 'Acme' });
    await new Stripe('sk_test_other_account', { host: '127.0.0.1', port: sim.fake.port, protocol: 'http', maxNetworkRetries: 0 }).customers.create({ name: 'x' });
    await sim.fake.flushWebhooks();
    expect(receiver.types()).toEqual(['customer.updated']);
  });

  it('endpoints made through /v1/webhook_endpoints get a Stripe-made secret, returned once, and receive enabled events', async () => {
    const endpoint = await sim.stripe.webhookEndpoints.create({ url: receiver.url, enabled_events: ['customer.created'] });
    expect(endpoint.secret).toMatch(/^whsec_/);
    expect((await sim.stripe.webhookEndpoints.retrieve(endpoint.id)).secret).toBeUndefined();
    const own = await new WebhookReceiver(endpoint.secret).start();
    await sim.stripe.webhookEndpoints.update(endpoint.id, { url: own.url });
    await sim.stripe.customers.create({ email: 'a@acme.test' });
    await sim.stripe.products.create({ name: 'not a customer event' });
    await sim.fake.flushWebhooks();
    expect(own.types()).toEqual(['customer.created']);
    await sim.stripe.webhookEndpoints.update(endpoint.id, { disabled: true });
    await sim.stripe.customers.create({ email: 'b@acme.test' });
    await sim.fake.flushWebhooks();
    expect(own.types()).toEqual(['customer.created']); // a disabled endpoint gets nothing
    await own.close();
  });

  it('S2: each endpoint gets the event rendered at its api_version: before basil an invoice names its subscription at the top level, a subscription has its period', async () => {
    const types: Stripe.WebhookEndpointCreateParams.EnabledEvent[] = ['invoice.paid', 'customer.subscription.created'];
    const endpoint = await sim.stripe.webhookEndpoints.create({ url: receiver.url, enabled_events: types, api_version: '2024-06-20' as Stripe.WebhookEndpointCreateParams.ApiVersion });
    expect(endpoint.api_version).toBe('2024-06-20');
    const old = await new WebhookReceiver(endpoint.secret).start();
    await sim.stripe.webhookEndpoints.update(endpoint.id, { url: old.url });
    sim.fake.addWebhook({ url: receiver.url, secret: receiver.secret, enabledEvents: types });
    const clock = await Clock.start(sim.stripe);
    const customer = await clock.customer();
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }], trial_period_days: 14, metadata: { tenantId: 't1' } });
    await sim.fake.flushWebhooks();
    const of = (r: WebhookReceiver, type: string) => r.received.find((x) => x.event.type === type)!.event;
    const [oldPaid, pinnedPaid] = [of(old, 'invoice.paid'), of(receiver, 'invoice.paid')];
    expect(oldPaid.id).toBe(pinnedPaid.id); // one event, rendered for each endpoint
    expect(oldPaid.api_version).toBe('2024-06-20');
    expect(oldPaid.data.object).toMatchObject({ subscription: sub.id, subscription_details: { metadata: { tenantId: 't1' } }, paid: true });
    expect(oldPaid.data.object).not.toHaveProperty('parent');
    expect(pinnedPaid.api_version).toBe('2026-10-28.endive');
    expect(pinnedPaid.data.object).toMatchObject({ parent: { subscription_details: { subscription: sub.id, metadata: { tenantId: 't1' } } } });
    expect(pinnedPaid.data.object).not.toHaveProperty('subscription');
    const oldCreated = of(old, 'customer.subscription.created').data.object as unknown as Record<string, unknown> & { items: Stripe.ApiList<Record<string, unknown>> };
    expect(oldCreated.current_period_end).toBe(sub.items.data[0].current_period_end);
    expect(oldCreated.items.data[0]).not.toHaveProperty('current_period_end');
    expect((of(receiver, 'customer.subscription.created').data.object as Stripe.Subscription).items.data[0].current_period_end).toBe(sub.items.data[0].current_period_end);
    await old.close();
  });

  it('retries a non-2xx answer with backoff until it succeeds', async () => {
    sim.fake.addWebhook({ url: receiver.url, secret: receiver.secret });
    receiver.failures.push({ status: 500, times: 2 });
    await sim.stripe.customers.create({ email: 'a@acme.test' });
    await sim.fake.flushWebhooks();
    expect(receiver.types()).toEqual(['customer.created']);
    const attempts = sim.fake.deliveries().filter((d) => d.type === 'customer.created');
    expect(attempts.map((d) => [d.attempt, d.status])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
    expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(45);
    expect((await sim.stripe.events.list({ type: 'customer.created' })).data[0].pending_webhooks).toBe(0);
  });

  it('gives up after the last retry; the event keeps pending_webhooks and is still listable', async () => {
    sim.fake.addWebhook({ url: receiver.url, secret: receiver.secret });
    receiver.failures.push({ status: 503, times: 10 });
    await sim.stripe.customers.create({ email: 'a@acme.test' });
    await sim.fake.flushWebhooks();
    expect(sim.fake.deliveries().map((d) => d.status)).toEqual([503, 503, 503, 503]);
    expect((await sim.stripe.events.list({ delivery_success: false })).data.map((e) => e.type)).toEqual(['customer.created']);
  });

  it('retries when the endpoint cannot be reached', async () => {
    sim.fake.addWebhook({ url: 'http://127.0.0.1:1/stripeWebhook', secret: receiver.secret });
    await sim.stripe.customers.create({ email: 'a@acme.test' });
    await sim.fake.flushWebhooks();
    const attempts = sim.fake.deliveries();
    expect(attempts).toHaveLength(4);
    expect(attempts.every((d) => d.status === null && d.error)).toBe(true);
  });
});

describe('delivery mode for tests: hold, shuffle, duplicate (STRIPE.md §11 ordering and duplicates)', () => {
  it('holds deliveries until flushed, then delivers them shuffled and duplicated, reproducibly for a seed', async () => {
    sim.fake.addWebhook({ url: receiver.url, secret: receiver.secret });
    sim.fake.setDeliveryMode({ hold: true, shuffle: true, duplicates: 1, seed: 42 });
    const clock = await Clock.start(sim.stripe);
    const customer = await clock.customer('pm_card_visa');
    await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }], trial_period_days: 14 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(receiver.received).toEqual([]); // held
    const made = (await sim.stripe.events.list({ limit: 100 })).data.map((e) => e.id).reverse();
    await sim.fake.flushWebhooks();
    const got = receiver.received.map((r) => r.event.id);
    expect(got).toHaveLength(made.length * 2); // every event twice
    expect(new Set(got)).toEqual(new Set(made));
    expect(got.filter((id, i) => got.indexOf(id) === i)).not.toEqual(made); // not in the order made
    expect(sim.fake.deliveries().filter((d) => d.duplicate)).toHaveLength(made.length);
  });

  it('ordered when a test asks (shuffle off, one at a time): in order, once each', async () => {
    sim.fake.addWebhook({ url: receiver.url, secret: receiver.secret });
    sim.fake.setDeliveryMode({ hold: true, shuffle: true, duplicates: 1 });
    sim.fake.setDeliveryMode({ hold: false, duplicates: 0, ...ORDERED_DELIVERY });
    receiver.delayMs = 20;
    const made: string[] = [];
    for (let i = 0; i < 8; i += 1) made.push((await sim.stripe.customers.create({ email: `c${i}@acme.test` })).id);
    await sim.fake.flushWebhooks();
    expect(receiver.received.map((r) => (r.event.data.object as Stripe.Customer).id)).toEqual(made);
    expect(receiver.maxInFlight).toBe(1);
  });

  it('S4: by default, as Stripe does, deliveries to one endpoint are concurrent and not in the order made', async () => {
    sim.fake.addWebhook({ url: receiver.url, secret: receiver.secret });
    expect(sim.fake.setDeliveryMode({ seed: 7 })).toMatchObject({ hold: false, shuffle: true, duplicates: 0 });
    receiver.delayMs = 50; // a handler that takes a moment: the next deliveries do not wait for it
    await Promise.all(Array.from({ length: 12 }, (_, i) => sim.stripe.customers.create({ email: `c${i}@acme.test` })));
    const made = (await sim.stripe.events.list({ type: 'customer.created', limit: 100 })).data.map((e) => e.id).reverse();
    await sim.fake.flushWebhooks();
    const got = receiver.received.map((r) => r.event.id);
    expect([...got].sort()).toEqual([...made].sort());
    expect(got).not.toEqual(made);
    expect(receiver.maxInFlight).toBeGreaterThan(1);
  });
});

describe('test clock advances and delivery (STRIPE.md §10, §11)', () => {
  it('a clock is ready only after its events had a first delivery: what the handler did is visible at ready', async () => {
    sim.fake.addWebhook({ url: receiver.url, secret: receiver.secret });
    receiver.delayMs = 100; // a slow handler
    const clock = await Clock.start(sim.stripe);
    const customer = await clock.customer();
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }], trial_period_days: 14, trial_settings: { end_behavior: { missing_payment_method: 'pause' } } });
    await clock.advanceTo(sub.trial_end! + HOUR);
    expect(receiver.types()).toContain('customer.subscription.paused');
    await sim.fake.flushWebhooks();
    const types = receiver.types();
    expect(types.indexOf('customer.subscription.paused')).toBeLessThan(types.indexOf('test_helpers.test_clock.ready'));
  });
});

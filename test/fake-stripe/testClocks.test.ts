// Test clocks through Stripe's API, checked against STRIPE.md §10: create, advance (advancing →
// ready), time only forward, the two-interval limit, customers on a clock living at its time, every
// scheduled transition walked in time order; and the simulator's default local clock (npm start).
import { describe, expect, it } from 'vitest';
import { catalogPriceId } from '../../tools/fake-stripe/catalog';
import { Clock, PRICE, DAY, HOUR, T0, WebhookReceiver, eventsOf, rejection, sdk, startSimulator, useSimulator } from './simulator';


const sim = useSimulator({ clockPerTest: false });

describe('test clocks (STRIPE.md §10)', () => {
  it('creates a ready clock; advance answers advancing with the target, then the clock is ready at it', async () => {
    const clock = await sim.stripe.testHelpers.testClocks.create({ frozen_time: T0, name: 'demo' });
    expect(clock).toMatchObject({ object: 'test_helpers.test_clock', status: 'ready', frozen_time: T0, name: 'demo', livemode: false });
    const advancing = await sim.stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: T0 + DAY });
    expect(advancing.status).toBe('advancing');
    expect(advancing.status_details.advancing?.target_frozen_time).toBe(T0 + DAY);
    let current = advancing;
    while (current.status !== 'ready') current = await sim.stripe.testHelpers.testClocks.retrieve(clock.id);
    expect(current.frozen_time).toBe(T0 + DAY);
    const types = (await sim.stripe.events.list({ type: 'test_helpers.test_clock.*' })).data.map((e) => e.type).reverse();
    expect(types).toEqual(['test_helpers.test_clock.created', 'test_helpers.test_clock.advancing', 'test_helpers.test_clock.ready']);
  });

  it('refuses to go back, and past two intervals of the shortest subscription (two years without one)', async () => {
    const clock = await Clock.start(sim.stripe);
    await rejection(sim.stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: T0 - 1 }), 'StripeInvalidRequestError', { param: 'frozen_time' });
    await rejection(sim.stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: T0 + 732 * DAY }), 'StripeInvalidRequestError', { param: 'frozen_time' }); // 2027-03-01 + 2 years = +731 days
    const customer = await clock.customer();
    await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }], trial_period_days: 14 });
    await rejection(sim.stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: Date.UTC(2027, 4, 1) / 1000 + 1 }), 'StripeInvalidRequestError', { param: 'frozen_time' });
    await clock.advanceTo(Date.UTC(2027, 4, 1) / 1000);
  });

  it('refuses a second advance while the clock is advancing (here: waiting for a slow webhook endpoint)', async () => {
    const receiver = await new WebhookReceiver().start();
    receiver.delayMs = 300;
    const clock = await Clock.start(sim.stripe);
    const customer = await clock.customer();
    await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }], trial_period_days: 2, trial_settings: { end_behavior: { missing_payment_method: 'cancel' } } });
    sim.fake.addWebhook({ url: receiver.url, secret: receiver.secret, enabledEvents: ['customer.subscription.deleted'] });
    await sim.stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: T0 + 3 * DAY });
    await rejection(sim.stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: T0 + 4 * DAY }), 'StripeInvalidRequestError', { statusCode: 400 });
    await sim.fake.flushWebhooks();
    await receiver.close();
  });

  it('objects on a clock are created at its frozen time, and objects on no clock live in real time', async () => {
    const clock = await Clock.start(sim.stripe);
    const onClock = await clock.customer();
    expect(onClock.created).toBe(T0);
    expect(onClock.test_clock).toBe(clock.id);
    const sub = await sim.stripe.subscriptions.create({ customer: onClock.id, items: [{ price: PRICE.team }], trial_period_days: 14 });
    expect(sub.created).toBe(T0);
    expect(sub.test_clock).toBe(clock.id);
    const free = await sim.stripe.customers.create({ email: 'now@acme.test' });
    expect(Math.abs(free.created - Date.now() / 1000)).toBeLessThan(60);
    expect(free.test_clock).toBeNull();
  });

  it('walks every transition in time order in one advance: trial_will_end, trial end, finalization, retries, renewal', async () => {
    sim.fake.configure({ billing: { retryDays: [1, 3], afterFinalRetry: 'past_due' } });
    const clock = await Clock.start(sim.stripe);
    const customer = await clock.customer();
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }], trial_period_days: 14 });
    const trialEnd = sub.trial_end!;
    await clock.advanceTo(trialEnd + 20 * DAY);
    const timeline = (await sim.stripe.events.list({ limit: 100, created: { gt: T0 } })).data
      .reverse()
      .filter((e) => e.type !== 'test_helpers.test_clock.advancing' && e.type !== 'test_helpers.test_clock.ready' && !e.type.startsWith('payment_intent'))
      .map((e) => [e.created - T0, e.type]);
    expect(timeline).toEqual([
      [11 * DAY, 'customer.subscription.trial_will_end'],
      [14 * DAY, 'invoice.created'],
      [14 * DAY, 'customer.subscription.updated'],
      [14 * DAY + HOUR, 'invoice.finalized'],
      [14 * DAY + HOUR, 'invoice.payment_failed'],
      [14 * DAY + HOUR, 'customer.subscription.updated'],
      [15 * DAY + HOUR, 'invoice.payment_failed'],
      [17 * DAY + HOUR, 'invoice.payment_failed'],
    ]);
    expect(timeline.map(([t]) => t)).toEqual([...timeline.map(([t]) => t)].sort((a, b) => Number(a) - Number(b)));
  });

  it('at most 3 customers on a clock (not confirmed by Stripe docs; configurable)', async () => {
    const clock = await Clock.start(sim.stripe);
    for (let i = 0; i < 3; i += 1) await clock.customer();
    await rejection(clock.customer(), 'StripeInvalidRequestError', { param: 'test_clock' });
  });

  it('deleting a clock deletes what lives on it', async () => {
    const clock = await Clock.start(sim.stripe);
    const customer = await clock.customer();
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }], trial_period_days: 14 });
    const deleted = await sim.stripe.testHelpers.testClocks.del(clock.id);
    expect(deleted).toMatchObject({ id: clock.id, deleted: true });
    await rejection(sim.stripe.customers.retrieve(customer.id), 'StripeInvalidRequestError', { statusCode: 404 });
    await rejection(sim.stripe.subscriptions.retrieve(sub.id), 'StripeInvalidRequestError', { statusCode: 404 });
    expect(await eventsOf(sim.stripe, 'test_helpers.test_clock.deleted')).toHaveLength(1);
  });
});

describe('the default local clock (CONTRACT.md "Local Stripe")', () => {
  it('attaches every customer created without test_clock to the account\'s one clock, with no customer limit; advancing it moves them all', async () => {
    const local = await startSimulator({ defaultTestClock: true });
    try {
      const app = sdk(local.fake, 'sk_test_local_placeholder');
      const clock = local.fake.defaultTestClock('sk_test_local_placeholder');
      expect(clock.name).toMatch(/Local clock/);
      const customers = await Promise.all(
        [1, 2, 3, 4, 5].map((i) => app.customers.create({ email: `c${i}@acme.test`, payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } })),
      );
      expect(new Set(customers.map((c) => c.test_clock))).toEqual(new Set([clock.id]));
      const subs = await Promise.all(customers.map((c) => app.subscriptions.create({ customer: c.id, items: [{ price: catalogPriceId('sk_test_local_placeholder', 'starter_monthly') }], trial_period_days: 14 })));
      const control = await fetch(`${local.fake.url}/_fake/test-clock?apiKey=sk_test_local_placeholder`).then((r) => r.json());
      expect(control.id).toBe(clock.id);
      await Clock.attach(app, clock.id, clock.frozen_time).advanceTo(clock.frozen_time + 15 * DAY);
      const after = await Promise.all(subs.map((s) => app.subscriptions.retrieve(s.id)));
      expect(after.map((s) => s.status)).toEqual(['active', 'active', 'active', 'active', 'active']);
      // Another account gets its own clock.
      expect(local.fake.defaultTestClock('sk_test_other').id).not.toBe(clock.id);
    } finally {
      await local.fake.close();
    }
  });
});

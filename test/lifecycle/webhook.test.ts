// stripeWebhook on the Functions emulator, fed by the Stripe simulator (real objects, real events):
// signatures, duplicates, failures that make Stripe retry; the cases the product got wrong before
// (the $0 trial invoice, an old subscription's late deletion, a checkout naming another tenant); and
// deliveries racing each other.
import type Stripe from 'stripe';
import { planPriceId } from '../../functions/src/adapters/prices';
import { describe, expect, it } from 'vitest';
import { handleStripeEvent } from '../../functions/src/billing/webhook';
import { remindEndingTrials } from '../../functions/src/lifecycle/sweeps';
import { advanceClock } from '../../tools/fake-stripe/control';
import { allDocumentPaths, db } from '../helpers/emulators';
import { history, seedTenant, sign, tenant } from './fixtures';
import {
  advance,
  DAY,
  deliverSigned,
  eventsAbout,
  expectState,
  HOUR,
  openTenant,
  postToWebhook,
  sim,
  stripe,
  T0,
  useStripeWorld,
} from './stripeWorld';

useStripeWorld();

const outcomeOf = async (eventId: string) => (await db.doc(`stripeEvents/${eventId}`).get()).data();
const nowSeconds = () => Math.floor(Date.now() / 1000);
/** Stripe sometimes makes a second Event object for one change: the same object under a new event id. */
const copyOf = (event: Stripe.Event, id: string) => ({ ...event, id, created: nowSeconds() });

describe('stripeWebhook over HTTP', () => {
  it('applies a signed event from Stripe: 200, the tenant moves, the event is recorded with the billing-map row', async () => {
    const t = await openTenant('as made', { card: 'pm_card_visa', trialDays: null });
    await sim.setChargeOutcome(t.paymentMethodId!, 'decline');
    await advance(t, 31 * DAY + 2 * HOUR);
    // Whichever of the renewal's events arrives first applies Stripe's state; the others find it applied.
    const renewal = (await eventsAbout(t.subscriptionId)).filter((e) => e.created > T0 + HOUR);
    const records = await Promise.all(renewal.map((e) => outcomeOf(e.id)));
    expect(records.map((r) => r?.outcome).sort()).toEqual(['applied', ...Array(renewal.length - 1).fill('no_change')]);
    const applied = records.find((r) => r?.outcome === 'applied')!;
    expect(applied).toMatchObject({ tenantId: t.tenantId, subscriptionId: t.subscriptionId, detail: 'past_due (Stripe past_due)', transition: { from: 'active', to: 'past_due' } });
    expect((await history(t.tenantId)).map(({ from, to, cause, actor }) => [from, to, cause, actor])).toEqual([['active', 'past_due', 'payment_failed', `stripe:${renewal[records.indexOf(applied)].id}`]]);
  });

  it('answers 400 and writes nothing for a bad signature, a stale timestamp, a tampered body or no signature', async () => {
    const t = await openTenant('as made');
    const [created] = await eventsAbout(t.subscriptionId, 'customer.subscription.created');
    const before = await allDocumentPaths();
    const payload = JSON.stringify(copyOf(created, 'evt_forged_1'));
    const cases = {
      'signed with another secret': await postToWebhook(payload, sign(payload, { secret: 'whsec_someone_else' })),
      'timestamp older than 300 s': await postToWebhook(payload, sign(payload, { timestamp: nowSeconds() - 301 })),
      'body changed after signing': await postToWebhook(payload.replace(t.subscriptionId, 'sub_other'), sign(payload)),
      'no Stripe-Signature header': await postToWebhook(payload, null),
      'garbage header': await postToWebhook(payload, 't=1,v1=nothex'),
    };
    expect(Object.fromEntries(Object.entries(cases).map(([name, r]) => [name, r.status]))).toEqual(Object.fromEntries(Object.keys(cases).map((name) => [name, 400])));
    expect(await allDocumentPaths()).toEqual(before);
  });

  it('acknowledges a type it does not handle with 200 and writes nothing', async () => {
    const t = await openTenant('as made');
    const [customerCreated] = (await stripe.events.list({ type: 'customer.created' })).data;
    const before = await allDocumentPaths();
    const response = await deliverSigned(copyOf(customerCreated, 'evt_customer_copy'));
    expect([response.status, response.body?.outcome]).toEqual([200, 'ignored_type']);
    expect(await allDocumentPaths()).toEqual(before);
    expect((await tenant(t.tenantId)).status).toBe('trial');
  });

  it('applies an event delivered twice once: the second is a duplicate', async () => {
    const t = await openTenant('as made');
    const [created] = await eventsAbout(t.subscriptionId, 'customer.subscription.created');
    const again = await deliverSigned(created);
    expect([again.status, again.body?.outcome]).toEqual([200, 'duplicate']);
    expect(await history(t.tenantId)).toEqual([]);
  });

  it('answers 500 and writes nothing when Stripe cannot be read, so Stripe retries; the retry applies it', async () => {
    const t = await openTenant('as made', { card: 'pm_card_visa', trialDays: null });
    await sim.setChargeOutcome(t.paymentMethodId!, 'decline');
    // The handler's re-read of the subscription fails once: its transaction writes nothing.
    await sim.failNext({ method: 'GET', path: `/v1/subscriptions/${t.subscriptionId}`, status: 500, times: 1 });
    await advance(t, 31 * DAY + 2 * HOUR);
    const deliveries = await sim.deliveries();
    const first = deliveries.find((d) => d.status === 500)!;
    expect(first).toBeDefined();
    expect(deliveries.filter((d) => d.eventId === first.eventId).map((d) => [d.attempt, d.status])).toEqual([
      [1, 500],
      [2, 200],
    ]);
    await expectState(t, { status: 'past_due', writes: true, mails: [], stripe: 'past_due', failedPaymentRetries: 0 });
  });

  it('answers 500 and writes nothing for a signed event it cannot read', async () => {
    const t = await openTenant('as made');
    const [created] = await eventsAbout(t.subscriptionId, 'customer.subscription.created');
    const before = await allDocumentPaths();
    const broken = { ...copyOf(created, 'evt_broken'), data: { object: { object: 'subscription', status: 'active' } } };
    expect((await deliverSigned(broken)).status).toBe(500);
    expect(await allDocumentPaths()).toEqual(before);
  });

  it('answers 200 for a tenant it does not know, recording the event and creating no tenant', async () => {
    const customer = await stripe.customers.create({ email: 'stranger@else.test' });
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: await planPriceId(stripe, 'team') }], trial_period_days: 14, metadata: { tenantId: 'nobody' } });
    await sim.flushWebhooks();
    const [created] = await eventsAbout(subscription.id, 'customer.subscription.created');
    expect(await outcomeOf(created.id)).toMatchObject({ outcome: 'unknown_tenant', tenantId: 'nobody' });
    expect((await db.doc('tenants/nobody').get()).exists).toBe(false);
  });
});

describe('what the product got wrong before', () => {
  it('the $0 invoice of a trial start is paid, and the tenant stays in trial (invoice.paid is not a conversion)', async () => {
    const t = await openTenant('as made');
    const [paid] = await eventsAbout(t.subscriptionId, 'invoice.paid');
    expect((paid.data.object as Stripe.Invoice).amount_paid).toBe(0);
    expect(await outcomeOf(paid.id)).toMatchObject({ outcome: 'no_change', detail: 'trialing (Stripe trialing)' });
    // The same change as a second Event object, and the first again: nothing changes either.
    expect((await deliverSigned(copyOf(paid, 'evt_zero_copy'))).body?.outcome).toBe('no_change');
    expect((await deliverSigned(paid)).body?.outcome).toBe('duplicate');
    await expectState(t, { status: 'trial', writes: true, mails: [], stripe: 'trialing' });
    expect(await history(t.tenantId)).toEqual([]);
  });

  it('a late deletion of an old subscription does not cancel a tenant that pays on its new one', async () => {
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
    const customer = await stripe.customers.create({
      email: 'billing@renewed.test',
      test_clock: clock.id,
      metadata: { tenantId: 'renewed' },
      payment_method: 'pm_card_visa',
      invoice_settings: { default_payment_method: 'pm_card_visa' },
    });
    const old = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: await planPriceId(stripe, 'team') }], trial_period_days: 14, metadata: { tenantId: 'renewed' } });
    const current = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: await planPriceId(stripe, 'team') }], metadata: { tenantId: 'renewed' } });
    await seedTenant('renewed', { status: 'active', stripeCustomerId: customer.id, stripeSubscriptionId: current.id });
    await sim.flushWebhooks();
    await stripe.subscriptions.cancel(old.id);
    await sim.flushWebhooks();
    const [deleted] = await eventsAbout(old.id, 'customer.subscription.deleted');
    expect(await outcomeOf(deleted.id)).toMatchObject({ outcome: 'other_subscription', tenantId: 'renewed', subscriptionId: old.id });
    const t = await tenant('renewed');
    expect([t.status, t.stripeSubscriptionId]).toEqual(['active', current.id]);
    expect(await history('renewed')).toEqual([]);
  });

  describe('checkout.session.completed', () => {
    const session = (fields: { customer: string | null; subscription: string | null; client_reference_id: string }, id = `cs_${Math.random().toString(36).slice(2)}`) => ({
      id: `evt_${id}`,
      object: 'event',
      api_version: '2026-10-28.endive',
      created: nowSeconds(),
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type: 'checkout.session.completed',
      data: { object: { id, object: 'checkout.session', mode: 'subscription', status: 'complete', payment_status: 'paid', metadata: {}, ...fields } },
    });

    it('a session naming a tenant but paid by another customer changes nothing: ids, status, history', async () => {
      const victim = await openTenant('as made');
      const payer = await openTenant('as made', { card: 'pm_card_visa', trialDays: null });
      const before = await tenant(victim.tenantId);
      for (const customer of [payer.customerId, null]) {
        const response = await deliverSigned(session({ customer, subscription: payer.subscriptionId, client_reference_id: victim.tenantId }));
        expect([response.status, response.body?.outcome]).toEqual([200, 'foreign_checkout']);
      }
      expect(await tenant(victim.tenantId)).toEqual(before);
      expect(await history(victim.tenantId)).toEqual([]);
    });

    it('the tenant’s own customer: links a subscription the tenant lacks, never replaces one it has', async () => {
      const t = await openTenant('as made');
      // A second subscription of the same customer (a second checkout): not adopted.
      const second = await stripe.subscriptions.create({ customer: t.customerId, items: [{ price: await planPriceId(stripe, 'team') }], trial_period_days: 30, metadata: { tenantId: t.tenantId } });
      await sim.flushWebhooks();
      const other = await deliverSigned(session({ customer: t.customerId, subscription: second.id, client_reference_id: t.tenantId }));
      expect(other.body?.outcome).toBe('other_subscription');
      expect((await tenant(t.tenantId)).stripeSubscriptionId).toBe(t.subscriptionId);

      // A tenant whose subscription id is missing gets the session's, and its state from Stripe.
      await db.doc(`tenants/${t.tenantId}`).update({ stripeSubscriptionId: null });
      const linked = await deliverSigned(session({ customer: t.customerId, subscription: t.subscriptionId, client_reference_id: t.tenantId }));
      expect(linked.body?.outcome).toBe('no_change');
      expect((await tenant(t.tenantId)).stripeSubscriptionId).toBe(t.subscriptionId);
    });
  });
});

describe('trial reminders', () => {
  it('Stripe’s trial_will_end and the remindEndingTrials sweep queue one and the same reminder', async () => {
    const t = await openTenant('as made');
    await advance(t, 11 * DAY + HOUR);
    const [willEnd] = await eventsAbout(t.subscriptionId, 'customer.subscription.trial_will_end');
    expect(await outcomeOf(willEnd.id)).toMatchObject({ outcome: 'reminder_queued' });
    const trialEndsAt = (await tenant(t.tenantId)).trialEndsAt.toDate();
    const sweep = await remindEndingTrials(db, new Date(trialEndsAt.getTime() - 2 * DAY * 1000));
    expect(sweep.skipped).toEqual([{ tenantId: t.tenantId, reason: 'already reminded' }]);
    expect((await db.collection('mail').where('tenantId', '==', t.tenantId).get()).docs.map((d) => d.id)).toEqual([`trial-reminder-${t.tenantId}-${trialEndsAt.getTime()}`]);
  });
});

describe('deliveries racing each other', () => {
  it('every event of a step, each delivered three times at once, ends where one-by-one delivery ends', async () => {
    const t = await openTenant('as made', { card: 'pm_card_visa' });
    await advance(t, 14 * DAY + 2 * HOUR);
    await sim.setChargeOutcome(t.paymentMethodId!, 'decline');
    // Stripe's own deliveries are held; every event of the renewal goes to the handler the endpoint calls, all at once.
    await sim.setDeliveryMode({ hold: true });
    await advanceClock(stripe, t.clockId, t.now + 32 * DAY);
    const events = (await eventsAbout(t.subscriptionId)).filter((e) => e.created >= t.now);
    expect(events.map((e) => e.type)).toContain('invoice.payment_failed');
    const results = await Promise.all([...events, ...events, ...events].map((e) => handleStripeEvent({ db, stripe }, e, new Date())));
    expect(results.filter((r) => r.outcome === 'duplicate').length).toBe(2 * events.length);
    expect(results.filter((r) => r.outcome === 'applied').length).toBeGreaterThanOrEqual(1);
    await sim.flushWebhooks(); // and Stripe's own deliveries after them: duplicates all
    await expectState(t, { status: 'past_due', writes: false, mails: [], stripe: 'past_due', failedPaymentRetries: 1 });
  });
});

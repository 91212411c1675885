// Trials, checked against STRIPE.md §1 (trial start, the $0 invoice), §2 (trial_will_end and
// trial_settings.end_behavior.missing_payment_method) and §3 (trial end with a payment method).
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { PRICE, DAY, HOUR, eventTypes, eventsOf, latestInvoice, useSimulator } from './simulator';


const sim = useSimulator({ reset: {} });

const trial = (customer: string, extra: Partial<Stripe.SubscriptionCreateParams> = {}) =>
  sim.stripe.subscriptions.create({ customer, items: [{ price: PRICE.team, quantity: 3 }], trial_period_days: 14, ...extra });

describe('trial start (STRIPE.md §1)', () => {
  it('is trialing without a payment method, the items\' period covering the trial window, billing_cycle_anchor at trial_end', async () => {
    const customer = await sim.clock.customer();
    const sub = await trial(customer.id);
    expect(sub.status).toBe('trialing');
    expect(sub.trial_start).toBe(sim.clock.now);
    expect(sub.trial_end).toBe(sim.clock.now + 14 * DAY);
    expect(sub.billing_cycle_anchor).toBe(sub.trial_end);
    expect(sub.items.data[0].current_period_start).toBe(sim.clock.now);
    expect(sub.items.data[0].current_period_end).toBe(sub.trial_end);
    expect(sub.trial_settings?.end_behavior.missing_payment_method).toBe('create_invoice'); // the default (§2)
  });

  it('creates a $0 invoice paid at once, shaped as the captured basil fixture', async () => {
    const customer = await sim.clock.customer();
    const sub = await trial(customer.id);
    const invoice = await latestInvoice(sim.stripe, sub.id);
    expect(invoice).toMatchObject({
      billing_reason: 'subscription_create',
      status: 'paid',
      amount_due: 0,
      amount_paid: 0,
      amount_remaining: 0,
      total: 0,
      attempted: true,
      attempt_count: 0,
      auto_advance: false,
      next_payment_attempt: null,
      parent: { type: 'subscription_details', subscription_details: { subscription: sub.id } },
    });
    expect(invoice.status_transitions.finalized_at).toBe(sim.clock.now);
    expect(invoice.status_transitions.paid_at).toBe(sim.clock.now);
    expect(invoice.lines.data.map((l) => l.description)).toEqual(['Trial period for Team']);
    expect(invoice.lines.data[0].amount).toBe(0);
    // No PaymentIntent for nothing to charge.
    const payments = (await sim.stripe.invoices.retrieve(invoice.id, { expand: ['payments'] })).payments;
    expect(payments?.data).toEqual([]);
  });

  it('emits customer.subscription.created, then the $0 invoice\'s created, finalized, paid, payment_succeeded; no payment_intent events', async () => {
    const customer = await sim.clock.customer();
    await trial(customer.id);
    const types = await eventTypes(sim.stripe, (e) => e.type.startsWith('invoice.') || e.type.startsWith('customer.subscription') || e.type.startsWith('payment_intent'));
    expect(types).toEqual(['customer.subscription.created', 'invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded']);
    const [created] = await eventsOf(sim.stripe, 'customer.subscription.created');
    expect((created.data.object as Stripe.Subscription).status).toBe('trialing');
  });

  it('refuses a trial longer than two years and trial_from_plan with trial_end, creating nothing', async () => {
    const customer = await sim.clock.customer();
    const tooLong = sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }], trial_end: sim.clock.now + 731 * DAY });
    await expect(tooLong).rejects.toMatchObject({ type: 'StripeInvalidRequestError', param: 'trial_end' });
    const both = sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }], trial_end: sim.clock.now + DAY, trial_from_plan: true });
    await expect(both).rejects.toMatchObject({ type: 'StripeInvalidRequestError', param: 'trial_from_plan' });
    expect((await sim.stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data).toEqual([]);
  });
});

describe('customer.subscription.trial_will_end (STRIPE.md §2)', () => {
  it('is sent 3 days before trial_end, not earlier', async () => {
    const customer = await sim.clock.customer();
    const sub = await trial(customer.id);
    await sim.clock.advanceTo(sub.trial_end! - 3 * DAY - 1);
    expect(await eventsOf(sim.stripe, 'customer.subscription.trial_will_end')).toEqual([]);
    await sim.clock.advanceTo(sub.trial_end! - 3 * DAY);
    const [event] = await eventsOf(sim.stripe, 'customer.subscription.trial_will_end');
    expect(event.created).toBe(sub.trial_end! - 3 * DAY);
    expect((event.data.object as Stripe.Subscription).id).toBe(sub.id);
    expect(event.request).toEqual({ id: null, idempotency_key: null }); // sent by Stripe's scheduler, not a request
  });

  it('is sent at once when the trial is created with fewer than 3 days left, and only once', async () => {
    const customer = await sim.clock.customer();
    const sub = await trial(customer.id, { trial_period_days: undefined, trial_end: sim.clock.now + 2 * DAY });
    expect((await eventsOf(sim.stripe, 'customer.subscription.trial_will_end')).map((e) => e.created)).toEqual([sim.clock.now]);
    await sim.clock.advanceTo(sub.trial_end! - HOUR);
    expect(await eventsOf(sim.stripe, 'customer.subscription.trial_will_end')).toHaveLength(1);
  });

  it('is sent again for a new trial end after the trial is extended', async () => {
    const customer = await sim.clock.customer();
    const sub = await trial(customer.id, { trial_period_days: 5 });
    await sim.clock.advanceTo(sub.trial_end! - 2 * DAY); // reminder for the first end sent
    const extended = await sim.stripe.subscriptions.update(sub.id, { trial_end: sub.trial_end! + 10 * DAY });
    expect(extended.trial_end).toBe(sub.trial_end! + 10 * DAY);
    expect(extended.items.data[0].current_period_end).toBe(extended.trial_end);
    await sim.clock.advanceTo(extended.trial_end! - 3 * DAY);
    expect((await eventsOf(sim.stripe, 'customer.subscription.trial_will_end')).map((e) => e.created)).toEqual([sub.trial_end! - 3 * DAY, extended.trial_end! - 3 * DAY]);
  });
});

describe('trial end without a payment method: missing_payment_method (STRIPE.md §2)', () => {
  it('create_invoice (default): active with a draft subscription_cycle invoice, finalized about 1 h later, payment fails → past_due', async () => {
    const customer = await sim.clock.customer();
    const sub = await trial(customer.id);
    await sim.clock.advanceTo(sub.trial_end!);
    const atEnd = await sim.stripe.subscriptions.retrieve(sub.id);
    expect(atEnd.status).toBe('active');
    const draft = await latestInvoice(sim.stripe, sub.id);
    expect(draft).toMatchObject({ status: 'draft', billing_reason: 'subscription_cycle', amount_due: 5700, automatically_finalizes_at: sub.trial_end! + HOUR });
    const [update] = await eventsOf(sim.stripe, 'customer.subscription.updated');
    expect(update.data.previous_attributes).toMatchObject({ status: 'trialing' });
    expect(Object.keys(update.data.previous_attributes!)).toContain('items'); // basil: the item periods changed

    await sim.clock.advanceTo(sub.trial_end! + HOUR);
    const failed = await latestInvoice(sim.stripe, sub.id);
    expect(failed).toMatchObject({ status: 'open', attempt_count: 1, attempted: true });
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('past_due');
    expect((await eventsOf(sim.stripe, 'invoice.payment_failed')).map((e) => (e.data.object as Stripe.Invoice).id)).toEqual([failed.id]);
    const updates = await eventsOf(sim.stripe, 'customer.subscription.updated');
    expect(updates.at(-1)!.data.previous_attributes).toEqual({ status: 'active' });
  });

  it('cancel: canceled at trial end with customer.subscription.deleted, and no renewal invoice', async () => {
    const customer = await sim.clock.customer();
    const sub = await trial(customer.id, { trial_settings: { end_behavior: { missing_payment_method: 'cancel' } } });
    await sim.clock.advanceTo(sub.trial_end! + 2 * HOUR);
    const ended = await sim.stripe.subscriptions.retrieve(sub.id);
    expect(ended).toMatchObject({ status: 'canceled', ended_at: sub.trial_end, canceled_at: sub.trial_end });
    expect(await eventsOf(sim.stripe, 'customer.subscription.deleted')).toHaveLength(1);
    expect((await sim.stripe.invoices.list({ subscription: sub.id })).data.map((i) => i.billing_reason)).toEqual(['subscription_create']);
  });

  it('pause: paused with status_details, customer.subscription.updated and .paused, no invoice, and it does not cycle', async () => {
    const customer = await sim.clock.customer();
    const sub = await trial(customer.id, { trial_settings: { end_behavior: { missing_payment_method: 'pause' } } });
    await sim.clock.advanceTo(sub.trial_end!);
    const paused = await sim.stripe.subscriptions.retrieve(sub.id);
    expect(paused.status).toBe('paused');
    expect(paused.status_details?.paused).toMatchObject({ type: 'subscription', subscription: { type: 'trial_end_without_payment_method' }, transitioned_at: sub.trial_end });
    const types = await eventTypes(sim.stripe, (e) => e.created >= sub.trial_end! && e.type.startsWith('customer.subscription'));
    expect(types).toEqual(['customer.subscription.updated', 'customer.subscription.paused']);
    await sim.clock.advanceTo(sub.trial_end! + 40 * DAY);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('paused');
    expect((await sim.stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);
  });

  it('a payment method added later does not resume a paused subscription by itself (STRIPE.md §2)', async () => {
    const customer = await sim.clock.customer();
    const sub = await trial(customer.id, { trial_settings: { end_behavior: { missing_payment_method: 'pause' } } });
    await sim.clock.advanceTo(sub.trial_end!);
    const pm = await sim.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await sim.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
    await sim.clock.advanceBy(2 * DAY);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('paused');
  });
});

describe('trial end with a payment method (STRIPE.md §3)', () => {
  it('becomes active with a new period from trial_end; the renewal is charged about an hour later and paid', async () => {
    const customer = await sim.clock.customer('pm_card_visa');
    const sub = await trial(customer.id, { trial_settings: { end_behavior: { missing_payment_method: 'pause' } } });
    await sim.clock.advanceTo(sub.trial_end! + HOUR);
    const active = await sim.stripe.subscriptions.retrieve(sub.id);
    expect(active.status).toBe('active');
    expect(active.items.data[0].current_period_start).toBe(sub.trial_end);
    const invoice = await latestInvoice(sim.stripe, sub.id);
    expect(invoice).toMatchObject({ status: 'paid', billing_reason: 'subscription_cycle', amount_paid: 5700, attempt_count: 1 });
    expect(invoice.status_transitions.finalized_at).toBe(sub.trial_end! + HOUR);
    const types = await eventTypes(sim.stripe, (e) => e.created >= sub.trial_end!);
    expect(types).toEqual([
      'invoice.created',
      'customer.subscription.updated',
      'payment_intent.created',
      'invoice.finalized',
      'payment_intent.succeeded',
      'invoice_payment.paid',
      'invoice.paid',
      'invoice.payment_succeeded',
    ]);
  });

  it('uses the subscription\'s default payment method before the customer\'s (STRIPE.md §3 lookup order)', async () => {
    const customer = await sim.clock.customer('pm_card_chargeCustomerFail');
    const good = await sim.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const sub = await trial(customer.id, { default_payment_method: good.id });
    await sim.clock.advanceTo(sub.trial_end! + HOUR);
    expect((await latestInvoice(sim.stripe, sub.id)).status).toBe('paid');
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
  });

  it('trial_end=now ends the trial at once: an invoice now, charged in the request, and trial_will_end sent', async () => {
    const customer = await sim.clock.customer('pm_card_visa');
    const sub = await trial(customer.id);
    const ended = await sim.stripe.subscriptions.update(sub.id, { trial_end: 'now', expand: ['latest_invoice'] });
    expect(ended.status).toBe('active');
    expect(ended.trial_end).toBe(sim.clock.now);
    expect(ended.items.data[0].current_period_start).toBe(sim.clock.now);
    expect(ended.latest_invoice).toMatchObject({ status: 'paid', amount_paid: 5700 });
    expect(await eventsOf(sim.stripe, 'customer.subscription.trial_will_end')).toHaveLength(1);
  });
});

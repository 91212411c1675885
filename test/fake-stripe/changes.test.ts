// Changing a subscription: seat quantity and prorations (STRIPE.md §9), cancel now and at period end,
// customer deletion (§13), pause and resume (§0 endive, §2).
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { FakeStripeControl } from '../../tools/fake-stripe/control';
import { PRICE, DAY, HOUR, eventsOf, latestInvoice, rejection, useSimulator } from './simulator';

const control = () => new FakeStripeControl(sim.fake.url);

const sim = useSimulator();

/** A paid monthly Team subscription for 5 seats, and the sim.clock moved to the middle of its period. */
async function midPeriod(card = 'pm_card_visa'): Promise<{ sub: Stripe.Subscription; item: string; start: number; end: number }> {
  const customer = await sim.clock.customer(card);
  const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team, quantity: 5 }] });
  const { current_period_start: start, current_period_end: end } = sub.items.data[0];
  await sim.clock.advanceTo(start + (end - start) / 2);
  return { sub, item: sub.items.data[0].id, start, end };
}

describe('seat quantity changes (STRIPE.md §9)', () => {
  it('create_prorations (default): pending proration items for the rest of the period, billed on the next renewal', async () => {
    const { sub, item, end } = await midPeriod();
    const updated = await sim.stripe.subscriptions.update(sub.id, { items: [{ id: item, quantity: 7 }] });
    expect(updated.items.data[0].quantity).toBe(7);
    const pending = (await sim.stripe.invoiceItems.list({ customer: sub.customer as string, pending: true })).data;
    expect(pending.map((i) => [i.amount, i.proration, i.quantity]).sort()).toEqual([
      [-4750, true, 5], // unused half of 5 × $19.00
      [6650, true, 7], // remaining half of 7 × $19.00
    ].sort());
    expect(pending.map((i) => i.description).sort()).toEqual(['Remaining time on 7 × Team after 16 Mar 2027', 'Unused time on 5 × Team after 16 Mar 2027']);
    expect((await sim.stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1); // nothing invoiced now
    await sim.clock.advanceTo(end + HOUR);
    const renewal = await latestInvoice(sim.stripe, sub.id);
    expect(renewal.lines.data.map((l) => l.amount).sort((a, b) => a - b)).toEqual([-4750, 6650, 13300]);
    expect(renewal).toMatchObject({ status: 'paid', amount_paid: 13300 - 4750 + 6650 });
    expect((await sim.stripe.invoiceItems.list({ customer: sub.customer as string, pending: true })).data).toEqual([]);
  });

  it('customer.subscription.updated carries the whole previous items list, old quantity included (basil)', async () => {
    const { sub, item } = await midPeriod();
    await sim.stripe.subscriptions.update(sub.id, { items: [{ id: item, quantity: 7 }] });
    const [event] = await eventsOf(sim.stripe, 'customer.subscription.updated');
    const previous = event.data.previous_attributes as { items: Stripe.ApiList<Stripe.SubscriptionItem> };
    expect(previous.items.data.map((i) => i.quantity)).toEqual([5]);
    expect((event.data.object as Stripe.Subscription).items.data[0].quantity).toBe(7);
  });

  it('always_invoice: prorations invoiced and charged at once (billing_reason subscription_update)', async () => {
    const { sub, item } = await midPeriod();
    const updated = await sim.stripe.subscriptions.update(sub.id, { items: [{ id: item, quantity: 7 }], proration_behavior: 'always_invoice', expand: ['latest_invoice'] });
    expect(updated.latest_invoice).toMatchObject({ billing_reason: 'subscription_update', status: 'paid', amount_paid: 6650 - 4750 });
  });

  it('always_invoice that lowers seats: a negative invoice is paid at once and the credit goes to the customer balance for the next invoice', async () => {
    const { sub, item, end } = await midPeriod();
    const updated = await sim.stripe.subscriptions.update(sub.id, { items: [{ id: item, quantity: 3 }], proration_behavior: 'always_invoice', expand: ['latest_invoice'] });
    expect(updated.latest_invoice).toMatchObject({ status: 'paid', total: 2850 - 4750, amount_due: 0, ending_balance: -1900 });
    expect((await sim.stripe.customers.retrieve(sub.customer as string) as Stripe.Customer).balance).toBe(-1900);
    await sim.clock.advanceTo(end + HOUR);
    expect(await latestInvoice(sim.stripe, sub.id)).toMatchObject({ total: 5700, starting_balance: -1900, amount_due: 3800, status: 'paid' });
  });

  it('none: the quantity changes without any credit or debit', async () => {
    const { sub, item } = await midPeriod();
    await sim.stripe.subscriptions.update(sub.id, { items: [{ id: item, quantity: 9 }], proration_behavior: 'none' });
    expect((await sim.stripe.invoiceItems.list({ customer: sub.customer as string })).data).toEqual([]);
  });

  it('payment_behavior=error_if_incomplete: a failed immediate payment is HTTP 402 and nothing changes', async () => {
    const customer = await sim.clock.customer('pm_card_visa');
    const paying = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team, quantity: 5 }] });
    await control().setChargeOutcome(customer.invoice_settings.default_payment_method as string, 'decline');
    await sim.clock.advanceBy(10 * DAY);
    const before = (await sim.stripe.events.list({ limit: 1 })).data[0].id;
    await rejection(
      sim.stripe.subscriptions.update(paying.id, { items: [{ id: paying.items.data[0].id, quantity: 8 }], proration_behavior: 'always_invoice', payment_behavior: 'error_if_incomplete' }),
      'StripeCardError',
      { statusCode: 402 },
    );
    expect((await sim.stripe.subscriptions.retrieve(paying.id)).items.data[0].quantity).toBe(5);
    expect((await sim.stripe.events.list({ ending_before: before })).data).toEqual([]); // no event: nothing happened
  });

  it('payment_behavior=allow_incomplete (default): a failed immediate payment applies the change and makes the subscription past_due', async () => {
    const customer = await sim.clock.customer('pm_card_visa');
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team, quantity: 5 }] });
    await control().setChargeOutcome(customer.invoice_settings.default_payment_method as string, 'decline');
    await sim.clock.advanceBy(10 * DAY);
    const updated = await sim.stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0].id, quantity: 8 }], proration_behavior: 'always_invoice' });
    expect(updated.items.data[0].quantity).toBe(8);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('past_due');
    expect((await latestInvoice(sim.stripe, sub.id)).status).toBe('open');
  });

  it('payment_behavior=pending_if_incomplete: the change waits in pending_update, applied when paid (pending_update_applied)', async () => {
    const customer = await sim.clock.customer('pm_card_visa');
    const card = customer.invoice_settings.default_payment_method as string;
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team, quantity: 5 }] });
    await control().setChargeOutcome(card, 'decline');
    await sim.clock.advanceBy(10 * DAY);
    const pending = await sim.stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0].id, quantity: 8 }], proration_behavior: 'always_invoice', payment_behavior: 'pending_if_incomplete' });
    expect(pending.items.data[0].quantity).toBe(5);
    expect(pending.status).toBe('active');
    expect(pending.pending_update?.subscription_items?.[0].quantity).toBe(8);
    expect(pending.pending_update?.expires_at).toBe(sim.clock.now + 23 * HOUR);
    await control().setChargeOutcome(card, 'succeed');
    await sim.stripe.invoices.pay(pending.latest_invoice as string);
    const applied = await sim.stripe.subscriptions.retrieve(sub.id);
    expect(applied.items.data[0].quantity).toBe(8);
    expect(applied.pending_update).toBeNull();
    expect(await eventsOf(sim.stripe, 'customer.subscription.pending_update_applied')).toHaveLength(1);
  });

  it('pending_if_incomplete unpaid for 23 hours: the update expires (pending_update_expired) and its invoice is voided', async () => {
    const customer = await sim.clock.customer('pm_card_visa');
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team, quantity: 5 }] });
    await control().setChargeOutcome(customer.invoice_settings.default_payment_method as string, 'decline');
    await sim.clock.advanceBy(10 * DAY);
    const pending = await sim.stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0].id, quantity: 8 }], proration_behavior: 'always_invoice', payment_behavior: 'pending_if_incomplete' });
    await sim.clock.advanceBy(23 * HOUR);
    const after = await sim.stripe.subscriptions.retrieve(sub.id);
    expect(after.pending_update).toBeNull();
    expect(after.items.data[0].quantity).toBe(5);
    expect(after.status).toBe('active');
    expect((await sim.stripe.invoices.retrieve(pending.latest_invoice as string)).status).toBe('void');
    expect(await eventsOf(sim.stripe, 'customer.subscription.pending_update_expired')).toHaveLength(1);
  });

  it('during a trial a quantity change makes no proration; subscriptionItems.update is the same change', async () => {
    const customer = await sim.clock.customer();
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team, quantity: 5 }], trial_period_days: 14 });
    await sim.clock.advanceBy(3 * DAY);
    const item = await sim.stripe.subscriptionItems.update(sub.items.data[0].id, { quantity: 6 });
    expect(item.quantity).toBe(6);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).items.data[0].quantity).toBe(6);
    expect((await sim.stripe.invoiceItems.list({ customer: customer.id })).data).toEqual([]);
  });

  it('refuses a price with another billing interval rather than model it wrongly', async () => {
    const { sub, item } = await midPeriod();
    await rejection(sim.stripe.subscriptions.update(sub.id, { items: [{ id: item, price: PRICE.enterprise }] }), 'StripeInvalidRequestError', { param: 'items' });
  });
});

describe('cancel (STRIPE.md §13)', () => {
  it('cancel now: canceled with canceled_at, ended_at and reason cancellation_requested; customer.subscription.deleted; terminal', async () => {
    const customer = await sim.clock.customer('pm_card_visa');
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }] });
    const canceled = await sim.stripe.subscriptions.cancel(sub.id, { cancellation_details: { comment: 'closing down', feedback: 'unused' } });
    expect(canceled).toMatchObject({ status: 'canceled', canceled_at: sim.clock.now, ended_at: sim.clock.now });
    expect(canceled.cancellation_details).toEqual({ comment: 'closing down', feedback: 'unused', reason: 'cancellation_requested' });
    expect((await eventsOf(sim.stripe, 'customer.subscription.deleted')).map((e) => (e.data.object as Stripe.Subscription).status)).toEqual(['canceled']);
    await rejection(sim.stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0].id, quantity: 2 }] }), 'StripeInvalidRequestError', { statusCode: 400 });
    expect((await sim.stripe.subscriptions.update(sub.id, { metadata: { note: 'kept' } })).metadata).toEqual({ note: 'kept' });
    await rejection(sim.stripe.subscriptions.cancel(sub.id), 'StripeInvalidRequestError', { statusCode: 400 });
  });

  it('cancel_at_period_end: still active with cancel_at at the period end and canceled_at now; deleted at the period end, with no renewal', async () => {
    const customer = await sim.clock.customer('pm_card_visa');
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }] });
    const end = sub.items.data[0].current_period_end;
    await sim.clock.advanceBy(5 * DAY);
    const scheduled = await sim.stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    expect(scheduled).toMatchObject({ status: 'active', cancel_at_period_end: true, cancel_at: end, canceled_at: sim.clock.now });
    expect((await eventsOf(sim.stripe, 'customer.subscription.updated')).at(-1)!.data.previous_attributes).toMatchObject({ cancel_at_period_end: false, cancel_at: null, canceled_at: null });
    await sim.clock.advanceTo(end + 2 * HOUR);
    expect(await sim.stripe.subscriptions.retrieve(sub.id)).toMatchObject({ status: 'canceled', ended_at: end });
    expect((await sim.stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);
  });

  it('cancel_at (flexible): a timestamp, or min_period_end; clearing it with an empty value renews normally', async () => {
    const customer = await sim.clock.customer('pm_card_visa');
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }] });
    const end = sub.items.data[0].current_period_end;
    expect((await sim.stripe.subscriptions.update(sub.id, { cancel_at: 'min_period_end' })).cancel_at).toBe(end);
    expect((await sim.stripe.subscriptions.update(sub.id, { cancel_at: sim.clock.now + 3 * DAY })).cancel_at).toBe(sim.clock.now + 3 * DAY);
    const cleared = await sim.stripe.subscriptions.update(sub.id, { cancel_at: '' as unknown as number });
    expect(cleared).toMatchObject({ cancel_at: null, canceled_at: null, cancel_at_period_end: false });
    await sim.clock.advanceTo(end + 2 * HOUR);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
    expect((await sim.stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(2);
  });

  it('deleting a customer cancels its live subscriptions with customer.subscription.deleted, then customer.deleted', async () => {
    const customer = await sim.clock.customer();
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }], trial_period_days: 14 });
    await sim.stripe.customers.del(customer.id);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('canceled');
    const types = (await sim.stripe.events.list({ limit: 2 })).data.map((e) => e.type).reverse();
    expect(types).toEqual(['customer.subscription.deleted', 'customer.deleted']);
    expect((await sim.stripe.subscriptions.list({ status: 'canceled' })).data.map((s) => s.id)).toEqual([sub.id]);
  });

  it('cancel with prorate and invoice_now: the unused time is credited on a final invoice', async () => {
    const { sub } = await midPeriod();
    await sim.stripe.subscriptions.cancel(sub.id, { prorate: true, invoice_now: true });
    const final = await latestInvoiceOf(sub.id);
    expect(final).toMatchObject({ total: -4750, amount_due: 0, status: 'paid' });
    expect((await sim.stripe.customers.retrieve(sub.customer as string) as Stripe.Customer).balance).toBe(-4750);
  });
});

async function latestInvoiceOf(subscriptionId: string): Promise<Stripe.Invoice> {
  return (await sim.stripe.invoices.list({ subscription: subscriptionId, limit: 1 })).data[0];
}

describe('pause and resume (STRIPE.md §0 endive, §2)', () => {
  it('pause: paused (pause_requested), updated + paused events, unused time credited, no invoices while paused', async () => {
    const { sub, end } = await midPeriod();
    const paused = await sim.stripe.subscriptions.pause(sub.id);
    expect(paused.status).toBe('paused');
    expect(paused.status_details?.paused?.subscription.type).toBe('pause_requested');
    expect((await eventsOf(sim.stripe, 'customer.subscription.paused'))).toHaveLength(1);
    expect((await sim.stripe.invoiceItems.list({ customer: sub.customer as string, pending: true })).data.map((i) => i.amount)).toEqual([-4750]);
    await sim.clock.advanceTo(end + 5 * DAY);
    expect((await sim.stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);
  });

  it('pause needs flexible billing mode', async () => {
    const customer = await sim.clock.customer('pm_card_visa');
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }], billing_mode: { type: 'classic' } });
    await rejection(sim.stripe.subscriptions.pause(sub.id), 'StripeInvalidRequestError', { statusCode: 400 });
  });

  it('resume (billing_cycle_anchor=now, resume_on_payment_attempt): the invoice is finalized in the request, charged right after; active with resumed', async () => {
    const customer = await sim.clock.customer();
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }], trial_period_days: 7, trial_settings: { end_behavior: { missing_payment_method: 'pause' } } });
    await sim.clock.advanceTo(sub.trial_end! + DAY);
    const card = await sim.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await sim.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: card.id } });
    const resumed = await sim.stripe.subscriptions.resume(sub.id, { expand: ['latest_invoice'] });
    expect(resumed.status).toBe('paused'); // no payment attempt inside the request
    expect(resumed.latest_invoice).toMatchObject({ status: 'open' });
    expect(resumed.items.data[0].current_period_start).toBe(sim.clock.now);
    const after = await sim.stripe.subscriptions.retrieve(sub.id);
    expect(after.status).toBe('active');
    expect(after.status_details).toBeUndefined();
    expect(await latestInvoice(sim.stripe, sub.id)).toMatchObject({ status: 'paid', amount_paid: 1900 });
    expect(await eventsOf(sim.stripe, 'customer.subscription.resumed')).toHaveLength(1);
  });

  it('resume_on_payment_attempt with a failing payment: past_due, and the invoice is not retried', async () => {
    const customer = await sim.clock.customer();
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }], trial_period_days: 7, trial_settings: { end_behavior: { missing_payment_method: 'pause' } } });
    await sim.clock.advanceTo(sub.trial_end! + DAY);
    await sim.stripe.subscriptions.resume(sub.id);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('past_due');
    const invoice = await latestInvoice(sim.stripe, sub.id);
    expect(invoice).toMatchObject({ status: 'open', attempt_count: 1, next_payment_attempt: null });
  });

  it('resume_on_payment_success with a failing payment: stays paused; unpaid after 23 h the invoice is voided and it stays paused', async () => {
    const customer = await sim.clock.customer();
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }], trial_period_days: 7, trial_settings: { end_behavior: { missing_payment_method: 'pause' } } });
    await sim.clock.advanceTo(sub.trial_end! + DAY);
    const resumed = await sim.stripe.subscriptions.resume(sub.id, { payment_behavior: 'resume_on_payment_success' });
    expect(resumed.status).toBe('paused');
    await sim.clock.advanceBy(23 * HOUR);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('paused');
    expect((await latestInvoice(sim.stripe, sub.id)).status).toBe('void');
  });

  it('resume refuses a subscription that is not paused', async () => {
    const customer = await sim.clock.customer('pm_card_visa');
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }] });
    await rejection(sim.stripe.subscriptions.resume(sub.id), 'StripeInvalidRequestError', { statusCode: 400 });
  });
});

// collection_method=send_invoice with days_until_due, checked against STRIPE.md §6.
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { PRICE, DAY, HOUR, eventsOf, latestInvoice, rejection, useSimulator } from './simulator';


const sim = useSimulator();

const invoiced = (customer: string, extra: Partial<Stripe.SubscriptionCreateParams> = {}) =>
  sim.stripe.subscriptions.create({ customer, items: [{ price: PRICE.enterprise, quantity: 10 }], collection_method: 'send_invoice', days_until_due: 30, ...extra });

describe('send_invoice (STRIPE.md §6)', () => {
  it('is active at once without any card; its first invoice is a draft for about an hour, due days_until_due after creation', async () => {
    const customer = await sim.clock.customer();
    const sub = await invoiced(customer.id, { expand: ['latest_invoice'] });
    expect(sub).toMatchObject({ status: 'active', collection_method: 'send_invoice', days_until_due: 30 });
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({ status: 'draft', collection_method: 'send_invoice', amount_due: 240_000, next_payment_attempt: null, due_date: sim.clock.now + 30 * DAY });
    expect(invoice.automatically_finalizes_at).toBe(sim.clock.now + HOUR);
  });

  it('is finalized an hour later and sent: invoice.finalized and invoice.sent, a hosted invoice URL, never charged', async () => {
    const customer = await sim.clock.customer('pm_card_visa'); // a card on file does not matter for send_invoice
    const sub = await invoiced(customer.id);
    await sim.clock.advanceTo(sim.clock.now + HOUR);
    const invoice = await latestInvoice(sim.stripe, sub.id);
    expect(invoice).toMatchObject({ status: 'open', attempt_count: 0, attempted: false, next_payment_attempt: null });
    expect(invoice.hosted_invoice_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/hosted\/invoices\/in_/);
    const page = await fetch(invoice.hosted_invoice_url!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('$2,400.00'); // the Hosted Invoice Page shows the amount due
    expect((await eventsOf(sim.stripe, 'invoice.sent')).map((e) => (e.data.object as Stripe.Invoice).id)).toEqual([invoice.id]);
    expect(await eventsOf(sim.stripe, 'payment_intent.created')).toEqual([]);
  });

  it('unpaid at its due date: the subscription becomes past_due (customer.subscription.updated), not before', async () => {
    const customer = await sim.clock.customer();
    const sub = await invoiced(customer.id);
    const due = (await latestInvoice(sim.stripe, sub.id)).due_date!;
    await sim.clock.advanceTo(due - 1);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
    await sim.clock.advanceTo(due);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('past_due');
    expect((await eventsOf(sim.stripe, 'customer.subscription.updated')).at(-1)!.data.previous_attributes).toEqual({ status: 'active' });
    expect(await eventsOf(sim.stripe, 'invoice.overdue')).toEqual([]); // an automation, off unless configured
    expect(await eventsOf(sim.stripe, 'invoice.will_be_due')).toEqual([]);
  });

  it('paid out of band after the due date: invoice.paid (no payment_succeeded) and the subscription active again', async () => {
    const customer = await sim.clock.customer();
    const sub = await invoiced(customer.id);
    const invoice = await latestInvoice(sim.stripe, sub.id);
    await sim.clock.advanceTo(invoice.due_date! + DAY);
    await sim.stripe.invoices.pay(invoice.id, { paid_out_of_band: true });
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
    expect(await eventsOf(sim.stripe, 'invoice.paid')).toHaveLength(1);
    expect(await eventsOf(sim.stripe, 'invoice.payment_succeeded')).toEqual([]);
  });

  it('after the configured days past due the subscription is canceled or marked unpaid', async () => {
    sim.fake.configure({ billing: { sendInvoicePastDue: { action: 'cancel', afterDays: 30 } } });
    const customer = await sim.clock.customer();
    const sub = await invoiced(customer.id);
    const due = (await latestInvoice(sim.stripe, sub.id)).due_date!;
    await sim.clock.advanceTo(due + 30 * DAY - 1);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('past_due');
    await sim.clock.advanceTo(due + 30 * DAY);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('canceled');
  });

  it('a trial before go-live: trialing, then the first real invoice at trial end, due days_until_due later', async () => {
    const customer = await sim.clock.customer();
    const sub = await invoiced(customer.id, { trial_end: sim.clock.now + 20 * DAY });
    expect(sub.status).toBe('trialing');
    await sim.clock.advanceTo(sub.trial_end! + HOUR);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
    const invoice = await latestInvoice(sim.stripe, sub.id);
    expect(invoice).toMatchObject({ status: 'open', billing_reason: 'subscription_cycle', due_date: sub.trial_end! + 30 * DAY, amount_due: 240_000 });
  });

  it('invoice.will_be_due and invoice.overdue come only when the Dashboard automations are configured, days around the due date', async () => {
    sim.fake.configure({ billing: { automations: { invoiceOverdueDays: 3, invoiceWillBeDueDays: 7 } } });
    const customer = await sim.clock.customer();
    const sub = await invoiced(customer.id);
    const due = (await latestInvoice(sim.stripe, sub.id)).due_date!;
    await sim.clock.advanceTo(due + 3 * DAY);
    expect((await eventsOf(sim.stripe, 'invoice.will_be_due')).map((e) => e.created)).toEqual([due - 7 * DAY]);
    expect((await eventsOf(sim.stripe, 'invoice.overdue')).map((e) => e.created)).toEqual([due + 3 * DAY]);
  });

  it('refuses send_invoice without days_until_due, and days_until_due with charge_automatically', async () => {
    const customer = await sim.clock.customer();
    await rejection(sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }], collection_method: 'send_invoice' }), 'StripeInvalidRequestError', { param: 'days_until_due' });
    await rejection(sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }], days_until_due: 10 }), 'StripeInvalidRequestError', { param: 'days_until_due' });
    expect((await sim.stripe.subscriptions.list({ status: 'all' })).data).toEqual([]);
  });

  it('pause and resume are not available for send_invoice subscriptions (STRIPE.md §6)', async () => {
    const customer = await sim.clock.customer();
    const sub = await invoiced(customer.id);
    await rejection(sim.stripe.subscriptions.pause(sub.id), 'StripeInvalidRequestError', { statusCode: 400 });
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
  });
});

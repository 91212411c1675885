// Payments, failures and retries, checked against STRIPE.md §4 (renewal failure, attempt_count,
// next_payment_attempt, the end after the last retry, recovery) and §5 (payment_behavior, incomplete
// and the 23-hour rule).
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { FakeStripeControl } from '../../tools/fake-stripe/control';
import { DEFAULT_BILLING_SETTINGS } from '../../tools/fake-stripe/state';
import { PRICE, DAY, HOUR, eventsOf, latestInvoice, rejection, useSimulator } from './simulator';


const sim = useSimulator();

const subscribe = (customer: string, extra: Partial<Stripe.SubscriptionCreateParams> = {}) =>
  sim.stripe.subscriptions.create({ customer, items: [{ price: PRICE.team, quantity: 2 }], ...extra });

/** A paying subscription whose card starts declining: the renewal at the period end fails. */
async function failingRenewal(): Promise<{ sub: Stripe.Subscription; card: string; renewalAt: number }> {
  const customer = await sim.clock.customer('pm_card_visa');
  const sub = await subscribe(customer.id);
  expect(sub.status).toBe('active');
  const card = customer.invoice_settings.default_payment_method as string;
  await new FakeStripeControl(sim.fake.url).setChargeOutcome(card, 'decline', 'insufficient_funds'); // the card stops working
  return { sub, card, renewalAt: sub.items.data[0].current_period_end };
}

describe('renewal payment failure (STRIPE.md §4)', () => {
  it('renewal: draft at period end, finalized and charged about an hour later; the decline leaves the invoice open and the subscription past_due', async () => {
    const { sub, renewalAt } = await failingRenewal();
    await sim.clock.advanceTo(renewalAt);
    expect((await latestInvoice(sim.stripe, sub.id)).status).toBe('draft');
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
    await sim.clock.advanceTo(renewalAt + HOUR);
    const invoice = await latestInvoice(sim.stripe, sub.id);
    expect(invoice).toMatchObject({ status: 'open', billing_reason: 'subscription_cycle', attempt_count: 1, attempted: true });
    expect(invoice.next_payment_attempt).toBe(renewalAt + HOUR + DEFAULT_BILLING_SETTINGS.retryDays[0] * DAY);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('past_due');
    const [failed] = await eventsOf(sim.stripe, 'invoice.payment_failed');
    expect((failed.data.object as Stripe.Invoice).attempt_count).toBe(1);
    const intent = await sim.stripe.paymentIntents.retrieve(((await sim.stripe.invoices.retrieve(invoice.id, { expand: ['payments'] })).payments!.data[0].payment as { payment_intent: string }).payment_intent);
    expect(intent.status).toBe('requires_payment_method');
    expect(intent.last_payment_error).toMatchObject({ code: 'card_declined', decline_code: 'insufficient_funds' });
  });

  it('retries on the schedule, attempt_count rising with each; invoice.payment_failed every time; next_payment_attempt null after the last', async () => {
    sim.fake.configure({ billing: { retryDays: [1, 3], afterFinalRetry: 'past_due' } });
    const { sub, renewalAt } = await failingRenewal();
    const first = renewalAt + HOUR;
    await sim.clock.advanceTo(first + 3 * DAY);
    const failures = (await eventsOf(sim.stripe, 'invoice.payment_failed')).map((e) => e.data.object as Stripe.Invoice);
    expect(failures.map((i) => [i.attempt_count, i.next_payment_attempt])).toEqual([
      [1, first + DAY],
      [2, first + 3 * DAY],
      [3, null],
    ]);
    expect((await eventsOf(sim.stripe, 'invoice.payment_failed')).map((e) => e.created)).toEqual([first, first + DAY, first + 3 * DAY]);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('past_due'); // afterFinalRetry: leave past_due
  });

  it('default Smart Retries: 8 tries within 2 weeks', () => {
    expect(DEFAULT_BILLING_SETTINGS.retryDays).toHaveLength(7);
    expect(DEFAULT_BILLING_SETTINGS.retryDays.at(-1)).toBeLessThanOrEqual(14);
  });

  it('after the last retry, "cancel" (default) cancels with reason payment_failed; the invoice stays open but no longer collected', async () => {
    sim.fake.configure({ billing: { retryDays: [2] } });
    const { sub, renewalAt } = await failingRenewal();
    await sim.clock.advanceTo(renewalAt + HOUR + 2 * DAY);
    const canceled = await sim.stripe.subscriptions.retrieve(sub.id);
    expect(canceled.status).toBe('canceled');
    expect(canceled.cancellation_details?.reason).toBe('payment_failed');
    expect((await eventsOf(sim.stripe, 'customer.subscription.deleted'))).toHaveLength(1);
    const invoice = await latestInvoice(sim.stripe, sub.id);
    expect(invoice).toMatchObject({ status: 'open', auto_advance: false, next_payment_attempt: null });
    await sim.clock.advanceBy(20 * DAY);
    expect((await latestInvoice(sim.stripe, sub.id)).attempt_count).toBe(2);
  });

  it('after the last retry, "unpaid": status unpaid; the next period is invoiced as a draft that is never charged', async () => {
    sim.fake.configure({ billing: { retryDays: [2], afterFinalRetry: 'unpaid' } });
    const { sub, renewalAt } = await failingRenewal();
    await sim.clock.advanceTo(renewalAt + HOUR + 2 * DAY);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('unpaid');
    const nextRenewal = (await sim.stripe.subscriptions.retrieve(sub.id)).items.data[0].current_period_end;
    await sim.clock.advanceTo(nextRenewal + 2 * HOUR);
    const next = await latestInvoice(sim.stripe, sub.id);
    expect(next).toMatchObject({ status: 'draft', auto_advance: false, attempt_count: 0, billing_reason: 'subscription_cycle' });
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('unpaid');
  });

  it('recovers: paying the open invoice with a new card → paid, invoice.paid and payment_succeeded, subscription active again', async () => {
    const { sub, renewalAt } = await failingRenewal();
    await sim.clock.advanceTo(renewalAt + HOUR);
    const invoice = await latestInvoice(sim.stripe, sub.id);
    const customer = sub.customer as string;
    const card = await sim.stripe.paymentMethods.attach('pm_card_mastercard', { customer });
    await sim.stripe.customers.update(customer, { invoice_settings: { default_payment_method: card.id } });
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('past_due'); // a new card alone does not pay (§4)
    const paid = await sim.stripe.invoices.pay(invoice.id);
    expect(paid).toMatchObject({ status: 'paid', amount_paid: 3800, attempt_count: 1, next_payment_attempt: null });
    const active = await sim.stripe.subscriptions.retrieve(sub.id);
    expect(active.status).toBe('active');
    expect((await eventsOf(sim.stripe, 'customer.subscription.updated')).at(-1)!.data.previous_attributes).toEqual({ status: 'past_due' });
    expect((await eventsOf(sim.stripe, 'invoice.payment_succeeded')).map((e) => (e.data.object as Stripe.Invoice).id)).toContain(invoice.id);
  });

  it('a scheduled retry succeeds once the card works again', async () => {
    const { sub, card, renewalAt } = await failingRenewal();
    await sim.clock.advanceTo(renewalAt + HOUR);
    await new FakeStripeControl(sim.fake.url).setChargeOutcome(card, 'succeed');
    await sim.clock.advanceTo(renewalAt + HOUR + DAY);
    expect(await latestInvoice(sim.stripe, sub.id)).toMatchObject({ status: 'paid', attempt_count: 2 });
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
  });

  it('a manual pay that fails is a 402 card_error and does not raise attempt_count past the first', async () => {
    const { sub, renewalAt } = await failingRenewal();
    await sim.clock.advanceTo(renewalAt + HOUR);
    const invoice = await latestInvoice(sim.stripe, sub.id);
    const error = await rejection(sim.stripe.invoices.pay(invoice.id), 'StripeCardError', { statusCode: 402, code: 'card_declined' });
    expect(error.decline_code).toBe('insufficient_funds');
    expect((await sim.stripe.invoices.retrieve(invoice.id)).attempt_count).toBe(1);
  });

  it('paid out of band: invoice.paid without invoice.payment_succeeded, and the subscription active', async () => {
    const { sub, renewalAt } = await failingRenewal();
    await sim.clock.advanceTo(renewalAt + HOUR);
    const invoice = await latestInvoice(sim.stripe, sub.id);
    await sim.stripe.invoices.pay(invoice.id, { paid_out_of_band: true });
    const paidEvents = (await eventsOf(sim.stripe, 'invoice.paid')).filter((e) => (e.data.object as Stripe.Invoice).id === invoice.id);
    const succeeded = (await eventsOf(sim.stripe, 'invoice.payment_succeeded')).filter((e) => (e.data.object as Stripe.Invoice).id === invoice.id);
    expect(paidEvents).toHaveLength(1);
    expect(succeeded).toHaveLength(0);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
  });

  it('marking the latest invoice uncollectible makes the subscription active; voiding it does not', async () => {
    const { sub, renewalAt } = await failingRenewal();
    await sim.clock.advanceTo(renewalAt + HOUR);
    const invoice = await latestInvoice(sim.stripe, sub.id);
    const uncollectible = await sim.stripe.invoices.markUncollectible(invoice.id);
    expect(uncollectible.status).toBe('uncollectible');
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
    await rejection(sim.stripe.invoices.voidInvoice(invoice.id), 'StripeInvalidRequestError', { statusCode: 400 });
  });
});

describe('payment_behavior and the 23-hour rule (STRIPE.md §5)', () => {
  it('allow_incomplete (default) without a card: incomplete, its invoice open after one failed attempt, never retried', async () => {
    const customer = await sim.clock.customer();
    const sub = await subscribe(customer.id, { expand: ['latest_invoice'] });
    expect(sub.status).toBe('incomplete');
    expect(sub.latest_invoice).toMatchObject({ status: 'open', attempt_count: 1, next_payment_attempt: null, billing_reason: 'subscription_create' });
    const [created] = await eventsOf(sim.stripe, 'customer.subscription.created');
    expect((created.data.object as Stripe.Subscription).status).toBe('incomplete');
    expect(await eventsOf(sim.stripe, 'invoice.payment_failed')).toHaveLength(1);
    await sim.clock.advanceBy(22 * HOUR);
    expect(await eventsOf(sim.stripe, 'invoice.payment_failed')).toHaveLength(1);
  });

  it('unpaid after 23 hours: incomplete_expired with canceled_at, its invoice voided (invoice.voided), no further invoices', async () => {
    const customer = await sim.clock.customer();
    const sub = await subscribe(customer.id);
    await sim.clock.advanceTo(sub.created + 23 * HOUR - 1);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('incomplete');
    await sim.clock.advanceTo(sub.created + 23 * HOUR);
    const expired = await sim.stripe.subscriptions.retrieve(sub.id);
    expect(expired).toMatchObject({ status: 'incomplete_expired', canceled_at: sub.created + 23 * HOUR });
    expect((await latestInvoice(sim.stripe, sub.id)).status).toBe('void');
    const updates = await eventsOf(sim.stripe, 'customer.subscription.updated');
    expect(updates.at(-1)!.data.previous_attributes).toMatchObject({ status: 'incomplete' });
    expect(await eventsOf(sim.stripe, 'invoice.voided')).toHaveLength(1);
    await sim.clock.advanceBy(40 * DAY);
    expect((await sim.stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);
    expect((await sim.stripe.subscriptions.list({ customer: customer.id })).data).toEqual([]); // ended: not listed by default
  });

  it('paid within 23 hours: incomplete → active', async () => {
    const customer = await sim.clock.customer();
    const sub = await subscribe(customer.id);
    await sim.clock.advanceBy(5 * HOUR);
    const card = await sim.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await sim.stripe.invoices.pay(sub.latest_invoice as string, { payment_method: card.id });
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
    await sim.clock.advanceBy(20 * HOUR);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
  });

  it('voiding the first invoice of an incomplete subscription expires it', async () => {
    const customer = await sim.clock.customer();
    const sub = await subscribe(customer.id);
    await sim.stripe.invoices.voidInvoice(sub.latest_invoice as string);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('incomplete_expired');
  });

  it('default_incomplete: incomplete, invoice finalized and open, no charge attempted, a confirmation_secret to confirm with', async () => {
    const customer = await sim.clock.customer('pm_card_visa');
    const sub = await subscribe(customer.id, { payment_behavior: 'default_incomplete', expand: ['latest_invoice.confirmation_secret'] });
    expect(sub.status).toBe('incomplete');
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({ status: 'open', attempt_count: 0, attempted: false });
    expect(invoice.confirmation_secret?.client_secret).toMatch(/^pi_.+_secret_/);
    expect(await eventsOf(sim.stripe, 'invoice.payment_failed')).toEqual([]);
    expect(await eventsOf(sim.stripe, 'payment_intent.created')).toHaveLength(1);
  });

  it('default_incomplete with a trial: nothing is due, the subscription starts trialing', async () => {
    const customer = await sim.clock.customer();
    const sub = await subscribe(customer.id, { payment_behavior: 'default_incomplete', trial_period_days: 7 });
    expect(sub.status).toBe('trialing');
  });

  it('error_if_incomplete: a decline is HTTP 402 and no subscription exists; without a card the request is refused', async () => {
    const declining = await sim.clock.customer('pm_card_chargeCustomerFail');
    await rejection(subscribe(declining.id, { payment_behavior: 'error_if_incomplete' }), 'StripeCardError', { statusCode: 402, code: 'card_declined' });
    const cardless = await sim.clock.customer();
    await rejection(subscribe(cardless.id, { payment_behavior: 'error_if_incomplete' }), 'StripeInvalidRequestError', { statusCode: 400, message: /no attached payment source or default payment method/ });
    expect((await sim.stripe.subscriptions.list({ status: 'all' })).data).toEqual([]);
    expect(await eventsOf(sim.stripe, 'customer.subscription.created')).toEqual([]);
    expect((await sim.stripe.invoices.list()).data).toEqual([]);
  });

  it('an incomplete subscription accepts only changes that make no invoice', async () => {
    const customer = await sim.clock.customer();
    const sub = await subscribe(customer.id);
    expect((await sim.stripe.subscriptions.update(sub.id, { metadata: { tenantId: 't1' } })).metadata).toEqual({ tenantId: 't1' });
    await rejection(sim.stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0].id, quantity: 9 }] }), 'StripeInvalidRequestError', { statusCode: 400, message: /incomplete/ });
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).items.data[0].quantity).toBe(2);
  });
});

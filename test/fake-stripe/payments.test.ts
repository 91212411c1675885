// Payments, failures and retries, checked against STRIPE.md §4 (renewal failure, attempt_count,
// next_payment_attempt, the end after the last retry, recovery) and §5 (payment_behavior, incomplete
// and the 23-hour rule).
import type Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeStripeControl } from '../../tools/fake-stripe/control';
import { DEFAULT_BILLING_SETTINGS } from '../../tools/fake-stripe/state';
import type { FakeStripe } from '../../tools/fake-stripe/server';
import { Clock, PRICE, DAY, HOUR, eventsOf, latestInvoice, rejection, startSimulator } from './simulator';

let fake: FakeStripe;
let stripe: Stripe;
let clock: Clock;

beforeAll(async () => {
  ({ fake, stripe } = await startSimulator());
});
afterAll(() => fake.close());
beforeEach(async () => {
  fake.reset({ all: true });
  clock = await Clock.start(stripe);
});

const subscribe = (customer: string, extra: Partial<Stripe.SubscriptionCreateParams> = {}) =>
  stripe.subscriptions.create({ customer, items: [{ price: PRICE.team, quantity: 2 }], ...extra });

/** A paying subscription whose card starts declining: the renewal at the period end fails. */
async function failingRenewal(): Promise<{ sub: Stripe.Subscription; card: string; renewalAt: number }> {
  const customer = await clock.customer('pm_card_visa');
  const sub = await subscribe(customer.id);
  expect(sub.status).toBe('active');
  const card = customer.invoice_settings.default_payment_method as string;
  await new FakeStripeControl(fake.url).setChargeOutcome(card, 'decline', 'insufficient_funds'); // the card stops working
  return { sub, card, renewalAt: sub.items.data[0].current_period_end };
}

describe('renewal payment failure (STRIPE.md §4)', () => {
  it('renewal: draft at period end, finalized and charged about an hour later; the decline leaves the invoice open and the subscription past_due', async () => {
    const { sub, renewalAt } = await failingRenewal();
    await clock.advanceTo(renewalAt);
    expect((await latestInvoice(stripe, sub.id)).status).toBe('draft');
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
    await clock.advanceTo(renewalAt + HOUR);
    const invoice = await latestInvoice(stripe, sub.id);
    expect(invoice).toMatchObject({ status: 'open', billing_reason: 'subscription_cycle', attempt_count: 1, attempted: true });
    expect(invoice.next_payment_attempt).toBe(renewalAt + HOUR + DEFAULT_BILLING_SETTINGS.retryDays[0] * DAY);
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('past_due');
    const [failed] = await eventsOf(stripe, 'invoice.payment_failed');
    expect((failed.data.object as Stripe.Invoice).attempt_count).toBe(1);
    const intent = await stripe.paymentIntents.retrieve(((await stripe.invoices.retrieve(invoice.id, { expand: ['payments'] })).payments!.data[0].payment as { payment_intent: string }).payment_intent);
    expect(intent.status).toBe('requires_payment_method');
    expect(intent.last_payment_error).toMatchObject({ code: 'card_declined', decline_code: 'insufficient_funds' });
  });

  it('retries on the schedule, attempt_count rising with each; invoice.payment_failed every time; next_payment_attempt null after the last', async () => {
    fake.configure({ billing: { retryDays: [1, 3], afterFinalRetry: 'past_due' } });
    const { sub, renewalAt } = await failingRenewal();
    const first = renewalAt + HOUR;
    await clock.advanceTo(first + 3 * DAY);
    const failures = (await eventsOf(stripe, 'invoice.payment_failed')).map((e) => e.data.object as Stripe.Invoice);
    expect(failures.map((i) => [i.attempt_count, i.next_payment_attempt])).toEqual([
      [1, first + DAY],
      [2, first + 3 * DAY],
      [3, null],
    ]);
    expect((await eventsOf(stripe, 'invoice.payment_failed')).map((e) => e.created)).toEqual([first, first + DAY, first + 3 * DAY]);
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('past_due'); // afterFinalRetry: leave past_due
  });

  it('default Smart Retries: 8 tries within 2 weeks', () => {
    expect(DEFAULT_BILLING_SETTINGS.retryDays).toHaveLength(7);
    expect(DEFAULT_BILLING_SETTINGS.retryDays.at(-1)).toBeLessThanOrEqual(14);
  });

  it('after the last retry, "cancel" (default) cancels with reason payment_failed; the invoice stays open but no longer collected', async () => {
    fake.configure({ billing: { retryDays: [2] } });
    const { sub, renewalAt } = await failingRenewal();
    await clock.advanceTo(renewalAt + HOUR + 2 * DAY);
    const canceled = await stripe.subscriptions.retrieve(sub.id);
    expect(canceled.status).toBe('canceled');
    expect(canceled.cancellation_details?.reason).toBe('payment_failed');
    expect((await eventsOf(stripe, 'customer.subscription.deleted'))).toHaveLength(1);
    const invoice = await latestInvoice(stripe, sub.id);
    expect(invoice).toMatchObject({ status: 'open', auto_advance: false, next_payment_attempt: null });
    await clock.advanceBy(20 * DAY);
    expect((await latestInvoice(stripe, sub.id)).attempt_count).toBe(2);
  });

  it('after the last retry, "unpaid": status unpaid; the next period is invoiced as a draft that is never charged', async () => {
    fake.configure({ billing: { retryDays: [2], afterFinalRetry: 'unpaid' } });
    const { sub, renewalAt } = await failingRenewal();
    await clock.advanceTo(renewalAt + HOUR + 2 * DAY);
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('unpaid');
    const nextRenewal = (await stripe.subscriptions.retrieve(sub.id)).items.data[0].current_period_end;
    await clock.advanceTo(nextRenewal + 2 * HOUR);
    const next = await latestInvoice(stripe, sub.id);
    expect(next).toMatchObject({ status: 'draft', auto_advance: false, attempt_count: 0, billing_reason: 'subscription_cycle' });
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('unpaid');
  });

  it('recovers: paying the open invoice with a new card → paid, invoice.paid and payment_succeeded, subscription active again', async () => {
    const { sub, renewalAt } = await failingRenewal();
    await clock.advanceTo(renewalAt + HOUR);
    const invoice = await latestInvoice(stripe, sub.id);
    const customer = sub.customer as string;
    const card = await stripe.paymentMethods.attach('pm_card_mastercard', { customer });
    await stripe.customers.update(customer, { invoice_settings: { default_payment_method: card.id } });
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('past_due'); // a new card alone does not pay (§4)
    const paid = await stripe.invoices.pay(invoice.id);
    expect(paid).toMatchObject({ status: 'paid', amount_paid: 3800, attempt_count: 1, next_payment_attempt: null });
    const active = await stripe.subscriptions.retrieve(sub.id);
    expect(active.status).toBe('active');
    expect((await eventsOf(stripe, 'customer.subscription.updated')).at(-1)!.data.previous_attributes).toEqual({ status: 'past_due' });
    expect((await eventsOf(stripe, 'invoice.payment_succeeded')).map((e) => (e.data.object as Stripe.Invoice).id)).toContain(invoice.id);
  });

  it('a scheduled retry succeeds once the card works again', async () => {
    const { sub, card, renewalAt } = await failingRenewal();
    await clock.advanceTo(renewalAt + HOUR);
    await new FakeStripeControl(fake.url).setChargeOutcome(card, 'succeed');
    await clock.advanceTo(renewalAt + HOUR + DAY);
    expect(await latestInvoice(stripe, sub.id)).toMatchObject({ status: 'paid', attempt_count: 2 });
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
  });

  it('a manual pay that fails is a 402 card_error and does not raise attempt_count past the first', async () => {
    const { sub, renewalAt } = await failingRenewal();
    await clock.advanceTo(renewalAt + HOUR);
    const invoice = await latestInvoice(stripe, sub.id);
    const error = await rejection(stripe.invoices.pay(invoice.id), 'StripeCardError', { statusCode: 402, code: 'card_declined' });
    expect(error.decline_code).toBe('insufficient_funds');
    expect((await stripe.invoices.retrieve(invoice.id)).attempt_count).toBe(1);
  });

  it('paid out of band: invoice.paid without invoice.payment_succeeded, and the subscription active', async () => {
    const { sub, renewalAt } = await failingRenewal();
    await clock.advanceTo(renewalAt + HOUR);
    const invoice = await latestInvoice(stripe, sub.id);
    await stripe.invoices.pay(invoice.id, { paid_out_of_band: true });
    const paidEvents = (await eventsOf(stripe, 'invoice.paid')).filter((e) => (e.data.object as Stripe.Invoice).id === invoice.id);
    const succeeded = (await eventsOf(stripe, 'invoice.payment_succeeded')).filter((e) => (e.data.object as Stripe.Invoice).id === invoice.id);
    expect(paidEvents).toHaveLength(1);
    expect(succeeded).toHaveLength(0);
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
  });

  it('marking the latest invoice uncollectible makes the subscription active; voiding it does not', async () => {
    const { sub, renewalAt } = await failingRenewal();
    await clock.advanceTo(renewalAt + HOUR);
    const invoice = await latestInvoice(stripe, sub.id);
    const uncollectible = await stripe.invoices.markUncollectible(invoice.id);
    expect(uncollectible.status).toBe('uncollectible');
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
    await rejection(stripe.invoices.voidInvoice(invoice.id), 'StripeInvalidRequestError', { statusCode: 400 });
  });
});

describe('payment_behavior and the 23-hour rule (STRIPE.md §5)', () => {
  it('allow_incomplete (default) without a card: incomplete, its invoice open after one failed attempt, never retried', async () => {
    const customer = await clock.customer();
    const sub = await subscribe(customer.id, { expand: ['latest_invoice'] });
    expect(sub.status).toBe('incomplete');
    expect(sub.latest_invoice).toMatchObject({ status: 'open', attempt_count: 1, next_payment_attempt: null, billing_reason: 'subscription_create' });
    const [created] = await eventsOf(stripe, 'customer.subscription.created');
    expect((created.data.object as Stripe.Subscription).status).toBe('incomplete');
    expect(await eventsOf(stripe, 'invoice.payment_failed')).toHaveLength(1);
    await clock.advanceBy(22 * HOUR);
    expect(await eventsOf(stripe, 'invoice.payment_failed')).toHaveLength(1);
  });

  it('unpaid after 23 hours: incomplete_expired with canceled_at, its invoice voided (invoice.voided), no further invoices', async () => {
    const customer = await clock.customer();
    const sub = await subscribe(customer.id);
    await clock.advanceTo(sub.created + 23 * HOUR - 1);
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('incomplete');
    await clock.advanceTo(sub.created + 23 * HOUR);
    const expired = await stripe.subscriptions.retrieve(sub.id);
    expect(expired).toMatchObject({ status: 'incomplete_expired', canceled_at: sub.created + 23 * HOUR });
    expect((await latestInvoice(stripe, sub.id)).status).toBe('void');
    const updates = await eventsOf(stripe, 'customer.subscription.updated');
    expect(updates.at(-1)!.data.previous_attributes).toMatchObject({ status: 'incomplete' });
    expect(await eventsOf(stripe, 'invoice.voided')).toHaveLength(1);
    await clock.advanceBy(40 * DAY);
    expect((await stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);
    expect((await stripe.subscriptions.list({ customer: customer.id })).data).toEqual([]); // ended: not listed by default
  });

  it('paid within 23 hours: incomplete → active', async () => {
    const customer = await clock.customer();
    const sub = await subscribe(customer.id);
    await clock.advanceBy(5 * HOUR);
    const card = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await stripe.invoices.pay(sub.latest_invoice as string, { payment_method: card.id });
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
    await clock.advanceBy(20 * HOUR);
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
  });

  it('voiding the first invoice of an incomplete subscription expires it', async () => {
    const customer = await clock.customer();
    const sub = await subscribe(customer.id);
    await stripe.invoices.voidInvoice(sub.latest_invoice as string);
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('incomplete_expired');
  });

  it('default_incomplete: incomplete, invoice finalized and open, no charge attempted, a confirmation_secret to confirm with', async () => {
    const customer = await clock.customer('pm_card_visa');
    const sub = await subscribe(customer.id, { payment_behavior: 'default_incomplete', expand: ['latest_invoice.confirmation_secret'] });
    expect(sub.status).toBe('incomplete');
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({ status: 'open', attempt_count: 0, attempted: false });
    expect(invoice.confirmation_secret?.client_secret).toMatch(/^pi_.+_secret_/);
    expect(await eventsOf(stripe, 'invoice.payment_failed')).toEqual([]);
    expect(await eventsOf(stripe, 'payment_intent.created')).toHaveLength(1);
  });

  it('default_incomplete with a trial: nothing is due, the subscription starts trialing', async () => {
    const customer = await clock.customer();
    const sub = await subscribe(customer.id, { payment_behavior: 'default_incomplete', trial_period_days: 7 });
    expect(sub.status).toBe('trialing');
  });

  it('error_if_incomplete: a decline is HTTP 402 and no subscription exists; without a card the request is refused', async () => {
    const declining = await clock.customer('pm_card_chargeCustomerFail');
    await rejection(subscribe(declining.id, { payment_behavior: 'error_if_incomplete' }), 'StripeCardError', { statusCode: 402, code: 'card_declined' });
    const cardless = await clock.customer();
    await rejection(subscribe(cardless.id, { payment_behavior: 'error_if_incomplete' }), 'StripeInvalidRequestError', { statusCode: 400, message: /no attached payment source or default payment method/ });
    expect((await stripe.subscriptions.list({ status: 'all' })).data).toEqual([]);
    expect(await eventsOf(stripe, 'customer.subscription.created')).toEqual([]);
    expect((await stripe.invoices.list()).data).toEqual([]);
  });

  it('an incomplete subscription accepts only changes that make no invoice', async () => {
    const customer = await clock.customer();
    const sub = await subscribe(customer.id);
    expect((await stripe.subscriptions.update(sub.id, { metadata: { tenantId: 't1' } })).metadata).toEqual({ tenantId: 't1' });
    await rejection(stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0].id, quantity: 9 }] }), 'StripeInvalidRequestError', { statusCode: 400, message: /incomplete/ });
    expect((await stripe.subscriptions.retrieve(sub.id)).items.data[0].quantity).toBe(2);
  });
});

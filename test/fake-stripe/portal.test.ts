// The customer portal, checked against STRIPE.md §8: configurations (default and made through the
// API), sessions, and what the customer does on the hosted page reaching Stripe's state and events as
// the portal does it (plan and quantity changes, cancel at period end, renew, a new card, start after a
// trial that paused).
import type Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeStripe } from '../../tools/fake-stripe/server';
import { Clock, DAY, HOUR, eventsOf, latestInvoice, rejection, startSimulator } from './simulator';

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

/** Submits one of the portal page's forms; returns the status, where it redirects, and the page. */
async function act(portalUrl: string, action: string, subscription: string | null, fields: Record<string, string> = {}) {
  const url = `${portalUrl}/${action}${subscription ? `/${subscription}` : ''}`;
  const response = await fetch(url, { method: 'POST', body: new URLSearchParams(fields), redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  return { status: response.status, location: response.headers.get('location'), text: await response.text() };
}

async function paying(quantity = 5): Promise<{ customer: Stripe.Customer; sub: Stripe.Subscription }> {
  const customer = await clock.customer('pm_card_visa');
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: 'price_team_monthly', quantity }] });
  return { customer, sub };
}

describe('portal sessions and configurations (STRIPE.md §8)', () => {
  it('a session for a customer: a URL, the default configuration, billing_portal.session.created; return_url is required', async () => {
    const { customer } = await paying();
    const session = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'https://app.test/billing' });
    expect(session).toMatchObject({ object: 'billing_portal.session', customer: customer.id, return_url: 'https://app.test/billing', flow: null });
    expect(session.url).toMatch(/\/portal\/bps_/);
    const config = await stripe.billingPortal.configurations.retrieve(session.configuration as string);
    expect(config).toMatchObject({ is_default: true, features: { subscription_update: { enabled: true, proration_behavior: 'none' }, subscription_cancel: { mode: 'at_period_end' } } });
    expect(await eventsOf(stripe, 'billing_portal.session.created')).toHaveLength(1);
    await rejection(stripe.billingPortal.sessions.create({ customer: customer.id }), 'StripeInvalidRequestError', { code: 'parameter_missing', param: 'return_url' });
    const page = await fetch(session.url).then((r) => r.text());
    expect(page).toContain('Team × 5');
  });

  it('a configuration made through the API: proration_behavior none unless set; its features decide what the page allows', async () => {
    const config = await stripe.billingPortal.configurations.create({
      features: { subscription_update: { enabled: true, default_allowed_updates: ['quantity'], products: [{ product: 'prod_team', prices: ['price_team_monthly'] }], proration_behavior: 'always_invoice' }, subscription_cancel: { enabled: false } },
      default_return_url: 'https://app.test/billing',
    });
    expect(config.features.subscription_update.proration_behavior).toBe('always_invoice');
    expect((await stripe.billingPortal.configurations.create({ features: { subscription_update: { enabled: true, default_allowed_updates: ['quantity'], products: [] } } })).features.subscription_update.proration_behavior).toBe('none');
    const { customer, sub } = await paying();
    const session = await stripe.billingPortal.sessions.create({ customer: customer.id, configuration: config.id });
    expect(session.return_url).toBe('https://app.test/billing');
    expect((await act(session.url, 'cancel', sub.id)).status).toBe(400);
    expect((await act(session.url, 'update', sub.id, { price: 'price_starter_monthly', quantity: '5' })).status).toBe(400);
    await clock.advanceBy(10 * DAY);
    expect((await act(session.url, 'update', sub.id, { price: 'price_team_monthly', quantity: '7' })).status).toBe(303);
    expect(await latestInvoice(stripe, sub.id)).toMatchObject({ billing_reason: 'subscription_update', status: 'paid' }); // always_invoice
  });
});

describe('what the customer does in the portal (STRIPE.md §8)', () => {
  it('changes seats: customer.subscription.updated with the old quantity in previous_attributes.items', async () => {
    const { customer, sub } = await paying();
    const session = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'https://app.test/billing' });
    const answer = await act(session.url, 'update', sub.id, { price: 'price_team_monthly', quantity: '8' });
    expect(answer.status).toBe(303);
    expect(answer.location).toMatch(/\/portal\/bps_.*notice=/);
    expect((await stripe.subscriptions.retrieve(sub.id)).items.data[0].quantity).toBe(8);
    const [update] = await eventsOf(stripe, 'customer.subscription.updated');
    expect((update.data.previous_attributes as { items: Stripe.ApiList<Stripe.SubscriptionItem> }).items.data[0].quantity).toBe(5);
    expect((await stripe.invoiceItems.list({ customer: customer.id })).data).toEqual([]); // the default configuration prorates nothing
  });

  it('changes plan during a trial: the trial ends at once (trial_update_behavior end_trial)', async () => {
    const customer = await clock.customer('pm_card_visa');
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: 'price_starter_monthly', quantity: 3 }], trial_period_days: 14 });
    const session = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'https://app.test/billing' });
    expect((await act(session.url, 'update', sub.id, { price: 'price_team_monthly', quantity: '3' })).status).toBe(303);
    const after = await stripe.subscriptions.retrieve(sub.id);
    expect(after).toMatchObject({ status: 'active', trial_end: clock.now });
    expect(after.items.data[0].price.id).toBe('price_team_monthly');
  });

  it('cancels at period end (updated now, deleted at the period end) and can renew before it', async () => {
    const { customer, sub } = await paying();
    const session = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'https://app.test/billing' });
    expect((await act(session.url, 'cancel', sub.id, { feedback: 'too_expensive' })).status).toBe(303);
    const scheduled = await stripe.subscriptions.retrieve(sub.id);
    expect(scheduled).toMatchObject({ status: 'active', cancel_at_period_end: true, cancel_at: sub.items.data[0].current_period_end });
    expect(scheduled.cancellation_details?.feedback).toBe('too_expensive');
    expect((await act(session.url, 'renew', sub.id)).status).toBe(303);
    expect((await stripe.subscriptions.retrieve(sub.id)).cancel_at).toBeNull();
    expect((await act(session.url, 'cancel', sub.id)).status).toBe(303);
    await clock.advanceTo(sub.items.data[0].current_period_end + HOUR);
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('canceled');
    expect(await eventsOf(stripe, 'customer.subscription.deleted')).toHaveLength(1);
  });

  it('replaces the card: customer.updated with the new default; a subscription-level override is removed', async () => {
    const customer = await clock.customer('pm_card_visa');
    const own = await stripe.paymentMethods.attach('pm_card_mastercard', { customer: customer.id });
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: 'price_team_monthly' }], default_payment_method: own.id });
    const session = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'https://app.test/billing' });
    expect((await act(session.url, 'payment_method', null, { card: 'pm_card_chargeDeclined' })).status).toBe(400); // refused when saved
    expect((await act(session.url, 'payment_method', null, { card: 'pm_card_amex' })).status).toBe(303);
    const updated = (await stripe.customers.retrieve(customer.id)) as Stripe.Customer;
    expect((await stripe.paymentMethods.retrieve(updated.invoice_settings.default_payment_method as string)).card?.brand).toBe('amex');
    expect((await stripe.subscriptions.retrieve(sub.id)).default_payment_method).toBeNull();
    expect((await eventsOf(stripe, 'customer.updated')).at(-1)!.data.previous_attributes).toMatchObject({ invoice_settings: { default_payment_method: expect.stringMatching(/^pm_/) } });
  });

  it('"Start subscription" on a trial paused for want of a card: the card, then resumed and paid', async () => {
    const customer = await clock.customer();
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: 'price_team_monthly' }], trial_period_days: 7, trial_settings: { end_behavior: { missing_payment_method: 'pause' } } });
    await clock.advanceTo(sub.trial_end! + DAY);
    const session = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'https://app.test/billing' });
    expect(await fetch(session.url).then((r) => r.text())).toContain('Start subscription');
    const declined = await act(session.url, 'start', sub.id, { card: 'pm_card_chargeCustomerFail' });
    expect(declined.status).toBe(400);
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('paused');
    expect((await act(session.url, 'start', sub.id, { card: 'pm_card_visa' })).status).toBe(303);
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
    expect(await eventsOf(stripe, 'customer.subscription.resumed')).toHaveLength(1);
    const invoices = (await stripe.invoices.list({ subscription: sub.id })).data.map((i) => i.status);
    expect(invoices.sort()).toEqual(['paid', 'paid', 'void']); // the failed attempt's invoice is replaced, not charged later
  });

  it('refuses another customer\'s subscription', async () => {
    const { sub } = await paying();
    const other = await clock.customer('pm_card_visa');
    const session = await stripe.billingPortal.sessions.create({ customer: other.id, return_url: 'https://app.test/billing' });
    expect((await act(session.url, 'cancel', sub.id)).status).toBe(400);
    expect((await stripe.subscriptions.retrieve(sub.id)).cancel_at).toBeNull();
  });
});

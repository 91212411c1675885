// Stripe Checkout in subscription and setup mode, checked against STRIPE.md §7: the session object,
// the hosted page paying with a test card (a new subscription, its default payment method the card),
// a declined card changing nothing, trials, setup mode's SetupIntent, expiry, and the events.
import type Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeStripe } from '../../tools/fake-stripe/server';
import { Clock, DAY, HOUR, eventsOf, rejection, startSimulator } from './simulator';

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

const SUCCESS = 'https://app.test/billing?session={CHECKOUT_SESSION_ID}';

/** Presses the hosted page's button with this test card; returns the HTTP answer (303 to success_url, or the page with its error). */
async function pay(url: string, card: string | null, email?: string): Promise<{ status: number; location: string | null; text: string }> {
  const body = new URLSearchParams({ ...(card ? { card } : {}), ...(email ? { email } : {}) });
  const response = await fetch(url, { method: 'POST', body, redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  return { status: response.status, location: response.headers.get('location'), text: await response.text() };
}

async function session(customer: string, extra: Partial<Stripe.Checkout.SessionCreateParams> = {}): Promise<Stripe.Checkout.Session> {
  return stripe.checkout.sessions.create({
    mode: 'subscription',
    customer,
    line_items: [{ price: 'price_team_monthly', quantity: 5 }],
    client_reference_id: 't-acme',
    metadata: { tenantId: 't-acme' },
    subscription_data: { metadata: { tenantId: 't-acme' } },
    success_url: SUCCESS,
    cancel_url: 'https://app.test/billing',
    ...extra,
  });
}

describe('Checkout in subscription mode (STRIPE.md §7)', () => {
  it('creates an open, unpaid session with a URL, expiring after 24 h; line_items only when expanded', async () => {
    const customer = await clock.customer();
    const created = await session(customer.id);
    expect(created).toMatchObject({ object: 'checkout.session', mode: 'subscription', status: 'open', payment_status: 'unpaid', customer: customer.id, client_reference_id: 't-acme', subscription: null, amount_total: 9500, currency: 'usd' });
    expect(created.id).toMatch(/^cs_test_/);
    expect(created.expires_at).toBe(clock.now + DAY);
    expect(created.url).toMatch(/\/checkout\/cs_test_/);
    expect(created).not.toHaveProperty('line_items');
    const expanded = await stripe.checkout.sessions.retrieve(created.id, { expand: ['line_items'] });
    expect(expanded.line_items?.data.map((i) => [i.price?.id, i.quantity, i.amount_total])).toEqual([['price_team_monthly', 5, 9500]]);
    const page = await fetch(created.url!).then((r) => r.text());
    expect(page).toContain('Team × 5');
  });

  it('paid with a good card: a NEW subscription, active, paid; its default payment method is the card; the session complete and paid; redirect to success_url', async () => {
    const customer = await clock.customer();
    const created = await session(customer.id);
    const answer = await pay(created.url!, 'pm_card_visa');
    expect(answer.status).toBe(303);
    expect(answer.location).toBe(`https://app.test/billing?session=${created.id}`);
    const done = await stripe.checkout.sessions.retrieve(created.id);
    expect(done).toMatchObject({ status: 'complete', payment_status: 'paid', customer: customer.id });
    const sub = await stripe.subscriptions.retrieve(done.subscription as string, { expand: ['latest_invoice'] });
    expect(sub).toMatchObject({ status: 'active', metadata: { tenantId: 't-acme' } });
    expect(sub.items.data[0]).toMatchObject({ quantity: 5, price: { id: 'price_team_monthly' } });
    expect(sub.latest_invoice).toMatchObject({ status: 'paid', amount_paid: 9500, id: done.invoice });
    expect((await stripe.paymentMethods.retrieve(sub.default_payment_method as string)).card?.last4).toBe('4242');
    const [completed] = await eventsOf(stripe, 'checkout.session.completed');
    expect(completed.data.object).toMatchObject({ id: created.id, subscription: sub.id, client_reference_id: 't-acme', payment_status: 'paid' });
    expect(await pay(created.url!, 'pm_card_visa')).toMatchObject({ status: 402 }); // a completed session is not paid twice
  });

  it('never converts an existing subscription: a customer in a trial ends up with a second subscription', async () => {
    const customer = await clock.customer();
    const trial = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: 'price_team_monthly', quantity: 5 }], trial_period_days: 14 });
    const created = await session(customer.id);
    await pay(created.url!, 'pm_card_visa');
    const subs = (await stripe.subscriptions.list({ customer: customer.id })).data;
    expect(subs.map((s) => s.status).sort()).toEqual(['active', 'trialing']);
    expect(subs.map((s) => s.id)).toContain(trial.id);
  });

  it('with a declined card: the page says why, nothing is created and the session stays open; a good card then works', async () => {
    const customer = await clock.customer();
    const created = await session(customer.id);
    const declined = await pay(created.url!, 'pm_card_chargeDeclined');
    expect(declined.status).toBe(402);
    expect(declined.text).toContain('Your card was declined.');
    const failing = await pay(created.url!, 'pm_card_chargeCustomerFail');
    expect(failing.status).toBe(402);
    expect((await stripe.checkout.sessions.retrieve(created.id)).status).toBe('open');
    expect((await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data).toEqual([]);
    expect(await eventsOf(stripe, 'checkout.session.completed')).toEqual([]);
    expect((await pay(created.url!, 'pm_card_visa')).status).toBe(303);
  });

  it('a trial: nothing due, completes as no_payment_required; payment_method_collection=if_required needs no card', async () => {
    const customer = await clock.customer();
    const withCard = await session(customer.id, { subscription_data: { trial_period_days: 14 } });
    expect(withCard.amount_total).toBe(0);
    expect((await pay(withCard.url!, null)).status).toBe(402); // 'always' (default) collects a card even for a trial
    expect((await pay(withCard.url!, 'pm_card_visa')).status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(withCard.id);
    expect(done.payment_status).toBe('no_payment_required');
    expect((await stripe.subscriptions.retrieve(done.subscription as string)).status).toBe('trialing');

    const other = await clock.customer();
    const cardless = await session(other.id, { subscription_data: { trial_period_days: 14 }, payment_method_collection: 'if_required' });
    expect((await pay(cardless.url!, null)).status).toBe(303);
    const sub = await stripe.subscriptions.retrieve((await stripe.checkout.sessions.retrieve(cardless.id)).subscription as string);
    expect(sub).toMatchObject({ status: 'trialing', default_payment_method: null });
  });

  it('without a customer it creates a new one from the email given on the page (customer.created)', async () => {
    const created = await stripe.checkout.sessions.create({ mode: 'subscription', line_items: [{ price: 'price_starter_monthly' }], success_url: SUCCESS });
    expect(created.customer_creation).toBe('always');
    expect((await pay(created.url!, 'pm_card_visa', 'new@acme.test')).status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(created.id);
    expect(((await stripe.customers.retrieve(done.customer as string)) as Stripe.Customer).email).toBe('new@acme.test');
  });

  it('refuses what Stripe refuses: a trial_end under 48 hours, expires_at outside 30 min..24 h, an unknown price, payment mode', async () => {
    const customer = await clock.customer();
    await rejection(session(customer.id, { subscription_data: { trial_end: clock.now + DAY } }), 'StripeInvalidRequestError', { param: 'subscription_data[trial_end]' });
    await rejection(session(customer.id, { expires_at: clock.now + 10 * 60 }), 'StripeInvalidRequestError', { param: 'expires_at' });
    await rejection(session(customer.id, { line_items: [{ price: 'price_nope', quantity: 1 }] }), 'StripeInvalidRequestError', { code: 'resource_missing' });
    await rejection(stripe.checkout.sessions.create({ mode: 'payment', line_items: [{ price: 'price_team_monthly' }], success_url: SUCCESS }), 'StripeInvalidRequestError', { param: 'mode' });
    expect((await stripe.checkout.sessions.list()).data).toEqual([]);
  });

  it('expires: by the API, or at expires_at (checkout.session.expired); an expired session cannot be paid', async () => {
    const customer = await clock.customer();
    const first = await session(customer.id);
    expect((await stripe.checkout.sessions.expire(first.id)).status).toBe('expired');
    await rejection(stripe.checkout.sessions.expire(first.id), 'StripeInvalidRequestError', { statusCode: 400 });
    const second = await session(customer.id, { expires_at: clock.now + HOUR });
    await clock.advanceTo(clock.now + HOUR);
    expect((await stripe.checkout.sessions.retrieve(second.id)).status).toBe('expired');
    expect((await eventsOf(stripe, 'checkout.session.expired')).map((e) => (e.data.object as Stripe.Checkout.Session).id)).toEqual([first.id, second.id]);
    expect((await pay(`${fake.url}/checkout/${second.id}`, 'pm_card_visa')).status).toBe(402);
  });
});

describe('Checkout in setup mode (STRIPE.md §7, converting a trial)', () => {
  it('saves a card through a SetupIntent: completed with no_payment_required; the app reads setup_intent.payment_method', async () => {
    const customer = await clock.customer();
    const created = await stripe.checkout.sessions.create({ mode: 'setup', customer: customer.id, currency: 'usd', setup_intent_data: { metadata: { subscription_id: 'sub_x' } }, success_url: SUCCESS });
    expect(created).toMatchObject({ mode: 'setup', status: 'open', payment_status: 'no_payment_required' });
    expect((await pay(created.url!, 'pm_card_chargeDeclined')).status).toBe(402); // refused when saved
    expect((await pay(created.url!, 'pm_card_visa')).status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(created.id);
    const intent = await stripe.setupIntents.retrieve(done.setup_intent as string);
    expect(intent).toMatchObject({ status: 'succeeded', customer: customer.id, metadata: { subscription_id: 'sub_x' } });
    expect((await stripe.paymentMethods.retrieve(intent.payment_method as string)).customer).toBe(customer.id);
    expect(await eventsOf(stripe, 'setup_intent.succeeded')).toHaveLength(1);
    expect((await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data).toEqual([]);
  });
});

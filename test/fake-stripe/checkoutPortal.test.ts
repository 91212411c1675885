// Checkout in setup mode (STRIPE.md §7, "Checkout in setup mode") and the customer portal (§8): the
// API objects, the hosted pages a person uses (submitted as a browser submits their forms), and the
// events each step sends.
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { PRICE, DAY, eventTypes, rejection, useSimulator } from './simulator';


const sim = useSimulator();

const SUCCESS = 'https://app.test/billing?checkout=complete&session={CHECKOUT_SESSION_ID}';

function setupSession(customer: string, extra: Partial<Stripe.Checkout.SessionCreateParams> = {}) {
  return sim.stripe.checkout.sessions.create({
    mode: 'setup',
    customer,
    currency: 'usd',
    success_url: SUCCESS,
    cancel_url: 'https://app.test/billing?checkout=cancelled',
    client_reference_id: 'tenant-1',
    metadata: { tenantId: 'tenant-1', plan: 'team', seats: '7' },
    setup_intent_data: { metadata: { tenantId: 'tenant-1' } },
    custom_text: { submit: { message: 'Team, 7 seats: $133.00 a month.' } },
    ...extra,
  });
}

/** What a browser does with the hosted page's form: POST it, without following the redirect. */
async function submit(url: string, form: Record<string, string>): Promise<{ status: number; location: string | null; html: string }> {
  const response = await fetch(url, { method: 'POST', body: new URLSearchParams(form), redirect: 'manual' });
  return { status: response.status, location: response.headers.get('location'), html: await response.text() };
}

const page = async (url: string) => (await fetch(url)).text();

describe('Checkout in setup mode', () => {
  it('creates an open session for the customer with a SetupIntent and a hosted page showing the terms', async () => {
    const customer = await sim.clock.customer();
    const session = await setupSession(customer.id);
    expect(session).toMatchObject({
      object: 'checkout.session',
      mode: 'setup',
      status: 'open',
      payment_status: 'no_payment_required',
      customer: customer.id,
      client_reference_id: 'tenant-1',
      metadata: { tenantId: 'tenant-1', plan: 'team', seats: '7' },
      subscription: null,
      expires_at: sim.clock.now + DAY,
    });
    const intent = await sim.stripe.setupIntents.retrieve(session.setup_intent as string);
    expect(intent).toMatchObject({ status: 'requires_payment_method', customer: customer.id, metadata: { tenantId: 'tenant-1' }, payment_method: null });
    const html = await page(session.url!);
    expect(html).toContain('Team, 7 seats: $133.00 a month.');
    expect(html).toContain('Card number');
  });

  it('refuses what it does not model and what Stripe refuses, creating nothing', async () => {
    const customer = await sim.clock.customer();
    await rejection(setupSession(customer.id, { mode: 'subscription' }), 'StripeInvalidRequestError', { param: 'mode', message: /setup mode only/ });
    await rejection(setupSession(customer.id, { currency: undefined }), 'StripeInvalidRequestError', { param: 'currency' });
    await rejection(setupSession('cus_missing'), 'StripeInvalidRequestError', { param: 'customer', code: 'resource_missing' });
    await rejection(setupSession(customer.id, { expires_at: sim.clock.now + 60 }), 'StripeInvalidRequestError', { param: 'expires_at' });
    expect((await sim.stripe.checkout.sessions.list({ customer: customer.id })).data).toEqual([]);
  });

  it('the good card: saved to the customer, the SetupIntent succeeds, the session completes and the browser goes to success_url', async () => {
    const customer = await sim.clock.customer();
    const session = await setupSession(customer.id);
    const before = (await sim.stripe.events.list({ limit: 100 })).data.length;
    const answer = await submit(session.url!, { card_number: '4242 4242 4242 4242', expiry: '12 / 34', cvc: '123' });
    expect(answer.status).toBe(303);
    expect(answer.location).toBe(`https://app.test/billing?checkout=complete&session=${session.id}`);
    const done = await sim.stripe.checkout.sessions.retrieve(session.id, { expand: ['setup_intent'] });
    const intent = done.setup_intent as Stripe.SetupIntent;
    expect([done.status, intent.status]).toEqual(['complete', 'succeeded']);
    const pm = await sim.stripe.paymentMethods.retrieve(intent.payment_method as string);
    expect([pm.customer, pm.card?.last4]).toEqual([customer.id, '4242']);
    // Saving a card does not make it the customer's default: the integration decides that.
    expect((await sim.stripe.customers.retrieve(customer.id) as Stripe.Customer).invoice_settings.default_payment_method).toBeNull();
    const types = (await eventTypes(sim.stripe)).slice(before);
    expect(types).toEqual(['payment_method.attached', 'setup_intent.succeeded', 'checkout.session.completed']);
    const completed = (await sim.stripe.events.list({ type: 'checkout.session.completed' })).data[0];
    expect(completed.created).toBe(sim.clock.now); // on the customer's test sim.clock
    // A completed session's page says so; submitting again changes nothing.
    expect(await page(session.url!)).toContain('This checkout is complete');
    expect((await submit(session.url!, { card_number: '4242424242424242' })).status).toBe(402);
    expect((await sim.stripe.paymentMethods.list({ customer: customer.id })).data).toHaveLength(1);
  });

  it('the declined card: nothing saved, the session stays open and the page says why', async () => {
    const customer = await sim.clock.customer();
    const session = await setupSession(customer.id);
    const answer = await submit(session.url!, { card_number: '4000 0000 0000 0002' });
    expect(answer.status).toBe(402);
    expect(answer.html).toContain('Your card was declined.');
    const after = await sim.stripe.checkout.sessions.retrieve(session.id, { expand: ['setup_intent'] });
    expect(after.status).toBe('open');
    expect((after.setup_intent as Stripe.SetupIntent).last_setup_error).toMatchObject({ code: 'card_declined', decline_code: 'generic_decline' });
    expect((await sim.stripe.paymentMethods.list({ customer: customer.id })).data).toEqual([]);
    expect(await eventTypes(sim.stripe, (e) => e.type.startsWith('checkout.') || e.type.startsWith('payment_method.'))).toEqual([]);
    expect(await eventTypes(sim.stripe, (e) => e.type === 'setup_intent.setup_failed')).toEqual(['setup_intent.setup_failed']);
    // A number that is not a card at all.
    expect((await submit(session.url!, { card_number: '1234' })).html).toContain('Your card number is invalid.');
  });

  it('the card that saves and then declines charges: it is saved (Stripe checks it at setup, not at a charge)', async () => {
    const customer = await sim.clock.customer();
    const session = await setupSession(customer.id);
    expect((await submit(session.url!, { card_number: '4000000000000341' })).status).toBe(303);
    const [pm] = (await sim.stripe.paymentMethods.list({ customer: customer.id })).data;
    expect(pm.card?.last4).toBe('0341');
  });

  it('expires at expires_at on the customer\'s sim.clock, or when expired through the API; an expired session cannot be completed', async () => {
    const customer = await sim.clock.customer();
    const first = await setupSession(customer.id, { expires_at: sim.clock.now + 3600 });
    await sim.clock.advanceBy(3601);
    expect((await sim.stripe.checkout.sessions.retrieve(first.id)).status).toBe('expired');
    const second = await setupSession(customer.id);
    const expired = await sim.stripe.checkout.sessions.expire(second.id);
    expect([expired.status, expired.url]).toEqual(['expired', null]);
    await rejection(sim.stripe.checkout.sessions.expire(second.id), 'StripeInvalidRequestError', { message: /status of "expired"/ });
    expect((await sim.stripe.setupIntents.retrieve(second.setup_intent as string)).status).toBe('canceled');
    expect(await eventTypes(sim.stripe, (e) => e.type === 'checkout.session.expired')).toEqual(['checkout.session.expired', 'checkout.session.expired']);
    expect((await submit(second.url ?? `${sim.fake.url}/hosted/checkout/${second.id}`, { card_number: '4242424242424242' })).html).toContain('expired');
  });
});

// ---------------------------------------------------------------- the customer portal

const UPDATES: Stripe.BillingPortal.ConfigurationCreateParams.Features.SubscriptionUpdate = {
  enabled: true,
  default_allowed_updates: ['price'],
  products: [
    { product: 'prod_starter', prices: [PRICE.starter] },
    { product: 'prod_team', prices: [PRICE.team] },
  ],
  proration_behavior: 'create_prorations',
  trial_update_behavior: 'continue_trial',
};

function configuration(extra: Partial<Stripe.BillingPortal.ConfigurationCreateParams['features']> = {}) {
  return sim.stripe.billingPortal.configurations.create({
    business_profile: { headline: 'Acme billing' },
    features: {
      invoice_history: { enabled: true },
      payment_method_update: { enabled: true },
      subscription_cancel: { enabled: true, mode: 'at_period_end', proration_behavior: 'none' },
      subscription_update: UPDATES,
      ...extra,
    },
  });
}

async function trialing(card?: string) {
  const customer = await sim.clock.customer(card);
  const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team, quantity: 5 }], trial_end: sim.clock.now + 14 * DAY });
  return { customer, sub };
}

describe('customer portal (STRIPE.md §8)', () => {
  it('a session needs a saved configuration: none exists until one is made (the Dashboard, or the API)', async () => {
    const customer = await sim.clock.customer();
    await rejection(sim.stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'https://app.test/billing' }), 'StripeInvalidRequestError', {
      message: /save your customer portal settings/,
    });
    const config = await configuration();
    expect(config.is_default).toBe(false);
    const session = await sim.stripe.billingPortal.sessions.create({ customer: customer.id, configuration: config.id, return_url: 'https://app.test/billing' });
    expect(session).toMatchObject({ object: 'billing_portal.session', customer: customer.id, configuration: config.id, flow: null });
    expect(await page(session.url)).toContain('Acme billing');
  });

  it('changes the plan with the configuration\'s proration; in a trial it continues the trial (continue_trial)', async () => {
    const config = await configuration();
    const { customer, sub } = await trialing();
    const session = await sim.stripe.billingPortal.sessions.create({ customer: customer.id, configuration: config.id, return_url: 'https://app.test/billing' });
    const answer = await submit(session.url, { action: 'update_plan', subscription: sub.id, price: PRICE.starter });
    expect(answer.status).toBe(303);
    expect(await page(session.url)).toContain('Your plan was updated.');
    const after = await sim.stripe.subscriptions.retrieve(sub.id);
    expect([after.status, after.items.data[0].price.id, after.items.data[0].quantity, after.trial_end]).toEqual(['trialing', PRICE.starter, 5, sub.trial_end]);
    // A price the configuration does not offer, and a quantity change it does not allow, are refused.
    await submit(session.url, { action: 'update_plan', subscription: sub.id, price: PRICE.enterprise });
    expect(await page(session.url)).toContain('That plan is not available.');
    await submit(session.url, { action: 'update_quantity', subscription: sub.id, quantity: '1' });
    expect(await page(session.url)).toContain('Changing the quantity is not available here.');
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).items.data[0].quantity).toBe(5);
  });

  it('confirms a seat change deep-linked with subscription_update_confirm, prorated, and redirects after completion', async () => {
    const config = await configuration({ subscription_update: { ...UPDATES, default_allowed_updates: ['price', 'quantity'] } });
    const customer = await sim.clock.customer('pm_card_visa');
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team, quantity: 5 }] });
    await sim.clock.advanceBy(15 * DAY);
    const item = sub.items.data[0].id;
    const session = await sim.stripe.billingPortal.sessions.create({
      customer: customer.id,
      configuration: config.id,
      return_url: 'https://app.test/billing',
      flow_data: {
        type: 'subscription_update_confirm',
        subscription_update_confirm: { subscription: sub.id, items: [{ id: item, quantity: 8 }] },
        after_completion: { type: 'redirect', redirect: { return_url: 'https://app.test/billing?portal=seats' } },
      },
    });
    expect(session.flow).toMatchObject({ type: 'subscription_update_confirm', subscription_update_confirm: { subscription: sub.id, items: [{ id: item, quantity: 8 }] } });
    const html = await page(session.url);
    expect(html).toContain('Confirm your update');
    expect(html).toMatch(/data-testid="portal-new-quantity">8</);
    const answer = await submit(session.url, { action: 'confirm_update' });
    expect([answer.status, answer.location]).toEqual([303, 'https://app.test/billing?portal=seats']);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).items.data[0].quantity).toBe(8);
    const pending = (await sim.stripe.invoiceItems.list({ customer: customer.id, pending: true })).data;
    expect(pending.map((i) => i.proration)).toEqual([true, true]);
    // Confirming twice changes nothing more.
    await submit(session.url, { action: 'confirm_update' });
    expect(await eventTypes(sim.stripe, (e) => e.type === 'customer.subscription.updated' && (e.data.previous_attributes as { items?: unknown })?.items !== undefined)).toHaveLength(1);
  });

  it('refuses a confirm flow the configuration does not allow, for another customer\'s subscription, or with a price it does not offer', async () => {
    const config = await configuration();
    const { customer, sub } = await trialing();
    const other = await sim.clock.customer();
    const flow = (subscription: string, items: Array<{ id: string; quantity?: number; price?: string }>) => ({
      type: 'subscription_update_confirm' as const,
      subscription_update_confirm: { subscription, items },
    });
    const item = sub.items.data[0].id;
    await rejection(sim.stripe.billingPortal.sessions.create({ customer: other.id, configuration: config.id, return_url: 'https://app.test', flow_data: flow(sub.id, [{ id: item, quantity: 3 }]) }), 'StripeInvalidRequestError', {
      code: 'resource_missing',
    });
    await rejection(
      sim.stripe.billingPortal.sessions.create({ customer: customer.id, configuration: config.id, return_url: 'https://app.test', flow_data: flow(sub.id, [{ id: item, price: PRICE.enterprise }]) }),
      'StripeInvalidRequestError',
      { message: /not in features.subscription_update.products/ },
    );
    const noUpdates = await configuration({ subscription_update: { enabled: false } });
    await rejection(sim.stripe.billingPortal.sessions.create({ customer: customer.id, configuration: noUpdates.id, return_url: 'https://app.test', flow_data: flow(sub.id, [{ id: item, quantity: 3 }]) }), 'StripeInvalidRequestError', {
      message: /needs features.subscription_update/,
    });
  });

  it('S5: a confirm deep link with a quantity needs `quantity` in default_allowed_updates (the simulator\'s default answer); with the setting off it is taken', async () => {
    const { customer, sub } = await trialing();
    const item = sub.items.data[0].id;
    const seats = (config: string) =>
      sim.stripe.billingPortal.sessions.create({
        customer: customer.id,
        configuration: config,
        return_url: 'https://app.test',
        flow_data: { type: 'subscription_update_confirm', subscription_update_confirm: { subscription: sub.id, items: [{ id: item, quantity: 8 }] } },
      });
    const priceOnly = await configuration();
    await rejection(seats(priceOnly.id), 'StripeInvalidRequestError', { param: 'flow_data[subscription_update_confirm][items][0][quantity]', message: /does not allow quantity changes/ });
    const withQuantity = await configuration({ subscription_update: { ...UPDATES, default_allowed_updates: ['price', 'quantity'] } });
    expect((await seats(withQuantity.id)).flow?.subscription_update_confirm?.items).toEqual([{ id: item, quantity: 8 }]);
    // The other answer (STRIPE.md §8 is silent): Stripe may take the deep link whatever the configuration allows.
    sim.fake.configure({ billing: { portalConfirmNeedsAllowedUpdates: false } });
    try {
      expect((await seats(priceOnly.id)).flow?.subscription_update_confirm?.items).toEqual([{ id: item, quantity: 8 }]);
    } finally {
      sim.fake.configure({ billing: { portalConfirmNeedsAllowedUpdates: true } });
    }
  });

  it('cancels at the period end (flexible mode: cancel_at), renews, and ends the subscription when its sim.clock passes the end', async () => {
    const config = await configuration();
    const customer = await sim.clock.customer('pm_card_visa');
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team, quantity: 5 }] });
    const end = sub.items.data[0].current_period_end;
    const session = await sim.stripe.billingPortal.sessions.create({ customer: customer.id, configuration: config.id, return_url: 'https://app.test/billing' });
    await submit(session.url, { action: 'cancel', subscription: sub.id });
    expect(await sim.stripe.subscriptions.retrieve(sub.id)).toMatchObject({ status: 'active', cancel_at: end, cancel_at_period_end: false });
    expect(await page(session.url)).toContain('Cancels on');
    await submit(session.url, { action: 'renew', subscription: sub.id });
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).cancel_at).toBeNull();
    await submit(session.url, { action: 'cancel', subscription: sub.id });
    await sim.clock.advanceTo(end + 1);
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).status).toBe('canceled');
    expect(await eventTypes(sim.stripe, (e) => e.type === 'customer.subscription.deleted')).toEqual(['customer.subscription.deleted']);
  });

  it('replaces the card: attached, the customer\'s default, and a subscription-level default removed; a declined card changes nothing', async () => {
    const config = await configuration();
    const customer = await sim.clock.customer('pm_card_visa');
    const first = (customer.invoice_settings.default_payment_method as string);
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }], default_payment_method: first });
    const session = await sim.stripe.billingPortal.sessions.create({ customer: customer.id, configuration: config.id, return_url: 'https://app.test/billing' });
    await submit(session.url, { action: 'update_card', card_number: '4000000000000002' });
    expect(await page(session.url)).toContain('Your card was declined.');
    expect(((await sim.stripe.customers.retrieve(customer.id)) as Stripe.Customer).invoice_settings.default_payment_method).toBe(first);
    await submit(session.url, { action: 'update_card', card_number: '5555 5555 5555 4444' });
    const updated = (await sim.stripe.customers.retrieve(customer.id)) as Stripe.Customer;
    const card = await sim.stripe.paymentMethods.retrieve(updated.invoice_settings.default_payment_method as string);
    expect(card.card?.last4).toBe('4444');
    expect((await sim.stripe.subscriptions.retrieve(sub.id)).default_payment_method).toBeNull();
    expect(await page(session.url)).toContain('ending in 4444');
  });
});

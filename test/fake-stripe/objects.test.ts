// Object shapes at the pinned API version (STRIPE.md §0: basil and later), prices from the catalog,
// and payment methods from Stripe's test tokens (attach, default, decline on attach).
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { PLANS } from '../../functions/src/domain/plans';
import { DEFAULT_CATALOG } from '../../tools/fake-stripe/catalog';
import { PRICE, eventsOf, rejection, useSimulator } from './simulator';


const sim = useSimulator();

describe('shapes at the pinned API version (STRIPE.md §0)', () => {
  it('the SDK is pinned to the version the simulator renders', () => {
    expect(Stripe.API_VERSION).toBe('2026-10-28.endive');
  });

  it('subscription: no current_period_* (they are on the items), billing_mode flexible by default, test_clock, trial_settings', async () => {
    const customer = await sim.clock.customer('pm_card_visa');
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team, quantity: 4 }] });
    expect(sub).not.toHaveProperty('current_period_start');
    expect(sub).not.toHaveProperty('current_period_end');
    const [item] = sub.items.data;
    expect(item.current_period_start).toBe(sim.clock.now);
    expect(item.current_period_end).toBe(Date.UTC(2027, 3, 1) / 1000);
    expect(item.price).toMatchObject({ id: PRICE.team, object: 'price', unit_amount: 1900, recurring: { interval: 'month', interval_count: 1 } });
    expect(item.quantity).toBe(4);
    expect(sub.billing_mode.type).toBe('flexible');
    expect(sub).toMatchObject({ collection_method: 'charge_automatically', currency: 'usd', test_clock: sim.clock.id, pending_update: null, pause_collection: null });
    expect(typeof sub.latest_invoice).toBe('string');
  });

  it('invoice: parent.subscription_details instead of subscription; no paid, payment_intent or charge; payments when expanded', async () => {
    const customer = await sim.clock.customer('pm_card_visa');
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }], metadata: { tenantId: 't1' } });
    const invoice = await sim.stripe.invoices.retrieve(sub.latest_invoice as string, { expand: ['payments'] });
    for (const gone of ['subscription', 'subscription_details', 'paid', 'payment_intent', 'charge', 'paid_out_of_band']) expect(invoice).not.toHaveProperty(gone);
    expect(invoice.parent).toEqual({ type: 'subscription_details', quote_details: null, subscription_details: { metadata: { tenantId: 't1' }, subscription: sub.id } });
    const line = invoice.lines.data[0];
    expect(line.parent?.subscription_item_details).toMatchObject({ subscription: sub.id, subscription_item: sub.items.data[0].id, proration: false });
    expect(invoice.payments?.data[0]).toMatchObject({ object: 'invoice_payment', status: 'paid', amount_paid: 1900, payment: { type: 'payment_intent' } });
    const intent = await sim.stripe.paymentIntents.retrieve((invoice.payments!.data[0].payment as { payment_intent: string }).payment_intent);
    expect(intent).toMatchObject({ status: 'succeeded', amount: 1900, customer: customer.id });
    expect(intent).not.toHaveProperty('invoice');
  });

  it('expands nested ids (latest_invoice, customer, items.data.price.product) and refuses what cannot be expanded', async () => {
    const customer = await sim.clock.customer('pm_card_visa');
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }] });
    const expanded = await sim.stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice', 'customer', 'items.data.price.product', 'default_payment_method'] });
    expect((expanded.latest_invoice as Stripe.Invoice).object).toBe('invoice');
    expect((expanded.customer as Stripe.Customer).id).toBe(customer.id);
    expect((expanded.items.data[0].price.product as Stripe.Product).name).toBe('Team');
    expect(expanded.default_payment_method).toBeNull();
    await rejection(sim.stripe.subscriptions.retrieve(sub.id, { expand: ['status'] }), 'StripeInvalidRequestError', { param: 'expand' });
    const listed = await sim.stripe.subscriptions.list({ expand: ['data.customer'] });
    expect((listed.data[0].customer as Stripe.Customer).email).toBe('billing@acme.test');
  });
});

describe('prices', () => {
  it('every plan\'s price exists in a fresh account (the sandbox catalog), found by its lookup key, as a recurring per-seat price', async () => {
    const keys = Object.values(PLANS).map((plan) => plan.stripeLookupKey);
    const found = (await sim.stripe.prices.list({ lookup_keys: keys })).data;
    expect(found.map((p) => p.lookup_key).sort()).toEqual([...keys].sort());
    for (const price of found) expect(price).toMatchObject({ active: true, type: 'recurring', billing_scheme: 'per_unit' });
    expect(DEFAULT_CATALOG.map((p) => p.lookup_key).sort()).toEqual([...keys].sort());
  });

  it('L7/S3: catalog prices get ids Stripe-made like (price_ and 24 letters and digits), never the plan\'s name', async () => {
    const ids = (await sim.stripe.prices.list({ limit: 100 })).data.map((p) => p.id);
    for (const id of ids) expect(id).toMatch(/^price_[A-Za-z0-9]{24}$/);
    for (const name of ['price_starter_monthly', 'price_team_monthly', 'price_enterprise_annual']) {
      await rejection(sim.stripe.prices.retrieve(name), 'StripeInvalidRequestError', { code: 'resource_missing' });
    }
  });

  it('refuses an unknown price id, as Stripe does, and creates nothing', async () => {
    const customer = await sim.clock.customer('pm_card_visa');
    await rejection(sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: 'price_nope' }] }), 'StripeInvalidRequestError', {
      statusCode: 400,
      code: 'resource_missing',
      param: 'items[0][price]',
      message: /No such price: 'price_nope'/,
    });
    expect((await sim.stripe.subscriptions.list({ status: 'all' })).data).toEqual([]);
  });

  it('creates products and prices through the API, findable by lookup_key', async () => {
    const price = await sim.stripe.prices.create({ currency: 'usd', unit_amount: 500, recurring: { interval: 'week' }, product_data: { name: 'Weekly' }, lookup_key: 'weekly' });
    expect(price.id).toMatch(/^price_/);
    expect((await sim.stripe.prices.list({ lookup_keys: ['weekly'] })).data.map((p) => p.id)).toEqual([price.id]);
    expect((await sim.stripe.products.retrieve(price.product as string)).name).toBe('Weekly');
    expect((await eventsOf(sim.stripe, 'price.created')).map((e) => (e.data.object as Stripe.Price).id)).toEqual([price.id]);
  });
});

describe('payment methods from test tokens', () => {
  it('attaching pm_card_visa makes a new pm_… card on the customer (payment_method.attached); it is not the default by itself', async () => {
    const customer = await sim.clock.customer();
    const pm = await sim.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    expect(pm.id).toMatch(/^pm_/);
    expect(pm.id).not.toBe('pm_card_visa');
    expect(pm).toMatchObject({ object: 'payment_method', type: 'card', customer: customer.id, card: { brand: 'visa', last4: '4242' } });
    expect((await sim.stripe.customers.retrieve(customer.id) as Stripe.Customer).invoice_settings.default_payment_method).toBeNull();
    expect((await sim.stripe.customers.listPaymentMethods(customer.id)).data.map((p) => p.id)).toEqual([pm.id]);
    expect(await eventsOf(sim.stripe, 'payment_method.attached')).toHaveLength(1);
  });

  it('customers.create({ payment_method, invoice_settings.default_payment_method }) with the same token attaches and defaults it', async () => {
    const customer = await sim.clock.customer('pm_card_mastercard');
    const pmId = customer.invoice_settings.default_payment_method as string;
    expect(pmId).toMatch(/^pm_/);
    expect((await sim.stripe.paymentMethods.retrieve(pmId)).card?.brand).toBe('mastercard');
  });

  it('a declining test card (pm_card_chargeDeclined) is refused when attached: 402 card_declined, nothing attached', async () => {
    const customer = await sim.clock.customer();
    const error = await rejection(sim.stripe.paymentMethods.attach('pm_card_chargeDeclined', { customer: customer.id }), 'StripeCardError', { statusCode: 402, code: 'card_declined' });
    expect(error.decline_code).toBe('generic_decline');
    expect((await sim.stripe.customers.listPaymentMethods(customer.id)).data).toEqual([]);
    await rejection(sim.stripe.paymentMethods.attach('pm_card_chargeDeclinedInsufficientFunds', { customer: customer.id }), 'StripeCardError', { statusCode: 402 });
  });

  it('pm_card_chargeCustomerFail attaches, then every charge to it fails', async () => {
    const customer = await sim.clock.customer('pm_card_chargeCustomerFail');
    const sub = await sim.stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE.team }], expand: ['latest_invoice'] });
    expect(sub.status).toBe('incomplete');
    expect((sub.latest_invoice as Stripe.Invoice).attempt_count).toBe(1);
  });

  it('a default payment method must be attached to the customer; detaching the default clears it (customer.updated)', async () => {
    const customer = await sim.clock.customer('pm_card_visa');
    const other = await sim.clock.customer();
    const pm = customer.invoice_settings.default_payment_method as string;
    await rejection(sim.stripe.customers.update(other.id, { invoice_settings: { default_payment_method: pm } }), 'StripeInvalidRequestError', { statusCode: 400 });
    await rejection(sim.stripe.subscriptions.create({ customer: other.id, items: [{ price: PRICE.team }], default_payment_method: pm }), 'StripeInvalidRequestError', { param: 'default_payment_method' });
    await sim.stripe.paymentMethods.detach(pm);
    expect((await sim.stripe.customers.retrieve(customer.id) as Stripe.Customer).invoice_settings.default_payment_method).toBeNull();
    expect((await eventsOf(sim.stripe, 'customer.updated')).at(-1)!.data.previous_attributes).toEqual({ invoice_settings: { default_payment_method: pm } });
    await rejection(sim.stripe.paymentMethods.attach('pm_card_nonexistent', { customer: customer.id }), 'StripeInvalidRequestError', { code: 'resource_missing' });
  });
});

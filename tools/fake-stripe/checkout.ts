// Stripe Checkout in subscription and setup mode (STRIPE.md §7): sessions through the API, a hosted
// page that pays with a test card, and completion as Stripe does it (a new subscription, or a saved
// card through a SetupIntent), with checkout.session.completed / .expired.
import { productName } from './billing';
import { TEST_CARDS } from './catalog';
import { ctxOf, type Call, type Handler } from './call';
import { attachPaymentMethod, createCustomer, liveCustomer } from './customers';
import { invalidParam, missingParam, noSuch, stateError } from './errors';
import type { FormObject, FormValue } from './form';
import { newId } from './ids';
import { allowOnly, applyMetadata, expandList, optArray, optEnum, optHash, optInteger, optString, parseInteger, requiredString, type Json } from './params';
import { findPrice } from './prices';
import { expireSession } from './scheduler';
import { emit, type Account, type CheckoutMeta, type CheckoutSession, type Rec } from './state';
import { createSubscription } from './subscriptions';
import { defaultClock } from './testClocks';
import { DAY, HOUR } from './time';
import { expand, paginate } from './views';

type SessionRec = Rec<CheckoutSession, CheckoutMeta>;

function readSubscriptionData(params: FormObject, now: number): FormObject {
  const data = optHash(params, 'subscription_data');
  if (!data) return {};
  allowOnly(data, ['metadata', 'trial_end', 'trial_period_days', 'trial_settings', 'description'], 'subscription_data');
  applyMetadata({}, data.metadata, 'subscription_data[metadata]');
  const trialEnd = parseInteger(data.trial_end, 'subscription_data[trial_end]');
  // Checkout wants a trial end at least 48 hours ahead (STRIPE.md §7).
  if (trialEnd !== undefined && trialEnd < now + 48 * HOUR) throw invalidParam('subscription_data[trial_end]', 'The `trial_end` date has to be at least 2 days in the future.');
  optInteger(data, 'trial_period_days', { min: 1, max: 730 }, 'subscription_data[trial_period_days]');
  optString(data, 'description', 'subscription_data[description]');
  return data;
}

function readLineItems(account: Account, params: FormObject): Array<{ price: string; quantity: number }> {
  const items = optArray(params, 'line_items');
  if (!items || items.length === 0) throw missingParam('line_items');
  return items.map((raw, i) => {
    const param = `line_items[${i}]`;
    if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidParam(param, 'Invalid hash', 'parameter_invalid_hash');
    allowOnly(raw, ['price', 'quantity'], param);
    const price = requiredString(raw, 'price', `${param}[price]`);
    findPrice(account, price, `${param}[price]`);
    return { price, quantity: optInteger(raw, 'quantity', { min: 1 }, `${param}[quantity]`) ?? 1 };
  });
}

/** The clock a session's objects live on: its customer's, or the local default clock for a customer Checkout will make. */
function sessionClock(account: Account, customerId: string | undefined): string | null {
  if (customerId) return account.customers.get(customerId)?.value.test_clock ?? null;
  return account.env.defaultTestClock ? defaultClock(account).id : null;
}

export const createCheckoutSession: Handler = (call) => {
  const { params, account } = call;
  allowOnly(params, [
    'mode', 'customer', 'customer_email', 'line_items', 'client_reference_id', 'metadata', 'subscription_data', 'success_url', 'cancel_url',
    'expires_at', 'payment_method_collection', 'currency', 'setup_intent_data', 'payment_method_types', 'locale', 'ui_mode', 'expand',
  ]);
  const paths = expandList(params);
  const mode = optEnum(params, 'mode', ['subscription', 'setup', 'payment'] as const);
  if (!mode) throw missingParam('mode');
  if (mode === 'payment') throw invalidParam('mode', 'fake-stripe models Checkout in subscription and setup mode only.');
  optEnum(params, 'ui_mode', ['hosted'] as const);
  const customerId = optString(params, 'customer');
  const customerEmail = optString(params, 'customer_email');
  if (customerId && customerEmail) throw invalidParam('customer_email', 'You may only specify one of these parameters: customer, customer_email.');
  const successUrl = requiredString(params, 'success_url');
  const cancelUrl = optString(params, 'cancel_url') ?? null;
  const reference = optString(params, 'client_reference_id') ?? null;
  if (reference !== null && reference.length > 200) throw invalidParam('client_reference_id', 'client_reference_id can be at most 200 characters long.');
  const metadata = applyMetadata({}, params.metadata);
  const types = optArray(params, 'payment_method_types');
  if (types && !types.every((t) => t === 'card')) throw invalidParam('payment_method_types', 'fake-stripe models card payments only.');
  optString(params, 'locale');
  const collection = optEnum(params, 'payment_method_collection', ['always', 'if_required'] as const);
  if (collection && mode !== 'subscription') throw invalidParam('payment_method_collection', 'payment_method_collection is only available in subscription mode.');
  const clockNow = account.clockTime(customerId ? account.customers.get(customerId)?.value.test_clock ?? null : null);
  const expiresAt = parseInteger(params.expires_at, 'expires_at');
  // Between 30 minutes and 24 hours from now; 24 hours by default (STRIPE.md §7).
  if (expiresAt !== undefined && (expiresAt < clockNow + 30 * 60 || expiresAt > clockNow + DAY)) {
    throw invalidParam('expires_at', 'The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.', 'parameter_invalid_integer');
  }
  let lineItems: CheckoutMeta['lineItems'] = [];
  let subscriptionData: FormObject = {};
  let setupData: FormObject = {};
  let currency: string | null = null;
  if (mode === 'subscription') {
    lineItems = readLineItems(account, params);
    subscriptionData = readSubscriptionData(params, clockNow);
    if (params.setup_intent_data !== undefined) throw invalidParam('setup_intent_data', 'setup_intent_data is only available in setup mode.');
    currency = findPrice(account, lineItems[0].price, 'line_items[0][price]').currency;
  } else {
    if (params.line_items !== undefined) throw invalidParam('line_items', 'line_items cannot be used in setup mode.');
    if (params.subscription_data !== undefined) throw invalidParam('subscription_data', 'subscription_data is only available in subscription mode.');
    setupData = (optHash(params, 'setup_intent_data') || {}) as FormObject;
    allowOnly(setupData, ['metadata', 'description'], 'setup_intent_data');
    applyMetadata({}, setupData.metadata, 'setup_intent_data[metadata]');
    currency = optString(params, 'currency')?.toLowerCase() ?? null;
  }

  // Executed from here.
  if (customerId) liveCustomer(account, customerId, 'customer', 400);
  const clock = sessionClock(account, customerId);
  const ctx = ctxOf(call, clock);
  const id = newId('cs_test', 58);
  const trial = subscriptionData.trial_end !== undefined || subscriptionData.trial_period_days !== undefined;
  const total = lineItems.reduce((sum, item) => sum + account.prices.get(item.price)!.value.unit_amount * item.quantity, 0);
  let setupIntent: string | null = null;
  if (mode === 'setup') {
    setupIntent = newId('seti', 24);
    const intent: Json & { id: string } = {
      id: setupIntent,
      object: 'setup_intent',
      application: null,
      automatic_payment_methods: null,
      cancellation_reason: null,
      client_secret: `${setupIntent}_secret_${newId('x', 24).slice(2)}`,
      created: ctx.now,
      customer: customerId ?? null,
      description: (setupData.description as string | undefined) ?? null,
      last_setup_error: null,
      latest_attempt: null,
      livemode: false,
      mandate: null,
      metadata: applyMetadata({}, setupData.metadata, 'setup_intent_data[metadata]'),
      next_action: null,
      on_behalf_of: null,
      payment_method: null,
      payment_method_options: null,
      payment_method_types: ['card'],
      single_use_mandate: null,
      status: 'requires_payment_method',
      usage: 'off_session',
    };
    account.add(account.setupIntents, intent, {});
    emit(ctx, 'setup_intent.created', intent);
  }
  const session: CheckoutSession = {
    id,
    object: 'checkout.session',
    after_expiration: null,
    allow_promotion_codes: null,
    amount_subtotal: mode === 'subscription' ? total : null,
    amount_total: mode === 'subscription' ? (trial ? 0 : total) : null,
    automatic_tax: { enabled: false, liability: null, status: null },
    billing_address_collection: null,
    cancel_url: cancelUrl,
    client_reference_id: reference,
    client_secret: null,
    created: ctx.now,
    currency,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: customerId ?? null,
    customer_creation: customerId || mode !== 'subscription' ? null : 'always',
    customer_details: null,
    customer_email: customerEmail ?? null,
    expires_at: expiresAt ?? ctx.now + DAY,
    invoice: null,
    livemode: false,
    locale: null,
    metadata,
    mode,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: mode === 'subscription' ? collection ?? 'always' : null,
    payment_method_types: ['card'],
    payment_status: mode === 'setup' ? 'no_payment_required' : 'unpaid',
    setup_intent: setupIntent,
    status: 'open',
    subscription: null,
    success_url: successUrl,
    total_details: mode === 'subscription' ? { amount_discount: 0, amount_shipping: 0, amount_tax: 0 } : null,
    ui_mode: 'hosted',
    url: `${account.env.baseUrl()}/checkout/${id}`,
  };
  account.add(account.checkoutSessions, session, { clock, lineItems, subscriptionData });
  return expand(account, session, paths);
};

function findSession(account: Account, id: string): SessionRec {
  const rec = account.checkoutSessions.get(id);
  if (!rec) throw noSuch('checkout.session', id);
  return rec;
}

/** The session's line items (only when expanded, or through /line_items, as Stripe does). */
export function lineItemsOf(account: Account, rec: SessionRec): Json {
  const data = rec.meta.lineItems.map((item, i) => {
    const price = account.prices.get(item.price)!.value;
    const amount = price.unit_amount * item.quantity;
    return {
      id: `li_${rec.value.id.slice(8, 30)}${i}`,
      object: 'item',
      amount_discount: 0,
      amount_subtotal: amount,
      amount_tax: 0,
      amount_total: amount,
      currency: price.currency,
      description: productName(account, price),
      price,
      quantity: item.quantity,
    };
  });
  return { object: 'list', data, has_more: false, url: `/v1/checkout/sessions/${rec.value.id}/line_items` };
}

export const retrieveCheckoutSession: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  const rec = findSession(call.account, id);
  const paths = expandList(call.params);
  const view = paths.includes('line_items') ? { ...rec.value, line_items: lineItemsOf(call.account, rec) } : rec.value;
  return expand(call.account, view, paths.filter((p) => p !== 'line_items'));
};

export const listCheckoutLineItems: Handler = (call, id) => {
  allowOnly(call.params, ['limit', 'starting_after', 'ending_before', 'expand']);
  return lineItemsOf(call.account, findSession(call.account, id));
};

export const listCheckoutSessions: Handler = (call) => {
  allowOnly(call.params, ['customer', 'subscription', 'status', 'limit', 'starting_after', 'ending_before', 'expand']);
  const customer = optString(call.params, 'customer');
  const subscription = optString(call.params, 'subscription');
  const status = optEnum(call.params, 'status', ['open', 'complete', 'expired'] as const);
  return paginate(
    call.account.checkoutSessions.values(),
    (s) => (customer === undefined || s.customer === customer) && (subscription === undefined || s.subscription === subscription) && (status === undefined || s.status === status),
    call.params,
    '/v1/checkout/sessions',
    'checkout.session',
  );
};

export const expireCheckoutSession: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  const rec = findSession(call.account, id);
  if (rec.value.status !== 'open') throw stateError(`Only Checkout Sessions with a status in ["open"] can be expired. This session has status "${rec.value.status}".`);
  expireSession(ctxOf(call, rec.meta.clock), rec);
  return rec.value;
};

export const retrieveSetupIntent: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  const rec = call.account.setupIntents.get(id);
  if (!rec) throw noSuch('setup_intent', id);
  return expand(call.account, rec.value, expandList(call.params));
};

// ---------------------------------------------------------------- completion (the hosted page's Pay)

export type CompletionResult = { ok: true; redirect: string } | { ok: false; message: string };

const form = (value: unknown): FormValue => (typeof value === 'number' ? String(value) : (value as FormValue));

/**
 * What pressing Pay (or Save) on the hosted page does. A card that declines refuses the payment and
 * nothing is created, the session stays open, as Checkout shows the error and lets the customer retry.
 */
export function completeCheckout(account: Account, rec: SessionRec, input: { card: string | null; email: string | null }, requestId: string): CompletionResult {
  const session = rec.value;
  if (session.status !== 'open') return { ok: false, message: 'This Checkout Session is no longer active.' };
  const call: Call = { account, params: {}, requestId, idempotencyKey: null };
  const ctx = ctxOf(call, rec.meta.clock);
  if (session.expires_at <= ctx.now) {
    expireSession(ctx, rec);
    return { ok: false, message: 'This Checkout Session has expired.' };
  }
  const test = input.card ? TEST_CARDS[input.card] : undefined;
  if (input.card && !test) return { ok: false, message: `Unknown test card ${input.card}.` };
  const dueNow = session.mode === 'subscription' ? Number(session.amount_total) : 0;
  const needsCard = session.mode === 'setup' || session.payment_method_collection === 'always' || dueNow > 0;
  if (needsCard && !test) return { ok: false, message: 'Choose a card to continue.' };
  if (test && test.behavior.attach !== 'succeed') return { ok: false, message: test.behavior.attach.message };
  if (test && dueNow > 0 && test.behavior.charge !== 'succeed') return { ok: false, message: test.behavior.charge.message };

  let customerId = session.customer;
  if (!customerId) {
    const email = (session.customer_email as string | null) ?? input.email;
    if (!email) return { ok: false, message: 'Enter an email address.' };
    const params: FormObject = { email };
    if (rec.meta.clock && rec.meta.clock !== account.defaultClockId) params.test_clock = rec.meta.clock;
    customerId = (createCustomer({ ...call, params }, '', '') as { id: string }).id;
  }
  const customer = liveCustomer(account, customerId).value;
  const pm = input.card ? attachPaymentMethod(ctx, input.card, customerId, 'payment_method') : null;
  session.customer = customerId;
  session.customer_details = { address: null, email: customer.email, name: customer.name, phone: null, tax_exempt: 'none', tax_ids: [] };

  if (session.mode === 'setup') {
    const intent = account.setupIntents.get(String(session.setup_intent))!.value;
    Object.assign(intent, { customer: customerId, payment_method: pm!.value.id, status: 'succeeded' });
    emit(ctx, 'setup_intent.succeeded', intent);
  } else {
    const data = rec.meta.subscriptionData as FormObject;
    const params: FormObject = {
      customer: customerId,
      items: rec.meta.lineItems.map((item) => ({ price: item.price, quantity: String(item.quantity) })),
      metadata: (data.metadata as FormObject | undefined) ?? ({} as FormObject),
      payment_behavior: 'error_if_incomplete',
    };
    for (const key of ['trial_end', 'trial_period_days', 'trial_settings', 'description'] as const) if (data[key] !== undefined) params[key] = form(data[key]);
    // The card paid with becomes the subscription's default payment method, as Checkout sets it.
    if (pm) params.default_payment_method = pm.value.id;
    const sub = createSubscription({ ...call, params }, '', '') as { id: string; latest_invoice: string };
    session.subscription = sub.id;
    session.invoice = sub.latest_invoice;
    session.payment_status = dueNow > 0 ? 'paid' : 'no_payment_required';
  }
  session.status = 'complete';
  session.url = null;
  emit(ctx, 'checkout.session.completed', session);
  return { ok: true, redirect: String(session.success_url).replace('{CHECKOUT_SESSION_ID}', session.id) };
}

// Stripe Checkout in setup mode (STRIPE.md §7, "Checkout in setup mode"): a session that collects a
// card for an existing customer through a hosted page, its SetupIntent, and the session's end
// (completed, or expired at `expires_at`). Payment and subscription mode are not modelled: this
// product converts a trial by giving its existing subscription a card (docs/billing.md).
import { ctxOf, type Call, type Handler } from './call';
import { attachPaymentMethod, liveCustomer } from './customers';
import { ApiError, invalidParam, missingParam, noSuch, stateError } from './errors';
import { newId } from './ids';
import { allowOnly, applyMetadata, expandList, optArray, optEnum, optHash, optInteger, optString, requiredString } from './params';
import { AUTOMATIC, emit, type Account, type CheckoutSession, type Ctx, type Rec, type CheckoutSessionMeta, type SetupIntent } from './state';
import { HOUR } from './time';
import { expand, paginate } from './views';

export type SessionRec = Rec<CheckoutSession, CheckoutSessionMeta>;

const MIN_EXPIRY = HOUR / 2;
const MAX_EXPIRY = 24 * HOUR;

const CREATE_PARAMS = [
  'mode', 'customer', 'success_url', 'cancel_url', 'client_reference_id', 'metadata', 'currency', 'payment_method_types',
  'setup_intent_data', 'custom_text', 'expires_at', 'locale', 'ui_mode', 'expand',
];

function readCustomText(call: Call): CheckoutSession['custom_text'] {
  const text = optHash(call.params, 'custom_text');
  const empty = { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null };
  if (!text) return empty;
  allowOnly(text, ['submit', 'after_submit'], 'custom_text');
  const message = (key: 'submit' | 'after_submit') => {
    const hash = optHash(text, key, `custom_text[${key}]`);
    if (!hash) return null;
    allowOnly(hash, ['message'], `custom_text[${key}]`);
    const value = requiredString(hash, 'message', `custom_text[${key}][message]`);
    if (value.length > 1200) throw invalidParam(`custom_text[${key}][message]`, 'Text can be up to 1200 characters in length.');
    return { message: value };
  };
  return { ...empty, submit: message('submit'), after_submit: message('after_submit') };
}

function url(value: string | undefined, param: string): string | undefined {
  if (value === undefined) return undefined;
  if (!/^https?:\/\/\S+$/.test(value)) throw invalidParam(param, `Not a valid URL`, 'url_invalid');
  return value;
}

/** `POST /v1/checkout/sessions` (mode=setup): a SetupIntent for the customer, and the hosted page's URL. */
export const createCheckoutSession: Handler = (call) => {
  const { params, account } = call;
  allowOnly(params, CREATE_PARAMS);
  const paths = expandList(params);
  const mode = optEnum(params, 'mode', ['payment', 'setup', 'subscription'] as const);
  if (!mode) throw missingParam('mode');
  if (mode !== 'setup') {
    throw invalidParam('mode', `fake-stripe models Checkout in setup mode only (mode=${mode} is not implemented; see docs/fake-stripe.md).`);
  }
  const uiMode = optEnum(params, 'ui_mode', ['hosted', 'embedded', 'custom'] as const) ?? 'hosted';
  if (uiMode !== 'hosted') throw invalidParam('ui_mode', 'fake-stripe models the Stripe-hosted page only (ui_mode=hosted).');
  const successUrl = url(optString(params, 'success_url'), 'success_url');
  if (!successUrl) throw missingParam('success_url');
  const cancelUrl = url(optString(params, 'cancel_url'), 'cancel_url') ?? null;
  const reference = optString(params, 'client_reference_id');
  if (reference !== undefined && (reference.length === 0 || reference.length > 200)) {
    throw invalidParam('client_reference_id', 'client_reference_id must be between 1 and 200 characters long.');
  }
  const types = optArray(params, 'payment_method_types');
  if (types && !types.every((t) => t === 'card')) throw invalidParam('payment_method_types', 'fake-stripe models card payment methods only.');
  const currency = optString(params, 'currency');
  // Setup mode with dynamic payment methods needs the currency the card will be charged in.
  if (!types && !currency) throw invalidParam('currency', 'currency is required in setup mode when payment_method_types is not set.', 'parameter_missing');
  if (currency !== undefined && !/^[a-z]{3}$/.test(currency)) throw invalidParam('currency', `Invalid currency: ${currency}`);
  optString(params, 'locale');
  const setupData = optHash(params, 'setup_intent_data');
  if (setupData) allowOnly(setupData, ['metadata', 'description'], 'setup_intent_data');
  const setupMetadata = applyMetadata({}, setupData ? setupData.metadata : undefined, 'setup_intent_data[metadata]');
  const metadata = applyMetadata({}, params.metadata);
  const customText = readCustomText(call);
  const customerId = optString(params, 'customer');
  if (!customerId) throw invalidParam('customer', 'fake-stripe models setup sessions for an existing customer: pass `customer`.', 'parameter_missing');
  const expiresAt = optInteger(params, 'expires_at');

  // Executed from here.
  const customer = liveCustomer(account, customerId, 'customer', 400);
  const clock = customer.value.test_clock;
  const ctx = ctxOf(call, clock);
  const expires = expiresAt ?? ctx.now + MAX_EXPIRY;
  if (expires < ctx.now + MIN_EXPIRY || expires > ctx.now + MAX_EXPIRY) {
    throw stateError('The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.', 'expires_at');
  }
  const intent: SetupIntent = {
    id: newId('seti', 24),
    object: 'setup_intent',
    application: null,
    cancellation_reason: null,
    client_secret: `${newId('seti', 24)}_secret_${newId('x', 24).slice(2)}`,
    created: ctx.now,
    customer: customerId,
    description: setupData && typeof setupData.description === 'string' ? setupData.description : null,
    last_setup_error: null,
    livemode: false,
    metadata: setupMetadata,
    payment_method: null,
    payment_method_types: ['card'],
    status: 'requires_payment_method',
    usage: 'off_session',
  };
  account.add(account.setupIntents, intent, {});
  const id = newId('cs_test', 58);
  const session: CheckoutSession = {
    id,
    object: 'checkout.session',
    amount_subtotal: null,
    amount_total: null,
    cancel_url: cancelUrl,
    client_reference_id: reference ?? null,
    created: ctx.now,
    currency: currency ?? null,
    custom_text: customText,
    customer: customerId,
    customer_details: { email: customer.value.email, name: customer.value.name },
    customer_email: null,
    expires_at: expires,
    invoice: null,
    livemode: false,
    locale: null,
    metadata,
    mode: 'setup',
    payment_intent: null,
    payment_method_types: ['card'],
    payment_status: 'no_payment_required',
    setup_intent: intent.id,
    status: 'open',
    subscription: null,
    success_url: successUrl,
    ui_mode: 'hosted',
    url: `${account.env.baseUrl()}/hosted/checkout/${id}`,
  };
  account.add(account.checkoutSessions, session, { clock, lastError: null });
  emit(ctx, 'setup_intent.created', intent);
  return expand(account, session, paths);
};

function findSession(account: Account, id: string): SessionRec {
  const rec = account.checkoutSessions.get(id);
  if (!rec) throw noSuch('checkout.session', id);
  return rec;
}

export const retrieveCheckoutSession: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  return expand(call.account, findSession(call.account, id).value, expandList(call.params));
};

export const listCheckoutSessions: Handler = (call) => {
  const { params } = call;
  allowOnly(params, ['customer', 'status', 'limit', 'starting_after', 'ending_before', 'expand']);
  const paths = expandList(params).map((p) => p.replace(/^data\./, ''));
  const customer = optString(params, 'customer');
  const status = optEnum(params, 'status', ['open', 'complete', 'expired'] as const);
  const page = paginate(call.account.checkoutSessions.values(), (s) => (!customer || s.customer === customer) && (!status || s.status === status), params, '/v1/checkout/sessions', 'checkout.session');
  return { ...page, data: page.data.map((s) => expand(call.account, s, paths)) };
};

/** An open session ends: `expired`, its SetupIntent canceled, `checkout.session.expired`. */
export function expireSession(ctx: Ctx, rec: SessionRec): void {
  const session = rec.value;
  session.status = 'expired';
  session.url = null;
  const intent = ctx.account.setupIntents.get(session.setup_intent);
  if (intent && intent.value.status === 'requires_payment_method') {
    Object.assign(intent.value, { status: 'canceled', cancellation_reason: 'abandoned' });
    emit(ctx, 'setup_intent.canceled', intent.value);
  }
  emit(ctx, 'checkout.session.expired', session);
}

/** `POST /v1/checkout/sessions/:id/expire`: only an open session can be expired. */
export const expireCheckoutSession: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  const paths = expandList(call.params);
  const rec = findSession(call.account, id);
  if (rec.value.status !== 'open') throw stateError(`Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${rec.value.status}".`);
  expireSession(ctxOf(call, rec.meta.clock), rec);
  return expand(call.account, rec.value, paths);
};

export const retrieveSetupIntent: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  const rec = call.account.setupIntents.get(id);
  if (!rec) throw noSuch('setup_intent', id);
  return expand(call.account, rec.value, expandList(call.params));
};

/**
 * The card numbers the hosted pages take, as Stripe's test cards (docs.stripe.com/testing), and the
 * test token each stands for (catalog.ts: how it behaves when saved and when charged).
 */
export const TEST_CARD_NUMBERS: Record<string, { token: string; label: string }> = {
  '4242424242424242': { token: 'pm_card_visa', label: 'succeeds' },
  '5555555555554444': { token: 'pm_card_mastercard', label: 'succeeds (Mastercard)' },
  '4000000000000002': { token: 'pm_card_chargeDeclined', label: 'declined' },
  '4000000000009995': { token: 'pm_card_chargeDeclinedInsufficientFunds', label: 'declined: insufficient funds' },
  '4000000000000069': { token: 'pm_card_chargeDeclinedExpiredCard', label: 'declined: expired card' },
  '4000000000000341': { token: 'pm_card_chargeCustomerFail', label: 'saved, then declined when charged' },
};

/** The card a person typed: a test card's token, or the reason Stripe's page would refuse it. */
export function cardFromNumber(input: string): { token: string } | { error: string } {
  const digits = input.replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(digits) || !luhn(digits)) return { error: 'Your card number is invalid.' };
  const known = TEST_CARD_NUMBERS[digits];
  if (!known) return { error: 'Your card was declined. Your request was in test mode, but used a non test (live) card. For a list of valid test cards, visit: https://stripe.com/docs/testing.' };
  return { token: known.token };
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * The customer submits a card on the hosted page. Saved: the SetupIntent succeeds, the session
 * completes (`checkout.session.completed`) and the browser goes to `success_url`. Refused (a
 * declining card, a wrong number): the SetupIntent records the error, the session stays open and
 * the page says why; nothing else changes.
 */
export function submitCheckoutCard(account: Account, rec: SessionRec, cardNumber: string): { redirect: string } | { error: string } {
  const session = rec.value;
  if (session.status !== 'open') return { error: `This Checkout Session is ${session.status === 'complete' ? 'already complete' : 'expired'}.` };
  const ctx: Ctx = { account, now: account.clockTime(rec.meta.clock), origin: AUTOMATIC };
  const intent = account.setupIntents.get(session.setup_intent)!.value;
  const card = cardFromNumber(cardNumber);
  if ('error' in card) {
    rec.meta.lastError = card.error;
    return card;
  }
  try {
    const pm = attachPaymentMethod(ctx, card.token, session.customer, 'payment_method');
    rec.meta.lastError = null;
    Object.assign(intent, { status: 'succeeded', payment_method: pm.value.id, last_setup_error: null });
    emit(ctx, 'setup_intent.succeeded', intent);
    session.status = 'complete';
    session.url = null;
    emit(ctx, 'checkout.session.completed', session);
    return { redirect: session.success_url.replace('{CHECKOUT_SESSION_ID}', session.id) };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const { code, decline_code, message, type } = error.body;
    intent.last_setup_error = { code: code ?? null, decline_code: decline_code ?? null, message, type };
    emit(ctx, 'setup_intent.setup_failed', intent);
    rec.meta.lastError = message;
    return { error: message };
  }
}

/** Open sessions expire at `expires_at` on their clock (scheduler.ts asks). */
export function checkoutWork(account: Account, clockId: string | null): Array<{ at: number; seq: number; what: string; run: (ctx: Ctx) => void }> {
  const works = [];
  for (const rec of account.checkoutSessions.values()) {
    if (rec.meta.clock !== clockId || rec.value.status !== 'open') continue;
    works.push({ at: rec.value.expires_at, seq: rec.seq, what: `checkout expiry ${rec.value.id}`, run: (ctx: Ctx) => expireSession(ctx, rec) });
  }
  return works;
}

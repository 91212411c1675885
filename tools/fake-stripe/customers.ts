// Customers and their payment methods (Stripe's test tokens, attach/detach, the invoice default).
import { randomBytes } from 'node:crypto';
import { cancelNow, isTerminal } from './billing';
import { TEST_CARDS } from './catalog';
import { ctxOf, type Call, type Handler } from './call';
import { ApiError, cardError, invalidParam, missingParam, noSuch, stateError } from './errors';
import { newId } from './ids';
import { allowOnly, applyMetadata, expandList, optHash, optInteger, optNullableString, optString, requiredString, type Json } from './params';
import { emit, emitUpdated, type Account, type CardBehavior, type Ctx, type Customer, type PaymentMethod, type Rec } from './state';
import { clockForNewCustomer } from './testClocks';
import { expand, paginate } from './views';

const CUSTOMER_FIELDS = ['email', 'name', 'description', 'phone'] as const;
const deletedCustomer = (id: string) => ({ id, object: 'customer', deleted: true });

export function liveCustomer(account: Account, id: string, param = 'id', status = 404): Rec<Customer, { deleted: boolean }> {
  const rec = account.customers.get(id);
  if (!rec || rec.meta.deleted) throw noSuch('customer', id, param, status);
  return rec;
}

/** `invoice_settings[default_payment_method]`: must be a payment method attached to this customer. */
function readInvoiceSettings(call: Call): { default_payment_method?: string | null } | undefined {
  const settings = optHash(call.params, 'invoice_settings');
  if (settings === undefined) return undefined;
  if (settings === '') return { default_payment_method: null };
  allowOnly(settings, ['default_payment_method'], 'invoice_settings');
  const pm = optNullableString(settings, 'default_payment_method', 'invoice_settings[default_payment_method]');
  return pm === undefined ? {} : { default_payment_method: pm };
}

function requireAttached(account: Account, customerId: string, pmId: string, param: string): void {
  const pm = account.paymentMethods.get(pmId);
  if (!pm || pm.value.customer !== customerId) {
    throw stateError(`No such PaymentMethod: '${pmId}'; It's possible this PaymentMethod exists on one of your connected accounts, in which case you should retry this request on that connected account. Learn more at https://stripe.com/docs/connect/authentication`, param, 'resource_missing');
  }
}

export const createCustomer: Handler = (call) => {
  const { params, account } = call;
  allowOnly(params, [...CUSTOMER_FIELDS, 'metadata', 'expand', 'test_clock', 'payment_method', 'invoice_settings', 'balance']);
  const paths = expandList(params);
  const fields = Object.fromEntries(CUSTOMER_FIELDS.map((f) => [f, optNullableString(params, f) ?? null]));
  const metadata = applyMetadata({}, params.metadata);
  const token = optString(params, 'payment_method');
  const settings = readInvoiceSettings(call);
  const balance = optInteger(params, 'balance') ?? 0;
  const clockId = clockForNewCustomer(account, optString(params, 'test_clock'));
  const ctx = ctxOf(call, clockId);
  // A new customer has no payment method but the one attached here (passing the token twice is Stripe's documented pattern).
  const id = newId('cus');
  let defaultPm = settings?.default_payment_method ?? null;
  if (defaultPm && defaultPm !== token) requireAttached(account, id, defaultPm, 'invoice_settings[default_payment_method]');
  // Attach before saving: a declined card refuses the whole create.
  const attached = token ? attachPaymentMethod(ctx, token, id, 'payment_method', false) : null;
  if (defaultPm && attached) defaultPm = attached.value.id;
  const customer: Customer = {
    id,
    object: 'customer',
    address: null,
    balance,
    created: ctx.now,
    currency: null,
    default_source: null,
    delinquent: false,
    description: null,
    discount: null,
    email: null,
    invoice_prefix: randomBytes(4).toString('hex').toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: defaultPm, footer: null, rendering_options: null },
    livemode: false,
    metadata,
    name: null,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: clockId,
    ...fields,
  } as Customer;
  account.add(account.customers, customer, { deleted: false });
  emit(ctx, 'customer.created', customer);
  if (attached) {
    attached.value.customer = id;
    emit(ctx, 'payment_method.attached', attached.value);
  }
  return expand(account, customer, paths);
};

/** A deleted customer still answers, with only `{ id, object, deleted: true }`. */
export const retrieveCustomer: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  const paths = expandList(call.params);
  const rec = call.account.customers.get(id);
  if (!rec) throw noSuch('customer', id);
  return rec.meta.deleted ? deletedCustomer(id) : expand(call.account, rec.value, paths);
};

export const updateCustomer: Handler = (call, id) => {
  const { params, account } = call;
  allowOnly(params, [...CUSTOMER_FIELDS, 'metadata', 'expand', 'invoice_settings', 'balance']);
  const paths = expandList(params);
  const changes: Json = {};
  for (const field of CUSTOMER_FIELDS) {
    const value = optNullableString(params, field);
    if (value !== undefined) changes[field] = value;
  }
  const settings = readInvoiceSettings(call);
  const balance = optInteger(params, 'balance');
  const rec = liveCustomer(account, id);
  if (settings?.default_payment_method) requireAttached(account, id, settings.default_payment_method, 'invoice_settings[default_payment_method]');
  const before = structuredClone(rec.value);
  const after: Customer = { ...rec.value, ...changes, metadata: applyMetadata(rec.value.metadata, params.metadata) };
  if (settings && 'default_payment_method' in settings) after.invoice_settings = { ...after.invoice_settings, default_payment_method: settings.default_payment_method ?? null };
  if (balance !== undefined) after.balance = balance;
  rec.value = after;
  emitUpdated(ctxOf(call, after.test_clock), 'customer.updated', before, after);
  return expand(account, after, paths);
};

/** Deleting a customer cancels its subscriptions first, as Stripe does (STRIPE.md §13). */
export const deleteCustomer: Handler = (call, id) => {
  allowOnly(call.params, []);
  const rec = liveCustomer(call.account, id);
  const ctx = ctxOf(call, rec.value.test_clock);
  for (const sub of call.account.subscriptions.values()) {
    if (sub.value.customer === id && !isTerminal(sub.value)) cancelNow(ctx, sub, 'cancellation_requested');
  }
  rec.meta.deleted = true;
  emit(ctx, 'customer.deleted', rec.value);
  return deletedCustomer(id);
};

export const listCustomers: Handler = (call) => {
  allowOnly(call.params, ['limit', 'starting_after', 'ending_before', 'email', 'expand', 'test_clock']);
  const paths = expandList(call.params).map((p) => p.replace(/^data\./, ''));
  const email = optString(call.params, 'email');
  const clock = optString(call.params, 'test_clock');
  const live = [...call.account.customers.values()].filter((c) => !c.meta.deleted);
  const page = paginate(live, (c) => (email === undefined || c.email === email) && (clock === undefined || c.test_clock === clock), call.params, '/v1/customers', 'customer');
  return { ...page, data: page.data.map((c) => expand(call.account, c, paths)) };
};

// ---------------------------------------------------------------- payment methods

function cardFrom(token: string): { card: Json; behavior: CardBehavior } | null {
  const test = TEST_CARDS[token];
  if (!test) return null;
  const year = new Date().getUTCFullYear() + 3;
  return {
    behavior: structuredClone(test.behavior),
    card: {
      brand: test.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'unchecked' },
      country: 'US',
      display_brand: test.brand,
      exp_month: 12,
      exp_year: year,
      fingerprint: randomBytes(8).toString('hex'),
      funding: test.funding,
      generated_from: null,
      last4: test.last4,
      networks: { available: [test.brand], preferred: null },
      regulated_status: 'unregulated',
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
  };
}

/**
 * Attaches a test token (a new `pm_…` with the card's behaviour) or a detached payment method. A
 * declining test card is refused (402) and nothing is attached. `emitEvent` false: the caller emits.
 */
export function attachPaymentMethod(ctx: Ctx, id: string, customerId: string, param: string, emitEvent = true): Rec<PaymentMethod, { behavior: CardBehavior }> {
  const { account } = ctx;
  const existing = account.paymentMethods.get(id);
  if (existing) {
    if (existing.value.customer) throw stateError('The payment method you provided has already been attached to a customer.', param, 'payment_method_unexpected_state');
    existing.value.customer = customerId;
    if (emitEvent) emit(ctx, 'payment_method.attached', existing.value);
    return existing;
  }
  const card = cardFrom(id);
  if (!card) throw noSuch('PaymentMethod', id, param, 400);
  if (card.behavior.attach !== 'succeed') throw cardError(card.behavior.attach.message, card.behavior.attach.code, card.behavior.attach.decline_code, param);
  const pm: PaymentMethod = {
    id: newId('pm', 24),
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: { address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null }, email: null, name: null, phone: null, tax_id: null },
    card: card.card as PaymentMethod['card'],
    created: ctx.now,
    customer: emitEvent ? customerId : null,
    livemode: false,
    metadata: {},
    type: 'card',
  };
  const rec = account.add(account.paymentMethods, pm, { behavior: card.behavior });
  if (emitEvent) emit(ctx, 'payment_method.attached', pm);
  return rec;
}

export const attachHandler: Handler = (call, id) => {
  allowOnly(call.params, ['customer', 'expand']);
  expandList(call.params);
  const customerId = requiredString(call.params, 'customer');
  const customer = liveCustomer(call.account, customerId, 'customer', 400);
  return attachPaymentMethod(ctxOf(call, customer.value.test_clock), id, customerId, 'payment_method').value;
};

export const detachHandler: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  const pm = call.account.paymentMethods.get(id);
  if (!pm) throw noSuch('PaymentMethod', id);
  const customerId = pm.value.customer;
  if (!customerId) throw stateError('The payment method you provided is not attached to a customer so detachment is impossible.', undefined, 'payment_method_unexpected_state');
  const customer = call.account.customers.get(customerId);
  const ctx = ctxOf(call, customer?.value.test_clock ?? null);
  const before = structuredClone(pm.value);
  pm.value.customer = null;
  emit(ctx, 'payment_method.detached', pm.value, { customer: before.customer });
  // A detached card is no longer the customer's default.
  if (customer && customer.value.invoice_settings.default_payment_method === id) {
    const previous = structuredClone(customer.value);
    customer.value.invoice_settings = { ...customer.value.invoice_settings, default_payment_method: null };
    emitUpdated(ctx, 'customer.updated', previous, customer.value);
  }
  return pm.value;
};

export const retrievePaymentMethod: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  const pm = call.account.paymentMethods.get(id);
  if (!pm) throw noSuch('payment_method', id);
  return expand(call.account, pm.value, expandList(call.params));
};

const listPaymentMethodsOf = (call: Call, customerId: string | undefined, url: string) => {
  const type = optString(call.params, 'type');
  if (type !== undefined && type !== 'card') throw invalidParam('type', 'The simulator models card payment methods only.');
  return paginate(call.account.paymentMethods.values(), (pm) => customerId === undefined || pm.customer === customerId, call.params, url, 'payment_method');
};

export const listPaymentMethods: Handler = (call) => {
  allowOnly(call.params, ['customer', 'type', 'limit', 'starting_after', 'ending_before', 'expand']);
  const customer = optString(call.params, 'customer');
  if (customer === undefined) throw missingParam('customer');
  liveCustomer(call.account, customer, 'customer', 400);
  return listPaymentMethodsOf(call, customer, '/v1/payment_methods');
};

export const listCustomerPaymentMethods: Handler = (call, id) => {
  allowOnly(call.params, ['type', 'limit', 'starting_after', 'ending_before', 'expand']);
  liveCustomer(call.account, id);
  return listPaymentMethodsOf(call, id, `/v1/customers/${id}/payment_methods`);
};

export { ApiError };

// The Stripe objects the fake keeps (customers, subscriptions, events) and what each endpoint does to them.
// Pure state transitions over one account; HTTP, auth and idempotency live in server.ts.
import { randomBytes } from 'node:crypto';
import { ApiError, invalidParam, missingParam, noSuch, stateError, unknownParam } from './errors';
import type { FormObject, FormValue } from './form';

type Json = Record<string, unknown>;
type Metadata = Record<string, string>;

export interface Customer extends Json {
  id: string;
  object: 'customer';
  created: number;
  email: string | null;
  name: string | null;
  description: string | null;
  phone: string | null;
  metadata: Metadata;
}

export interface SubscriptionItem extends Json {
  id: string;
  object: 'subscription_item';
  price: { id: string; object: 'price' };
  quantity: number;
  subscription: string;
  metadata: Metadata;
}

export type SubscriptionStatus = 'trialing' | 'active' | 'canceled';

export interface Subscription extends Json {
  id: string;
  object: 'subscription';
  customer: string;
  status: SubscriptionStatus;
  created: number;
  start_date: number;
  current_period_start: number;
  current_period_end: number;
  trial_start: number | null;
  trial_end: number | null;
  cancel_at_period_end: boolean;
  cancel_at: number | null;
  canceled_at: number | null;
  ended_at: number | null;
  metadata: Metadata;
  items: { object: 'list'; data: SubscriptionItem[]; has_more: false; total_count: number; url: string };
}

export interface StripeEvent extends Json {
  id: string;
  object: 'event';
  type: string;
  created: number;
  data: { object: Json; previous_attributes?: Json };
  request: { id: string | null; idempotency_key: string | null };
}

interface Stored<T> {
  seq: number;
  value: T;
}

/** One Stripe account: everything one secret key can see. */
export class Account {
  private seq = 0;
  readonly customers = new Map<string, Stored<Customer> & { deleted: boolean }>();
  readonly subscriptions = new Map<string, Stored<Subscription>>();
  readonly events: Stored<StripeEvent>[] = [];

  nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }
}

/** What a handler gets: the account, the decoded parameters, the time, and the request for its events. */
export interface Call {
  account: Account;
  params: FormObject;
  now: number; // unix seconds
  requestId: string;
  idempotencyKey: string | null;
}

export type Handler = (call: Call, id: string) => Json;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export function newId(prefix: string, length = 14): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
  return `${prefix}_${out}`;
}

// ---------------------------------------------------------------- parameter readers

function allowOnly(params: FormObject, allowed: readonly string[]): void {
  for (const key of Object.keys(params)) if (!allowed.includes(key)) throw unknownParam(key);
}

function optString(params: FormObject, name: string): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidParam(name, `Invalid string: ${JSON.stringify(value)}`);
  return value;
}

/** `email=` (empty) unsets a nullable field, as in Stripe. */
function optNullableString(params: FormObject, name: string): string | null | undefined {
  const value = optString(params, name);
  return value === '' ? null : value;
}

function parseInteger(value: FormValue | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) {
    throw invalidParam(name, `Invalid integer: ${typeof value === 'string' ? value : JSON.stringify(value)}`, 'parameter_invalid_integer');
  }
  return Number(value);
}

function optBoolean(params: FormObject, name: string): boolean | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalidParam(name, `Invalid boolean: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}

function optEnum<T extends string>(params: FormObject, name: string, values: readonly T[]): T | undefined {
  const value = optString(params, name);
  if (value === undefined) return undefined;
  if (!values.includes(value as T)) throw invalidParam(name, `Invalid ${name}: must be one of ${values.join(', ')}`);
  return value as T;
}

/** Stripe's metadata rules: `metadata=` clears all, `metadata[k]=` removes k; 50 keys, 40-char keys, 500-char values. */
function applyMetadata(current: Metadata, value: FormValue | undefined, param = 'metadata'): Metadata {
  if (value === undefined) return current;
  if (value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidParam(param, 'Invalid hash', 'parameter_invalid_hash');
  const next = { ...current };
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw invalidParam(`${param}[${key}]`, 'Metadata values must be strings');
    if (key.length > 40) throw invalidParam(`${param}[${key}]`, 'Metadata keys can be at most 40 characters long.');
    if (v.length > 500) throw invalidParam(`${param}[${key}]`, 'Metadata values can be at most 500 characters long.');
    if (v === '') delete next[key];
    else next[key] = v;
  }
  if (Object.keys(next).length > 50) throw invalidParam(param, 'Metadata can have at most 50 keys.');
  return next;
}

function expandList(params: FormObject): string[] {
  const value = params.expand;
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((v): v is string => typeof v === 'string')) throw invalidParam('expand', 'Invalid array');
  return list;
}

// ---------------------------------------------------------------- views

const deletedCustomer = (id: string) => ({ id, object: 'customer', deleted: true });

function customerView(account: Account, id: string): Json {
  const stored = account.customers.get(id);
  if (!stored) return { id };
  return stored.deleted ? deletedCustomer(id) : stored.value;
}

/** Subscriptions may expand `customer`; lists of them `data.customer`. Anything else is refused, as Stripe does. */
function subscriptionView(account: Account, sub: Subscription, expand: string[], prefix = ''): Json {
  let view: Json = sub;
  for (const path of expand) {
    if (path === `${prefix}customer`) view = { ...view, customer: customerView(account, sub.customer) };
    else throw invalidParam('expand', `This property cannot be expanded (${path.slice(prefix.length)}).`);
  }
  return view;
}

function noExpansions(expand: string[]): void {
  if (expand.length > 0) throw invalidParam('expand', `This property cannot be expanded (${expand[0]}).`);
}

/** Newest first, with `limit`, `starting_after` and `ending_before`, as Stripe paginates. */
function paginate<T extends { id: string }>(
  all: Map<string, Stored<T>> | Stored<T>[],
  wanted: (value: T) => boolean,
  params: FormObject,
  url: string,
  kind: string,
): { object: 'list'; data: T[]; has_more: boolean; url: string } {
  const entries = [...all.values()];
  const limit = parseInteger(params.limit, 'limit') ?? 10;
  if (limit < 1 || limit > 100) throw invalidParam('limit', 'This value must be between 1 and 100.', 'parameter_invalid_integer');
  const startingAfter = optString(params, 'starting_after');
  const endingBefore = optString(params, 'ending_before');
  const seqOf = (id: string, param: string) => {
    const found = entries.find((e) => e.value.id === id);
    if (!found) throw noSuch(kind, id, param, 400);
    return found.seq;
  };
  let matching = entries.filter((e) => wanted(e.value)).sort((a, b) => b.seq - a.seq);
  if (startingAfter !== undefined) {
    const seq = seqOf(startingAfter, 'starting_after');
    matching = matching.filter((e) => e.seq < seq);
  } else if (endingBefore !== undefined) {
    // The page just before the cursor, still listed newest first.
    const seq = seqOf(endingBefore, 'ending_before');
    const before = matching.filter((e) => e.seq > seq);
    const page = before.slice(Math.max(0, before.length - limit));
    return { object: 'list', data: page.map((e) => e.value), has_more: before.length > limit, url };
  }
  return { object: 'list', data: matching.slice(0, limit).map((e) => e.value), has_more: matching.length > limit, url };
}

function recordEvent(call: Call, type: string, object: Json, previous?: Json): void {
  const event: StripeEvent = {
    id: newId('evt', 24),
    object: 'event',
    api_version: null,
    created: call.now,
    livemode: false,
    pending_webhooks: 0,
    type,
    data: { object: structuredClone(object), ...(previous ? { previous_attributes: previous } : {}) },
    request: { id: call.requestId, idempotency_key: call.idempotencyKey },
  };
  call.account.events.push({ seq: call.account.nextSeq(), value: event });
}

// ---------------------------------------------------------------- customers

const CUSTOMER_FIELDS = ['email', 'name', 'description', 'phone'] as const;

function liveCustomer(call: Call, id: string): Stored<Customer> & { deleted: boolean } {
  const stored = call.account.customers.get(id);
  if (!stored || stored.deleted) throw noSuch('customer', id);
  return stored;
}

export const createCustomer: Handler = (call) => {
  allowOnly(call.params, [...CUSTOMER_FIELDS, 'metadata', 'expand']);
  noExpansions(expandList(call.params));
  const fields = Object.fromEntries(CUSTOMER_FIELDS.map((f) => [f, optNullableString(call.params, f) ?? null]));
  const metadata = applyMetadata({}, call.params.metadata);
  const customer: Customer = {
    id: newId('cus'),
    object: 'customer',
    address: null,
    balance: 0,
    created: call.now,
    currency: null,
    default_source: null,
    delinquent: false,
    description: null,
    discount: null,
    email: null,
    invoice_prefix: randomBytes(4).toString('hex').toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata,
    name: null,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
    ...fields,
  };
  call.account.customers.set(customer.id, { seq: call.account.nextSeq(), value: customer, deleted: false });
  recordEvent(call, 'customer.created', customer);
  return customer;
};

/** A deleted customer still answers, with only `{ id, object, deleted: true }`. */
export const retrieveCustomer: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  noExpansions(expandList(call.params));
  const stored = call.account.customers.get(id);
  if (!stored) throw noSuch('customer', id);
  return stored.deleted ? deletedCustomer(id) : stored.value;
};

export const updateCustomer: Handler = (call, id) => {
  allowOnly(call.params, [...CUSTOMER_FIELDS, 'metadata', 'expand']);
  noExpansions(expandList(call.params));
  const changes: Json = {};
  for (const field of CUSTOMER_FIELDS) {
    const value = optNullableString(call.params, field);
    if (value !== undefined) changes[field] = value;
  }
  const stored = liveCustomer(call, id);
  const before = stored.value;
  const metadata = applyMetadata(before.metadata, call.params.metadata);
  const after: Customer = { ...before, ...changes, metadata };
  stored.value = after;
  const previous = changedAttributes(before, after);
  if (Object.keys(previous).length > 0) recordEvent(call, 'customer.updated', after, previous);
  return after;
};

/** Deleting a customer cancels its subscriptions first, as Stripe does. */
export const deleteCustomer: Handler = (call, id) => {
  allowOnly(call.params, []);
  const stored = liveCustomer(call, id);
  for (const sub of call.account.subscriptions.values()) {
    if (sub.value.customer === id && sub.value.status !== 'canceled') endSubscription(call, sub, 'cancellation_requested');
  }
  stored.deleted = true;
  recordEvent(call, 'customer.deleted', stored.value);
  return deletedCustomer(id);
};

export const listCustomers: Handler = (call) => {
  allowOnly(call.params, ['limit', 'starting_after', 'ending_before', 'email', 'expand']);
  noExpansions(expandList(call.params));
  const email = optString(call.params, 'email');
  const live = new Map([...call.account.customers].filter(([, c]) => !c.deleted));
  return paginate(live, (c) => email === undefined || c.email === email, call.params, '/v1/customers', 'customer');
};

// ---------------------------------------------------------------- subscriptions

const MAX_TRIAL_SECONDS = 730 * 24 * 60 * 60;

/** One calendar month later, clamped to the month's last day (Jan 31 → Feb 28), in UTC. */
export function addMonth(unixSeconds: number): number {
  const date = new Date(unixSeconds * 1000);
  const day = date.getUTCDate();
  date.setUTCDate(1);
  date.setUTCMonth(date.getUTCMonth() + 1);
  const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
  date.setUTCDate(Math.min(day, lastDay));
  return Math.floor(date.getTime() / 1000);
}

/** `trial_end`: a future unix time (at most two years ahead) or 'now'. */
function readTrialEnd(params: FormObject, now: number): number | 'now' | undefined {
  const value = params.trial_end;
  if (value === undefined) return undefined;
  if (value === 'now') return 'now';
  const at = parseInteger(value, 'trial_end') as number;
  if (at <= now) throw invalidParam('trial_end', 'Invalid timestamp: must be an integer Unix timestamp in the future.', 'parameter_invalid_integer');
  if (at > now + MAX_TRIAL_SECONDS) {
    throw invalidParam('trial_end', 'Invalid timestamp: can be no more than two years in the future.', 'parameter_invalid_integer');
  }
  return at;
}

function readItems(params: FormObject, subscriptionId: string, now: number): SubscriptionItem[] {
  const value = params.items;
  if (value === undefined) throw missingParam('items');
  if (!Array.isArray(value) || value.length === 0) throw invalidParam('items', 'Invalid array', 'parameter_invalid_array');
  return value.map((raw, i) => {
    const param = `items[${i}]`;
    if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidParam(param, 'Invalid hash', 'parameter_invalid_hash');
    for (const key of Object.keys(raw)) if (!['price', 'quantity', 'metadata'].includes(key)) throw unknownParam(`${param}[${key}]`);
    const price = raw.price;
    if (price === undefined) throw missingParam(`${param}[price]`);
    if (typeof price !== 'string' || price === '') throw invalidParam(`${param}[price]`, 'Invalid string');
    const quantity = parseInteger(raw.quantity, `${param}[quantity]`) ?? 1;
    if (quantity < 0) throw invalidParam(`${param}[quantity]`, 'This value must be greater than or equal to 0.');
    return {
      id: newId('si'),
      object: 'subscription_item' as const,
      created: now,
      metadata: applyMetadata({}, raw.metadata, `${param}[metadata]`),
      price: { id: price, object: 'price' as const },
      quantity,
      subscription: subscriptionId,
    };
  });
}

/** The period fields live on the subscription (older API versions) and on each item (newer ones). */
function setPeriod(sub: Subscription, start: number, end: number): void {
  sub.current_period_start = start;
  sub.current_period_end = end;
  for (const item of sub.items.data) {
    item.current_period_start = start;
    item.current_period_end = end;
  }
}

function findSubscription(call: Call, id: string): Stored<Subscription> {
  const stored = call.account.subscriptions.get(id);
  if (!stored) throw noSuch('subscription', id);
  return stored;
}

function changedAttributes(before: Json, after: Json): Json {
  const previous: Json = {};
  for (const key of Object.keys(after)) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) previous[key] = before[key];
  }
  return previous;
}

function endSubscription(call: Call, stored: Stored<Subscription>, reason: string, details: Json = {}): void {
  const sub: Subscription = structuredClone(stored.value);
  sub.status = 'canceled';
  sub.canceled_at = call.now;
  sub.ended_at = call.now;
  sub.cancellation_details = { comment: null, feedback: null, ...details, reason };
  stored.value = sub;
  recordEvent(call, 'customer.subscription.deleted', sub);
}

export const createSubscription: Handler = (call) => {
  const { params, now } = call;
  allowOnly(params, ['customer', 'items', 'trial_end', 'trial_period_days', 'metadata', 'cancel_at_period_end', 'description', 'expand']);
  const expand = expandList(params);
  const customerId = optString(params, 'customer');
  if (customerId === undefined) throw missingParam('customer');
  const id = newId('sub');
  const items = readItems(params, id, now);
  const trialEnd = readTrialEnd(params, now);
  const trialDays = parseInteger(params.trial_period_days, 'trial_period_days');
  if (trialDays !== undefined && (trialDays < 0 || trialDays > 730)) {
    throw invalidParam('trial_period_days', 'This value must be between 0 and 730.', 'parameter_invalid_integer');
  }
  const metadata = applyMetadata({}, params.metadata);
  const cancelAtPeriodEnd = optBoolean(params, 'cancel_at_period_end') ?? false;
  const description = optNullableString(params, 'description') ?? null;
  // Parameters are valid: from here on the request has executed (and its outcome is saved for the key).
  const customer = call.account.customers.get(customerId);
  if (!customer || customer.deleted) throw noSuch('customer', customerId, 'customer', 400);

  // trial_end takes precedence over trial_period_days, as in Stripe.
  const trialUntil = trialEnd === 'now' ? null : trialEnd ?? (trialDays ? now + trialDays * 86400 : null);
  const periodEnd = trialUntil ?? addMonth(now);
  const sub: Subscription = {
    id,
    object: 'subscription',
    application: null,
    billing_cycle_anchor: periodEnd,
    cancel_at: cancelAtPeriodEnd ? periodEnd : null,
    cancel_at_period_end: cancelAtPeriodEnd,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, reason: null },
    collection_method: 'charge_automatically',
    created: now,
    current_period_start: now,
    current_period_end: periodEnd,
    customer: customerId,
    default_payment_method: null,
    description,
    ended_at: null,
    items: { object: 'list', data: items, has_more: false, total_count: items.length, url: `/v1/subscription_items?subscription=${id}` },
    latest_invoice: null,
    livemode: false,
    metadata,
    start_date: now,
    status: trialUntil ? 'trialing' : 'active',
    trial_end: trialUntil,
    trial_start: trialUntil ? now : null,
  };
  setPeriod(sub, now, periodEnd);
  call.account.subscriptions.set(id, { seq: call.account.nextSeq(), value: sub });
  recordEvent(call, 'customer.subscription.created', sub);
  return subscriptionView(call.account, sub, expand);
};

export const retrieveSubscription: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  const expand = expandList(call.params);
  return subscriptionView(call.account, findSubscription(call, id).value, expand);
};

const CANCELED_MAY_CHANGE = ['metadata', 'cancellation_details', 'expand'];

export const updateSubscription: Handler = (call, id) => {
  const { params, now } = call;
  allowOnly(params, ['metadata', 'trial_end', 'cancel_at_period_end', 'description', 'proration_behavior', 'cancellation_details', 'expand']);
  const expand = expandList(params);
  const trialEnd = readTrialEnd(params, now);
  const cancelAtPeriodEnd = optBoolean(params, 'cancel_at_period_end');
  const description = optNullableString(params, 'description');
  optEnum(params, 'proration_behavior', ['create_prorations', 'none', 'always_invoice']);
  const details = readCancellationDetails(params);

  const stored = findSubscription(call, id);
  const before = stored.value;
  if (before.status === 'canceled' && Object.keys(params).some((k) => !CANCELED_MAY_CHANGE.includes(k))) {
    throw stateError('A canceled subscription can only update its cancellation_details and metadata.');
  }
  const sub: Subscription = structuredClone(before);
  sub.metadata = applyMetadata(sub.metadata, params.metadata);
  if (description !== undefined) sub.description = description;
  if (details) sub.cancellation_details = { ...(sub.cancellation_details as Json), ...details };
  if (trialEnd === 'now') {
    if (sub.status === 'trialing') {
      sub.status = 'active';
      sub.trial_end = now;
      sub.billing_cycle_anchor = now;
      setPeriod(sub, now, addMonth(now));
    }
  } else if (trialEnd !== undefined) {
    if (sub.status !== 'trialing') sub.trial_start = now;
    sub.status = 'trialing';
    sub.trial_end = trialEnd;
    sub.billing_cycle_anchor = trialEnd;
    setPeriod(sub, sub.current_period_start, trialEnd);
  }
  if (cancelAtPeriodEnd !== undefined) sub.cancel_at_period_end = cancelAtPeriodEnd;
  sub.cancel_at = sub.cancel_at_period_end ? sub.current_period_end : null;
  stored.value = sub;
  const previous = changedAttributes(before, sub);
  if (Object.keys(previous).length > 0) recordEvent(call, 'customer.subscription.updated', sub, previous);
  return subscriptionView(call.account, sub, expand);
};

function readCancellationDetails(params: FormObject): Json | undefined {
  const value = params.cancellation_details;
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidParam('cancellation_details', 'Invalid hash', 'parameter_invalid_hash');
  const details: Json = {};
  for (const [key, v] of Object.entries(value)) {
    if (!['comment', 'feedback'].includes(key)) throw unknownParam(`cancellation_details[${key}]`);
    if (typeof v !== 'string') throw invalidParam(`cancellation_details[${key}]`, 'Invalid string');
    details[key] = v === '' ? null : v;
  }
  return details;
}

/** Cancel now (DELETE). A subscription already canceled is refused, as Stripe refuses it. */
export const cancelSubscription: Handler = (call, id) => {
  allowOnly(call.params, ['invoice_now', 'prorate', 'cancellation_details', 'expand']);
  const expand = expandList(call.params);
  optBoolean(call.params, 'invoice_now');
  optBoolean(call.params, 'prorate');
  const details = readCancellationDetails(call.params);
  const stored = findSubscription(call, id);
  if (stored.value.status === 'canceled') throw stateError(`This subscription has already been canceled: '${id}'`);
  endSubscription(call, stored, 'cancellation_requested', details);
  return subscriptionView(call.account, stored.value, expand);
};

const LIST_STATUSES = ['active', 'past_due', 'unpaid', 'canceled', 'incomplete', 'incomplete_expired', 'trialing', 'paused', 'all', 'ended'] as const;

/** Without `status`, Stripe lists the subscriptions that are not canceled. */
export const listSubscriptions: Handler = (call) => {
  const { params } = call;
  allowOnly(params, ['customer', 'status', 'price', 'limit', 'starting_after', 'ending_before', 'expand']);
  const expand = expandList(params);
  for (const path of expand) if (path !== 'data.customer') throw invalidParam('expand', `This property cannot be expanded (${path}).`);
  const customer = optString(params, 'customer');
  const price = optString(params, 'price');
  const status = optEnum(params, 'status', LIST_STATUSES);
  const statusMatches = (s: SubscriptionStatus) => {
    if (status === 'all') return true;
    if (status === undefined) return s !== 'canceled';
    if (status === 'ended') return s === 'canceled';
    return s === status;
  };
  const page = paginate(
    call.account.subscriptions,
    (s) =>
      (customer === undefined || s.customer === customer) &&
      (price === undefined || s.items.data.some((item) => item.price.id === price)) &&
      statusMatches(s.status),
    params,
    '/v1/subscriptions',
    'subscription',
  );
  return { ...page, data: page.data.map((s) => subscriptionView(call.account, s, expand, 'data.')) };
};

// ---------------------------------------------------------------- events

export const listEvents: Handler = (call) => {
  const { params } = call;
  allowOnly(params, ['type', 'types', 'limit', 'starting_after', 'ending_before']);
  const type = optString(params, 'type');
  const types = params.types;
  if (types !== undefined && (!Array.isArray(types) || !types.every((t) => typeof t === 'string'))) {
    throw invalidParam('types', 'Invalid array', 'parameter_invalid_array');
  }
  // `type` may end in `.*` to match a family (`customer.subscription.*`), as in Stripe.
  const typeMatches = (t: string) =>
    (type === undefined || t === type || (type.endsWith('.*') && t.startsWith(type.slice(0, -1)))) &&
    (types === undefined || (types as string[]).includes(t));
  return paginate(call.account.events, (e) => typeMatches(e.type), params, '/v1/events', 'event');
};

export const retrieveEvent: Handler = (call, id) => {
  allowOnly(call.params, []);
  const found = call.account.events.find((e) => e.value.id === id);
  if (!found) throw noSuch('event', id);
  return found.value;
};

// ---------------------------------------------------------------- routes

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  pattern: RegExp;
  handler: Handler;
}

const ID = '([A-Za-z0-9_]+)';
export const ROUTES: Route[] = [
  { method: 'POST', pattern: /^\/v1\/customers$/, handler: createCustomer },
  { method: 'GET', pattern: /^\/v1\/customers$/, handler: listCustomers },
  { method: 'GET', pattern: new RegExp(`^/v1/customers/${ID}$`), handler: retrieveCustomer },
  { method: 'POST', pattern: new RegExp(`^/v1/customers/${ID}$`), handler: updateCustomer },
  { method: 'DELETE', pattern: new RegExp(`^/v1/customers/${ID}$`), handler: deleteCustomer },
  { method: 'POST', pattern: /^\/v1\/subscriptions$/, handler: createSubscription },
  { method: 'GET', pattern: /^\/v1\/subscriptions$/, handler: listSubscriptions },
  { method: 'GET', pattern: new RegExp(`^/v1/subscriptions/${ID}$`), handler: retrieveSubscription },
  { method: 'POST', pattern: new RegExp(`^/v1/subscriptions/${ID}$`), handler: updateSubscription },
  { method: 'DELETE', pattern: new RegExp(`^/v1/subscriptions/${ID}$`), handler: cancelSubscription },
  { method: 'GET', pattern: /^\/v1\/events$/, handler: listEvents },
  { method: 'GET', pattern: new RegExp(`^/v1/events/${ID}$`), handler: retrieveEvent },
];

export function matchRoute(method: string, path: string): { handler: Handler; id: string } | null {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(path);
    if (match) return { handler: route.handler, id: match[1] ?? '' };
  }
  return null;
}

export { ApiError };

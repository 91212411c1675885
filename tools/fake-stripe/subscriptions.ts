// Subscriptions through the API: create (trials, collection methods, payment_behavior), update
// (items and prorations, trial_end, cancel at period end, payment methods), cancel, pause, resume,
// and subscription items. The engine in billing.ts does the invoices; STRIPE.md §1-§9, §13.
import {
  BILLING_STATUSES,
  attemptPayment,
  cancelNow,
  chargeError,
  chargeOutcome,
  createInvoice,
  createInvoiceItem,
  customerOf,
  finalizeInvoice,
  intervalOf,
  isTerminal,
  nextPeriodEnd,
  periodLines,
  periodOf,
  productName,
  resolvePaymentMethod,
  resumeActive,
  setPeriod,
  type InvoiceRec,
  type LineSpec,
  type SubRec,
} from './billing';
import { ctxOf, type Call, type Handler } from './call';
import { invalidParam, missingParam, noSuch, stateError, unknownParam } from './errors';
import type { FormObject, FormValue } from './form';
import { newId } from './ids';
import {
  allowOnly,
  applyMetadata,
  expandList,
  optBoolean,
  optEnum,
  optHash,
  optInteger,
  optNullableString,
  optString,
  parseInteger,
  type Json,
} from './params';
import { findPrice } from './prices';
import { TRIAL_WILL_END_BEFORE, trialWillEnd } from './scheduler';
import {
  emit,
  emitUpdated,
  type Account,
  type CollectionMethod,
  type Ctx,
  type MissingPaymentMethod,
  type Price,
  type Subscription,
  type SubscriptionItem,
  type SubscriptionStatus,
} from './state';
import { DAY, shortDate } from './time';
import { expand, paginate } from './views';

const MAX_TRIAL_SECONDS = 730 * DAY;
const PAYMENT_BEHAVIORS = ['allow_incomplete', 'default_incomplete', 'error_if_incomplete', 'pending_if_incomplete'] as const;
type PaymentBehavior = (typeof PAYMENT_BEHAVIORS)[number];
const PRORATION_BEHAVIORS = ['create_prorations', 'always_invoice', 'none'] as const;
type ProrationBehavior = (typeof PRORATION_BEHAVIORS)[number];

// ---------------------------------------------------------------- parameter readers

/** `trial_end`: a future unix time (at most two years ahead) or 'now'. */
function readTrialEnd(params: FormObject, now: number): number | 'now' | undefined {
  const value = params.trial_end;
  if (value === undefined) return undefined;
  if (value === 'now') return 'now';
  const at = parseInteger(value, 'trial_end') as number;
  if (at <= now) throw invalidParam('trial_end', 'Invalid timestamp: must be an integer Unix timestamp in the future.', 'parameter_invalid_integer');
  if (at > now + MAX_TRIAL_SECONDS) throw invalidParam('trial_end', 'Invalid timestamp: can be no more than two years in the future.', 'parameter_invalid_integer');
  return at;
}

function readTrialSettings(params: FormObject): MissingPaymentMethod | undefined {
  const settings = optHash(params, 'trial_settings');
  if (settings === undefined || settings === '') return undefined;
  allowOnly(settings, ['end_behavior'], 'trial_settings');
  const end = optHash(settings, 'end_behavior', 'trial_settings[end_behavior]');
  if (!end) throw missingParam('trial_settings[end_behavior]');
  allowOnly(end, ['missing_payment_method'], 'trial_settings[end_behavior]');
  const value = optEnum(end, 'missing_payment_method', ['cancel', 'pause', 'create_invoice'] as const, 'trial_settings[end_behavior][missing_payment_method]');
  if (!value) throw missingParam('trial_settings[end_behavior][missing_payment_method]');
  return value;
}

/** `cancel_at`: a timestamp, `min_period_end`/`max_period_end` (flexible mode), or '' to clear. */
function readCancelAt(params: FormObject, now: number): number | 'min_period_end' | 'max_period_end' | null | undefined {
  const value = params.cancel_at;
  if (value === undefined) return undefined;
  if (value === '') return null;
  if (value === 'min_period_end' || value === 'max_period_end') return value;
  const at = parseInteger(value, 'cancel_at') as number;
  if (at <= now) throw invalidParam('cancel_at', 'Invalid timestamp: must be an integer Unix timestamp in the future.', 'parameter_invalid_integer');
  return at;
}

function readCancellationDetails(params: FormObject): Json | undefined {
  const value = optHash(params, 'cancellation_details');
  if (value === undefined) return undefined;
  if (value === '') return { comment: null, feedback: null };
  const details: Json = {};
  for (const [key, v] of Object.entries(value)) {
    if (!['comment', 'feedback'].includes(key)) throw unknownParam(`cancellation_details[${key}]`);
    if (typeof v !== 'string') throw invalidParam(`cancellation_details[${key}]`, 'Invalid string');
    details[key] = v === '' ? null : v;
  }
  const feedback = details.feedback;
  const FEEDBACK = ['customer_service', 'low_quality', 'missing_features', 'other', 'switched_service', 'too_complex', 'too_expensive', 'unused'];
  if (typeof feedback === 'string' && !FEEDBACK.includes(feedback)) throw invalidParam('cancellation_details[feedback]', `Invalid cancellation_details[feedback]: must be one of ${FEEDBACK.join(', ')}`);
  return details;
}

function readPaymentSettings(params: FormObject): Json | undefined {
  const value = optHash(params, 'payment_settings');
  if (value === undefined || value === '') return undefined;
  allowOnly(value, ['save_default_payment_method'], 'payment_settings');
  const save = optEnum(value, 'save_default_payment_method', ['off', 'on_subscription'] as const, 'payment_settings[save_default_payment_method]');
  return { payment_method_options: null, payment_method_types: null, save_default_payment_method: save ?? 'off' };
}

interface ItemParam {
  id?: string;
  price?: string;
  quantity?: number;
  deleted?: boolean;
  metadata?: FormValue;
  param: string;
}

function readItemParams(params: FormObject, forUpdate: boolean): ItemParam[] | undefined {
  const value = params.items;
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) throw invalidParam('items', 'Invalid array', 'parameter_invalid_array');
  return value.map((raw, i) => {
    const param = `items[${i}]`;
    if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidParam(param, 'Invalid hash', 'parameter_invalid_hash');
    allowOnly(raw, forUpdate ? ['id', 'price', 'quantity', 'metadata', 'deleted'] : ['price', 'quantity', 'metadata'], param);
    const item: ItemParam = { param };
    item.id = optString(raw, 'id', `${param}[id]`);
    item.price = optString(raw, 'price', `${param}[price]`);
    item.quantity = optInteger(raw, 'quantity', { min: 0 }, `${param}[quantity]`);
    item.deleted = optBoolean(raw, 'deleted', `${param}[deleted]`);
    item.metadata = raw.metadata;
    applyMetadata({}, raw.metadata, `${param}[metadata]`);
    if (!item.id && !item.price) throw missingParam(`${param}[price]`);
    return item;
  });
}

function newItem(price: Price, quantity: number, subscriptionId: string, now: number, metadata: FormValue | undefined, param: string): SubscriptionItem {
  return {
    id: newId('si'),
    object: 'subscription_item',
    billing_thresholds: null,
    created: now,
    current_period_end: now,
    current_period_start: now,
    discounts: [],
    metadata: applyMetadata({}, metadata, `${param}[metadata]`),
    plan: planOf(price),
    price,
    quantity,
    subscription: subscriptionId,
    tax_rates: [],
  };
}

/** Items still carry the legacy `plan` beside `price`. */
function planOf(price: Price): Json {
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: String(price.unit_amount),
    billing_scheme: 'per_unit',
    created: price.created,
    currency: price.currency,
    interval: price.recurring?.interval ?? 'month',
    interval_count: price.recurring?.interval_count ?? 1,
    livemode: false,
    metadata: {},
    meter: null,
    nickname: price.nickname,
    product: price.product,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: 'licensed',
  };
}

/** One currency and one interval per subscription: the simulator refuses what it does not model. */
function checkItemPrices(items: SubscriptionItem[]): void {
  const [first] = items;
  if (!first) throw invalidParam('items', 'A subscription needs at least one item.');
  for (const item of items) {
    if (item.price.currency !== first.price.currency) throw invalidParam('items', 'All prices on a subscription must have the same currency.');
    const a = item.price.recurring;
    const b = first.price.recurring;
    if (a?.interval !== b?.interval || a?.interval_count !== b?.interval_count) {
      throw invalidParam('items', 'fake-stripe models one billing interval per subscription: all prices must share their recurring interval.');
    }
  }
}

function requireAttachedPaymentMethod(account: Account, customerId: string, pmId: string, param: string): void {
  const pm = account.paymentMethods.get(pmId);
  if (!pm || pm.value.customer !== customerId) {
    throw stateError(`The customer does not have a payment method with the ID ${pmId}. The payment method must be attached to the customer.`, param, 'resource_missing');
  }
}

/** The amount a new invoice would ask for after the customer's credit balance. */
function dueAfterBalance(total: number, balance: number): number {
  if (total <= 0) return 0;
  return balance < 0 ? Math.max(0, total + balance) : total;
}

function liveSubscription(account: Account, id: string): SubRec {
  const rec = account.subscriptions.get(id);
  if (!rec) throw noSuch('subscription', id);
  return rec;
}

const view = (call: Call, sub: Subscription, paths: string[]) => expand(call.account, sub, paths);

// ---------------------------------------------------------------- create

const CREATE_PARAMS = [
  'customer', 'items', 'trial_end', 'trial_period_days', 'trial_from_plan', 'trial_settings', 'collection_method', 'days_until_due',
  'payment_behavior', 'default_payment_method', 'cancel_at_period_end', 'cancel_at', 'billing_mode', 'proration_behavior', 'off_session',
  'payment_settings', 'metadata', 'description', 'expand',
];

function readCollection(params: FormObject, current: { collection: CollectionMethod; days: number | null } | null): { collection: CollectionMethod; days: number | null } | undefined {
  const collection = optEnum(params, 'collection_method', ['charge_automatically', 'send_invoice'] as const);
  const days = optInteger(params, 'days_until_due', { min: 0, max: 730 });
  if (collection === undefined && days === undefined) return undefined;
  const next = collection ?? current?.collection ?? 'charge_automatically';
  if (next === 'charge_automatically' && days !== undefined) {
    throw invalidParam('days_until_due', 'Invalid days_until_due: it can only be set when collection_method is send_invoice.');
  }
  const nextDays = next === 'send_invoice' ? days ?? current?.days ?? null : null;
  if (next === 'send_invoice' && nextDays === null) throw invalidParam('days_until_due', 'Missing required param: days_until_due (required when collection_method is send_invoice).', 'parameter_missing');
  return { collection: next, days: nextDays };
}

export const createSubscription: Handler = (call) => {
  const { params, account } = call;
  allowOnly(params, CREATE_PARAMS);
  const paths = expandList(params);
  const customerId = optString(params, 'customer');
  if (customerId === undefined) throw missingParam('customer');
  const customerRec = account.customers.get(customerId);
  const clockNow = account.clockTime(customerRec?.value.test_clock ?? null);
  const itemParams = readItemParams(params, false);
  if (!itemParams) throw missingParam('items');
  const collection = readCollection(params, null) ?? { collection: 'charge_automatically' as const, days: null };
  const paymentBehavior: PaymentBehavior = optEnum(params, 'payment_behavior', PAYMENT_BEHAVIORS) ?? 'allow_incomplete';
  if (paymentBehavior === 'pending_if_incomplete') throw invalidParam('payment_behavior', 'payment_behavior=pending_if_incomplete is only supported when updating a subscription.');
  const trialEnd = readTrialEnd(params, clockNow);
  const trialDays = optInteger(params, 'trial_period_days', { min: 0, max: 730 });
  const trialFromPlan = optBoolean(params, 'trial_from_plan');
  if (trialFromPlan && (trialEnd !== undefined || trialDays !== undefined)) throw invalidParam('trial_from_plan', 'You cannot set trial_from_plan together with trial_end or trial_period_days.');
  const missingPm = readTrialSettings(params) ?? 'create_invoice';
  const defaultPm = optNullableString(params, 'default_payment_method') ?? null;
  const cancelAtPeriodEnd = optBoolean(params, 'cancel_at_period_end');
  const cancelAt = readCancelAt(params, clockNow);
  if (cancelAtPeriodEnd !== undefined && cancelAt !== undefined) throw invalidParam('cancel_at', 'You may only specify one of these parameters: cancel_at, cancel_at_period_end.');
  const billingModeParam = optHash(params, 'billing_mode');
  let billingMode: 'classic' | 'flexible' = 'flexible'; // the default from clover on (STRIPE.md §0)
  if (billingModeParam) {
    allowOnly(billingModeParam, ['type'], 'billing_mode');
    billingMode = optEnum(billingModeParam, 'type', ['classic', 'flexible'] as const, 'billing_mode[type]') ?? 'flexible';
  }
  optEnum(params, 'proration_behavior', PRORATION_BEHAVIORS);
  optBoolean(params, 'off_session');
  const paymentSettings = readPaymentSettings(params);
  const metadata = applyMetadata({}, params.metadata);
  const description = optNullableString(params, 'description') ?? null;

  // Parameters are valid: from here on the request has executed (its outcome is saved for the key).
  if (!customerRec || customerRec.meta.deleted) throw noSuch('customer', customerId, 'customer', 400);
  const customer = customerRec.value;
  const ctx = ctxOf(call, customer.test_clock);
  const now = ctx.now;
  const id = newId('sub');
  const items = itemParams.map((p, i) => newItem(findPrice(account, p.price!, `items[${i}][price]`), p.quantity ?? 1, id, now, p.metadata, p.param));
  checkItemPrices(items);
  if (defaultPm) requireAttachedPaymentMethod(account, customerId, defaultPm, 'default_payment_method');

  // trial_end takes precedence over trial_period_days, as in Stripe.
  const trialUntil = trialEnd === 'now' ? null : trialEnd ?? (trialDays ? now + trialDays * DAY : null);
  const sub: Subscription = {
    id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: trialUntil ?? now,
    billing_cycle_anchor_config: null,
    billing_mode: { type: billingMode, flexible: billingMode === 'flexible' ? { proration_discounts: 'included' } : null, updated_at: now },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, reason: null },
    collection_method: collection.collection,
    created: now,
    currency: items[0].price.currency,
    customer: customerId,
    customer_account: null,
    days_until_due: collection.days,
    default_payment_method: defaultPm,
    default_source: null,
    default_tax_rates: [],
    description,
    discounts: [],
    ended_at: null,
    invoice_settings: { account_tax_ids: null, issuer: { type: 'self' } },
    items: { object: 'list', data: items, has_more: false, total_count: items.length, url: `/v1/subscription_items?subscription=${id}` },
    latest_invoice: null,
    livemode: false,
    managed_payments: null,
    metadata,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: paymentSettings ?? { payment_method_options: null, payment_method_types: null, save_default_payment_method: 'off' },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: now,
    status: 'active',
    test_clock: customer.test_clock,
    transfer_data: null,
    trial_end: trialUntil,
    trial_settings: { end_behavior: { missing_payment_method: missingPm } },
    trial_start: trialUntil ? now : null,
  };
  const periodEnd = trialUntil ?? nextPeriodEnd(sub, now);
  setPeriod(sub, now, periodEnd);
  applyCancelFields(sub, cancelAtPeriodEnd, cancelAt, now);

  // Decide the status the way Stripe will end up, so the created event tells it (STRIPE.md §1, §5, §6).
  const lines = periodLines(account, sub, now, periodEnd, trialUntil !== null);
  const total = lines.reduce((sum, line) => sum + line.amount, 0);
  const due = dueAfterBalance(total, customer.balance);
  const charged = collection.collection === 'charge_automatically';
  let status: SubscriptionStatus = trialUntil ? 'trialing' : 'active';
  if (!trialUntil && charged && due > 0) {
    if (paymentBehavior === 'default_incomplete') status = 'incomplete';
    else {
      const outcome = chargeOutcome(resolvePaymentMethod(account, null, sub, customer));
      if (outcome !== 'succeed') {
        // No subscription is created; the caller gets the decline (HTTP 402) or the missing payment method.
        if (paymentBehavior === 'error_if_incomplete') throw chargeError(outcome);
        status = 'incomplete';
      }
    }
  }
  sub.status = status;
  const rec = account.add(account.subscriptions, sub, {
    trialWillEndFor: null,
    incompleteExpiresAt: status === 'incomplete' ? now + account.settings.incompleteExpiresAfterSeconds : null,
    pastDueEndAt: null,
    pendingUpdate: null,
  });
  // The subscription is announced first, pointing at its first invoice (Stripe's usual order, STRIPE.md §11).
  sub.latest_invoice = newId('in', 24);
  emit(ctx, 'customer.subscription.created', sub);
  const inv = createInvoice(ctx, { sub, reason: 'subscription_create', lines, autoAdvance: !charged, includePending: false, id: sub.latest_invoice });
  inv.meta.firstOfIncomplete = status === 'incomplete';
  if (charged) {
    // With charge_automatically the first invoice is finalized inside the create request (STRIPE.md §1).
    finalizeInvoice(ctx, inv);
    if (inv.value.status === 'open' && paymentBehavior !== 'default_incomplete') attemptPayment(ctx, inv, { automatic: true });
  }
  if (trialUntil && trialUntil - now <= TRIAL_WILL_END_BEFORE) trialWillEnd(ctx, rec);
  return view(call, sub, paths);
};

function applyCancelFields(sub: Subscription, atPeriodEnd: boolean | undefined, cancelAt: number | 'min_period_end' | 'max_period_end' | null | undefined, now: number): void {
  const periodEnd = periodOf(sub).end; // a trial's period ends at trial_end
  if (atPeriodEnd !== undefined) {
    sub.cancel_at_period_end = atPeriodEnd;
    sub.cancel_at = atPeriodEnd ? periodEnd : null;
    sub.canceled_at = atPeriodEnd ? now : null; // the time of the request, not of the period end (STRIPE.md §13)
  }
  if (cancelAt !== undefined) {
    sub.cancel_at_period_end = false;
    if (cancelAt === null) {
      sub.cancel_at = null;
      sub.canceled_at = null;
    } else {
      const ends = sub.items.data.map((i) => i.current_period_end);
      sub.cancel_at = cancelAt === 'min_period_end' ? Math.min(...ends) : cancelAt === 'max_period_end' ? Math.max(...ends) : cancelAt;
      sub.canceled_at = now;
    }
  }
}

export const retrieveSubscription: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  return view(call, liveSubscription(call.account, id).value, expandList(call.params));
};

// ---------------------------------------------------------------- update

const UPDATE_PARAMS = [
  'metadata', 'description', 'cancellation_details', 'trial_end', 'trial_settings', 'cancel_at_period_end', 'cancel_at', 'collection_method',
  'days_until_due', 'default_payment_method', 'items', 'proration_behavior', 'proration_date', 'payment_behavior', 'billing_cycle_anchor',
  'off_session', 'payment_settings', 'expand',
];
const TERMINAL_MAY_CHANGE = ['metadata', 'cancellation_details', 'expand'];
const INCOMPLETE_MAY_CHANGE = ['metadata', 'description', 'payment_settings', 'default_payment_method', 'cancellation_details', 'expand'];

interface ItemChange {
  itemId: string;
  before: { price: Price; quantity: number } | null;
  after: { price: Price; quantity: number } | null;
}

/** The items after the change, and what changed (for prorations). */
function applyItemParams(account: Account, sub: Subscription, itemParams: ItemParam[], now: number): { items: SubscriptionItem[]; changes: ItemChange[] } {
  const items = structuredClone(sub.items.data);
  const changes: ItemChange[] = [];
  itemParams.forEach((p, i) => {
    if (p.id) {
      const index = items.findIndex((item) => item.id === p.id);
      if (index === -1) throw invalidParam(`items[${i}][id]`, `No such subscription item: '${p.id}'`, 'resource_missing');
      const item = items[index];
      const before = { price: item.price, quantity: item.quantity };
      if (p.deleted) {
        items.splice(index, 1);
        changes.push({ itemId: item.id, before, after: null });
        return;
      }
      if (p.price && p.price !== item.price.id) {
        item.price = findPrice(account, p.price, `items[${i}][price]`);
        item.plan = planOf(item.price);
      }
      if (p.quantity !== undefined) item.quantity = p.quantity;
      item.metadata = applyMetadata(item.metadata, p.metadata, `items[${i}][metadata]`);
      if (before.price.id !== item.price.id || before.quantity !== item.quantity) changes.push({ itemId: item.id, before, after: { price: item.price, quantity: item.quantity } });
      return;
    }
    const { start, end } = periodOf(sub);
    const item = newItem(findPrice(account, p.price!, `items[${i}][price]`), p.quantity ?? 1, sub.id, now, p.metadata, p.param);
    item.current_period_start = start;
    item.current_period_end = end;
    items.push(item);
    changes.push({ itemId: item.id, before: null, after: { price: item.price, quantity: item.quantity } });
  });
  checkItemPrices(items);
  const { interval, count } = intervalOf(sub);
  if (items.some((item) => item.price.recurring?.interval !== interval || item.price.recurring?.interval_count !== count)) {
    throw invalidParam('items', 'fake-stripe does not model changing a subscription\'s billing interval (Stripe would reset the billing cycle).');
  }
  return { items, changes };
}

/** Credit for the unused time on the old quantity/price, debit for the new, from `at` to the period end (STRIPE.md §9). */
function prorationLines(account: Account, sub: Subscription, changes: ItemChange[], at: number): LineSpec[] {
  const { start, end } = periodOf(sub);
  if (!(BILLING_STATUSES as readonly string[]).includes(sub.status) || at >= end || at < start) return [];
  const fraction = (end - at) / (end - start);
  const lines: LineSpec[] = [];
  for (const change of changes) {
    for (const [side, sign, word] of [[change.before, -1, 'Unused'], [change.after, 1, 'Remaining']] as const) {
      if (!side) continue;
      const amount = sign * Math.round(side.price.unit_amount * side.quantity * fraction);
      if (amount === 0) continue;
      lines.push({
        amount,
        description: `${word} time on ${side.quantity} × ${productName(account, side.price)} after ${shortDate(at)}`,
        quantity: side.quantity,
        period: { start: at, end },
        price: side.price,
        subscriptionItem: change.itemId,
        proration: true,
        invoiceItem: null,
      });
    }
  }
  return lines;
}

export const updateSubscription: Handler = (call, id) => {
  const { params, account } = call;
  allowOnly(params, UPDATE_PARAMS);
  const paths = expandList(params);
  const rec = liveSubscription(account, id);
  const sub = rec.value;
  const clockNow = account.clockTime(sub.test_clock);
  const trialEnd = readTrialEnd(params, clockNow);
  const missingPm = readTrialSettings(params);
  const cancelAtPeriodEnd = optBoolean(params, 'cancel_at_period_end');
  const cancelAt = readCancelAt(params, clockNow);
  if (cancelAtPeriodEnd !== undefined && cancelAt !== undefined) throw invalidParam('cancel_at', 'You may only specify one of these parameters: cancel_at, cancel_at_period_end.');
  const collection = readCollection(params, { collection: sub.collection_method, days: sub.days_until_due });
  const defaultPm = optNullableString(params, 'default_payment_method');
  const itemParams = readItemParams(params, true);
  const proration: ProrationBehavior = optEnum(params, 'proration_behavior', PRORATION_BEHAVIORS) ?? 'create_prorations';
  const prorationDate = parseInteger(params.proration_date, 'proration_date');
  const paymentBehavior: PaymentBehavior = optEnum(params, 'payment_behavior', PAYMENT_BEHAVIORS) ?? 'allow_incomplete';
  const anchor = optEnum(params, 'billing_cycle_anchor', ['now', 'unchanged'] as const);
  optBoolean(params, 'off_session');
  const paymentSettings = readPaymentSettings(params);
  const details = readCancellationDetails(params);
  const description = optNullableString(params, 'description');
  applyMetadata(sub.metadata, params.metadata);

  // Executed from here: state checks are saved for the idempotency key.
  if (isTerminal(sub) && Object.keys(params).some((k) => !TERMINAL_MAY_CHANGE.includes(k))) {
    throw stateError(`A ${sub.status} subscription can only update its cancellation_details and metadata.`);
  }
  if (sub.status === 'incomplete' && Object.keys(params).some((k) => !INCOMPLETE_MAY_CHANGE.includes(k))) {
    throw stateError('You cannot update a subscription in `incomplete` status in a way that results in a new invoice or invoice items. Only metadata, description, payment_settings and default_payment_method may change until its first invoice is paid.');
  }
  if (sub.status === 'paused' && trialEnd !== undefined) throw stateError('A paused subscription must be resumed before its trial can be changed.', 'trial_end');
  if (defaultPm) requireAttachedPaymentMethod(account, sub.customer, defaultPm, 'default_payment_method');
  const ctx = ctxOf(call, sub.test_clock);
  const now = ctx.now;
  const at = prorationDate ?? now;
  const customer = customerOf(account, sub.customer);

  const next: Subscription = structuredClone(sub);
  next.metadata = applyMetadata(next.metadata, params.metadata);
  if (description !== undefined) next.description = description;
  if (details) next.cancellation_details = { ...next.cancellation_details, ...details } as Subscription['cancellation_details'];
  if (defaultPm !== undefined) next.default_payment_method = defaultPm;
  if (paymentSettings) next.payment_settings = paymentSettings;
  if (missingPm) next.trial_settings = { end_behavior: { missing_payment_method: missingPm } };
  if (collection) {
    next.collection_method = collection.collection;
    next.days_until_due = collection.days;
  }

  // Items: the new list, and proration lines for the part of the period left (none in a trial or paused).
  let itemChanges: ItemChange[] = [];
  if (itemParams) {
    const applied = applyItemParams(account, next, itemParams, now);
    next.items = { ...next.items, data: applied.items, total_count: applied.items.length };
    itemChanges = applied.changes;
  }
  const prorations = proration === 'none' ? [] : prorationLines(account, sub, itemChanges, at);

  // trial_end: 'now' ends the trial (a new period, invoiced now); a future time starts or moves it.
  let newPeriodNow = false;
  if (trialEnd === 'now') {
    if (sub.status === 'trialing') {
      next.trial_end = now;
      newPeriodNow = true;
    }
  } else if (trialEnd !== undefined) {
    if (next.status !== 'trialing') next.trial_start = now;
    next.status = 'trialing';
    next.trial_end = trialEnd;
    next.billing_cycle_anchor = trialEnd;
    setPeriod(next, next.status === sub.status ? periodOf(sub).start : now, trialEnd);
  }
  if (anchor === 'now' && (BILLING_STATUSES as readonly string[]).includes(sub.status)) newPeriodNow = true;
  applyCancelFields(next, cancelAtPeriodEnd, cancelAt, now);
  if (next.cancel_at_period_end && cancelAtPeriodEnd === undefined && cancelAt === undefined) next.cancel_at = next.status === 'trialing' ? next.trial_end : periodOf(next).end;

  // What is invoiced now: a new period (trial ended, anchor reset), or the prorations with always_invoice.
  const invoiceNow = newPeriodNow || (proration === 'always_invoice' && prorations.length > 0);
  if (invoiceNow && next.collection_method === 'charge_automatically') {
    const newPeriodTotal = newPeriodNow ? periodLines(account, next, now, now + 1, false).reduce((s, l) => s + l.amount, 0) : 0;
    const total = newPeriodTotal + prorations.reduce((s, l) => s + l.amount, 0) + pendingTotal(account, sub.id);
    const due = dueAfterBalance(total, customer.balance);
    if (due > 0 && (paymentBehavior === 'error_if_incomplete' || paymentBehavior === 'pending_if_incomplete')) {
      const outcome = chargeOutcome(resolvePaymentMethod(account, null, next, customer));
      if (outcome !== 'succeed') {
        if (paymentBehavior === 'error_if_incomplete') throw chargeError(outcome); // HTTP 402, nothing changes (STRIPE.md §9)
        if (!newPeriodNow && itemParams) return pendingUpdate(call, rec, next, prorations, paths);
      }
    }
  }

  // Apply: one customer.subscription.updated with every change, then the invoice's own events.
  const before = structuredClone(sub);
  for (const line of proration === 'always_invoice' || newPeriodNow ? [] : prorations) createInvoiceItem(ctx, next, line);
  rec.value = next;
  if (trialEnd !== undefined && next.trial_end !== before.trial_end) rec.meta.trialWillEndFor = null;
  let inv: InvoiceRec | null = null;
  if (newPeriodNow) {
    for (const line of prorations) createInvoiceItem(ctx, next, line);
    const status = next.status === 'trialing' ? 'active' : (next.status as 'active' | 'past_due' | 'unpaid');
    next.billing_cycle_anchor = now;
    inv = startNewPeriodSilently(ctx, rec, now, status);
  } else {
    if (invoiceNow) {
      for (const line of prorations) createInvoiceItem(ctx, next, line);
      inv = createInvoice(ctx, { sub: next, reason: 'subscription_update', lines: [], autoAdvance: next.collection_method === 'send_invoice', includePending: true });
      next.latest_invoice = inv.value.id;
    }
  }
  emitUpdated(ctx, 'customer.subscription.updated', before, next);
  if (trialEnd !== undefined && next.status === 'trialing' && next.trial_end! - now <= TRIAL_WILL_END_BEFORE) trialWillEnd(ctx, rec);
  if (trialEnd === 'now' && before.status === 'trialing') trialWillEnd(ctx, rec); // sent at once when a trial is ended early (STRIPE.md §2)
  if (inv && next.collection_method === 'charge_automatically') {
    finalizeInvoice(ctx, inv);
    if (inv.value.status === 'open' && paymentBehavior !== 'default_incomplete') attemptPayment(ctx, inv, { automatic: true });
    else if (inv.value.status === 'open' && (next.status === 'active' || next.status === 'trialing')) {
      // default_incomplete: the payment awaits confirmation and the subscription is past_due meanwhile.
      const waiting = structuredClone(next);
      next.status = 'past_due';
      emitUpdated(ctx, 'customer.subscription.updated', waiting, next);
    }
  }
  return view(call, rec.value, paths);
};

function pendingTotal(account: Account, subscriptionId: string): number {
  let total = 0;
  for (const item of account.invoiceItems.values()) {
    if (item.value.invoice === null && item.value.parent?.subscription_details.subscription === subscriptionId) total += item.value.amount;
  }
  return total;
}

/** A new period from `start` whose subscription.updated the caller emits (it carries the other changes too). */
function startNewPeriodSilently(ctx: Ctx, rec: SubRec, start: number, status: 'active' | 'past_due' | 'unpaid'): InvoiceRec {
  const s = rec.value;
  const end = nextPeriodEnd(s, start);
  setPeriod(s, start, end);
  s.status = status;
  const inv = createInvoice(ctx, { sub: s, reason: 'subscription_update', lines: periodLines(ctx.account, s, start, end, false), autoAdvance: s.collection_method === 'send_invoice', includePending: true });
  s.latest_invoice = inv.value.id;
  return inv;
}

/**
 * payment_behavior=pending_if_incomplete whose payment fails: the item changes wait in
 * `pending_update` until the invoice is paid, or expire with it after 23 h (STRIPE.md §9).
 */
function pendingUpdate(call: Call, rec: SubRec, next: Subscription, prorations: LineSpec[], paths: string[]): Json {
  const ctx = ctxOf(call, rec.value.test_clock);
  const sub = rec.value;
  const before = structuredClone(sub);
  const expiresAt = ctx.now + ctx.account.settings.incompleteExpiresAfterSeconds;
  // Non-item changes apply now; the items wait.
  const kept: Subscription = { ...structuredClone(next), items: structuredClone(sub.items) };
  for (const line of prorations) createInvoiceItem(ctx, kept, line);
  const inv = createInvoice(ctx, { sub: kept, reason: 'subscription_update', lines: [], autoAdvance: false, includePending: true });
  kept.pending_update = { billing_cycle_anchor: null, expires_at: expiresAt, subscription_items: structuredClone(next.items.data), trial_end: null, trial_from_plan: null };
  kept.latest_invoice = inv.value.id;
  rec.value = kept;
  rec.meta.pendingUpdate = { invoice: inv.value.id, apply: { items: structuredClone(next.items.data) } };
  emitUpdated(ctx, 'customer.subscription.updated', before, kept);
  inv.value.auto_advance = true;
  finalizeInvoice(ctx, inv);
  if (inv.value.status === 'open') {
    inv.meta.firstOfIncomplete = true; // not retried: the update expires instead
    attemptPayment(ctx, inv, { automatic: true });
  }
  return view(call, rec.value, paths);
}

// ---------------------------------------------------------------- cancel, list

/** Cancel now (DELETE). `prorate` credits unused time; `invoice_now` bills pending items on a final invoice (STRIPE.md §13). */
export const cancelSubscription: Handler = (call, id) => {
  const { params, account } = call;
  allowOnly(params, ['invoice_now', 'prorate', 'cancellation_details', 'expand']);
  const paths = expandList(params);
  const invoiceNow = optBoolean(params, 'invoice_now') ?? false;
  const prorate = optBoolean(params, 'prorate') ?? false;
  const details = readCancellationDetails(params);
  const rec = liveSubscription(account, id);
  if (isTerminal(rec.value)) throw stateError(`This subscription has already been canceled: '${id}'`, undefined, 'resource_missing');
  const ctx = ctxOf(call, rec.value.test_clock);
  const sub = rec.value;
  if (prorate) {
    const credit = prorationLines(account, sub, sub.items.data.map((i) => ({ itemId: i.id, before: { price: i.price, quantity: i.quantity }, after: null })), ctx.now);
    for (const line of credit) createInvoiceItem(ctx, sub, line);
  }
  if (!invoiceNow && !prorate) {
    for (const [key, item] of account.invoiceItems) {
      if (item.value.invoice === null && item.value.proration && item.value.parent?.subscription_details.subscription === id) {
        account.invoiceItems.delete(key);
        emit(ctx, 'invoiceitem.deleted', { id: key, object: 'invoiceitem', deleted: true });
      }
    }
  }
  cancelNow(ctx, rec, 'cancellation_requested', details ?? {});
  if (invoiceNow && pendingTotal(account, id) !== 0) {
    const inv = createInvoice(ctx, { sub: rec.value, reason: 'subscription_update', lines: [], autoAdvance: false, includePending: true });
    finalizeInvoice(ctx, inv);
    if (inv.value.status === 'open' && inv.value.collection_method === 'charge_automatically') attemptPayment(ctx, inv, { automatic: false });
  }
  return view(call, rec.value, paths);
};

const LIST_STATUSES = ['active', 'past_due', 'unpaid', 'canceled', 'incomplete', 'incomplete_expired', 'trialing', 'paused', 'all', 'ended'] as const;

/** Without `status`, Stripe lists the subscriptions that are not canceled. */
export const listSubscriptions: Handler = (call) => {
  const { params } = call;
  allowOnly(params, ['customer', 'status', 'price', 'collection_method', 'test_clock', 'limit', 'starting_after', 'ending_before', 'expand']);
  const paths = expandList(params).map((p) => {
    if (!p.startsWith('data.')) throw invalidParam('expand', `This property cannot be expanded (${p}). Expand list members with data.<field>.`);
    return p.slice(5);
  });
  const customer = optString(params, 'customer');
  const price = optString(params, 'price');
  const clock = optString(params, 'test_clock');
  const collection = optEnum(params, 'collection_method', ['charge_automatically', 'send_invoice'] as const);
  const status = optEnum(params, 'status', LIST_STATUSES);
  const statusMatches = (s: SubscriptionStatus) => {
    if (status === 'all') return true;
    if (status === undefined) return s !== 'canceled' && s !== 'incomplete_expired';
    if (status === 'ended') return s === 'canceled' || s === 'incomplete_expired';
    return s === status;
  };
  const page = paginate(
    call.account.subscriptions.values(),
    (s) =>
      (customer === undefined || s.customer === customer) &&
      (price === undefined || s.items.data.some((item) => item.price.id === price)) &&
      (clock === undefined || s.test_clock === clock) &&
      (collection === undefined || s.collection_method === collection) &&
      statusMatches(s.status),
    params,
    '/v1/subscriptions',
    'subscription',
  );
  return { ...page, data: page.data.map((s) => expand(call.account, s, paths)) };
};

// ---------------------------------------------------------------- pause and resume (endive GA, STRIPE.md §0, §2)

export const pauseSubscription: Handler = (call, id) => {
  const { params, account } = call;
  allowOnly(params, ['bill_for', 'invoicing_behavior', 'type', 'expand']);
  const paths = expandList(params);
  const billFor = optHash(params, 'bill_for');
  let unusedFrom: 'now' | 'none' | 'item_current_period_start' = 'now';
  if (billFor) {
    allowOnly(billFor, ['outstanding_usage_through', 'unused_time_from'], 'bill_for');
    const unused = optHash(billFor, 'unused_time_from', 'bill_for[unused_time_from]');
    if (unused) unusedFrom = optEnum(unused, 'type', ['now', 'none', 'item_current_period_start'] as const, 'bill_for[unused_time_from][type]') ?? 'now';
  }
  const invoicing = optEnum(params, 'invoicing_behavior', ['invoice', 'pending_invoice_item'] as const) ?? 'pending_invoice_item';
  optEnum(params, 'type', ['subscription'] as const);
  const rec = liveSubscription(account, id);
  const sub = rec.value;
  if (sub.billing_mode.type !== 'flexible') throw stateError('Pausing is only available for subscriptions in flexible billing mode.');
  if (sub.collection_method !== 'charge_automatically') throw stateError('Pausing is not available for subscriptions with collection_method=send_invoice.');
  if (!['active', 'trialing', 'past_due'].includes(sub.status)) throw stateError(`A subscription in status ${sub.status} cannot be paused.`);
  const ctx = ctxOf(call, sub.test_clock);
  const from = unusedFrom === 'item_current_period_start' ? periodOf(sub).start : ctx.now;
  const credit =
    unusedFrom === 'none'
      ? []
      : prorationLines(account, sub, sub.items.data.map((i) => ({ itemId: i.id, before: { price: i.price, quantity: i.quantity }, after: null })), from);
  for (const line of credit) createInvoiceItem(ctx, sub, line);
  if (invoicing === 'invoice' && credit.length > 0) {
    const inv = createInvoice(ctx, { sub, reason: 'subscription_update', lines: [], autoAdvance: false, includePending: true });
    finalizeInvoice(ctx, inv);
  }
  const before = structuredClone(sub);
  sub.status = 'paused';
  sub.status_details = { paused: { subscription: { type: 'pause_requested' }, transitioned_at: ctx.now, type: 'subscription' } };
  emitUpdated(ctx, 'customer.subscription.updated', before, sub);
  emit(ctx, 'customer.subscription.paused', sub);
  return view(call, sub, paths);
};

export const resumeSubscription: Handler = (call, id) => {
  const { params, account } = call;
  allowOnly(params, ['billing_cycle_anchor', 'proration_behavior', 'proration_date', 'payment_behavior', 'expand']);
  const paths = expandList(params);
  // The SDK sends `billing_cycle_anchor` as a string (older) or `{ type }` (endive).
  let anchor: 'now' | 'unchanged' = 'now';
  const rawAnchor = params.billing_cycle_anchor;
  if (typeof rawAnchor === 'string') anchor = optEnum(params, 'billing_cycle_anchor', ['now', 'unchanged'] as const) ?? 'now';
  else if (rawAnchor !== undefined) {
    const hash = optHash(params, 'billing_cycle_anchor') as FormObject;
    allowOnly(hash, ['type'], 'billing_cycle_anchor');
    anchor = optEnum(hash, 'type', ['now', 'unchanged'] as const, 'billing_cycle_anchor[type]') ?? 'now';
  }
  const proration: ProrationBehavior = optEnum(params, 'proration_behavior', PRORATION_BEHAVIORS) ?? 'create_prorations';
  const prorationDate = parseInteger(params.proration_date, 'proration_date');
  const behavior = optEnum(params, 'payment_behavior', ['resume_on_payment_attempt', 'resume_on_payment_success'] as const) ?? 'resume_on_payment_attempt';
  const rec = liveSubscription(account, id);
  const sub = rec.value;
  if (sub.status !== 'paused') throw stateError(`Only paused subscriptions can be resumed. This subscription is ${sub.status}.`);
  if (sub.collection_method !== 'charge_automatically') throw stateError('Resume is only available for subscriptions with collection_method=charge_automatically.');
  const ctx = ctxOf(call, sub.test_clock);
  const now = ctx.now;

  let inv: InvoiceRec | null = null;
  if (anchor === 'now') {
    // A new cycle starts now, billed in full; no prorations (STRIPE.md §2).
    const end = nextPeriodEnd({ ...sub, billing_cycle_anchor: now }, now);
    const before = structuredClone(sub);
    sub.billing_cycle_anchor = now;
    setPeriod(sub, now, end);
    inv = createInvoice(ctx, { sub, reason: 'subscription_update', lines: periodLines(account, sub, now, end, false), autoAdvance: false, includePending: true });
    sub.latest_invoice = inv.value.id;
    emitUpdated(ctx, 'customer.subscription.updated', before, sub);
  } else {
    // Unchanged anchor: the periods move up to surround now, and the partial period is debited.
    let { start, end } = periodOf(sub);
    while (end <= now) {
      start = end;
      end = nextPeriodEnd(sub, start);
    }
    const before = structuredClone(sub);
    setPeriod(sub, start, end);
    const at = prorationDate ?? now;
    const fraction = (end - at) / (end - start);
    const lines: LineSpec[] =
      proration === 'none'
        ? []
        : sub.items.data
            .map((item) => ({
              amount: Math.round(item.price.unit_amount * item.quantity * fraction),
              description: `Remaining time on ${item.quantity} × ${productName(account, item.price)} after ${shortDate(at)}`,
              quantity: item.quantity,
              period: { start: at, end },
              price: item.price,
              subscriptionItem: item.id,
              proration: true,
              invoiceItem: null,
            }))
            .filter((l) => l.amount !== 0);
    if (proration === 'always_invoice' && lines.length > 0) {
      for (const line of lines) createInvoiceItem(ctx, sub, line);
      inv = createInvoice(ctx, { sub, reason: 'subscription_update', lines: [], autoAdvance: false, includePending: true });
      sub.latest_invoice = inv.value.id;
    } else {
      for (const line of lines) createInvoiceItem(ctx, sub, line);
    }
    emitUpdated(ctx, 'customer.subscription.updated', before, sub);
  }
  if (!inv) {
    resumeActive(ctx, rec);
    return view(call, rec.value, paths);
  }
  inv.value.auto_advance = true;
  inv.meta.resume = behavior;
  inv.meta.voidAt = now + account.settings.incompleteExpiresAfterSeconds; // unpaid after 23 h: voided, stays paused
  finalizeInvoice(ctx, inv); // at once; a $0 one is paid and the subscription is active
  if (inv.value.status === 'open') {
    if (behavior === 'resume_on_payment_success') attemptPayment(ctx, inv, { automatic: true });
    else inv.meta.attemptAt = now; // attempted right after this request (STRIPE.md §2)
  }
  return view(call, rec.value, paths);
};

// ---------------------------------------------------------------- subscription items

function findItem(account: Account, id: string): { sub: SubRec; item: SubscriptionItem } {
  for (const sub of account.subscriptions.values()) {
    const item = sub.value.items.data.find((i) => i.id === id);
    if (item) return { sub, item };
  }
  throw noSuch('subscription_item', id);
}

export const retrieveSubscriptionItem: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  return expand(call.account, findItem(call.account, id).item, expandList(call.params));
};

export const listSubscriptionItems: Handler = (call) => {
  allowOnly(call.params, ['subscription', 'limit', 'starting_after', 'ending_before', 'expand']);
  const subscription = optString(call.params, 'subscription');
  if (!subscription) throw missingParam('subscription');
  const sub = call.account.subscriptions.get(subscription);
  if (!sub) throw noSuch('subscription', subscription, 'subscription', 400);
  const data = sub.value.items.data;
  return { object: 'list', data, has_more: false, url: '/v1/subscription_items' };
};

/** `subscriptionItems.update(si, {...})`: the same change as `subscriptions.update(sub, { items: [{ id: si, ... }] })`. */
export const updateSubscriptionItem: Handler = (call, id) => {
  const { params } = call;
  allowOnly(params, ['quantity', 'price', 'metadata', 'proration_behavior', 'proration_date', 'payment_behavior', 'off_session', 'expand']);
  const { sub } = findItem(call.account, id);
  const item: FormObject = { id };
  for (const key of ['quantity', 'price', 'metadata'] as const) if (params[key] !== undefined) item[key] = params[key];
  const translated: FormObject = { items: [item] };
  for (const key of ['proration_behavior', 'proration_date', 'payment_behavior', 'off_session'] as const) if (params[key] !== undefined) translated[key] = params[key];
  updateSubscription({ ...call, params: translated }, sub.value.id, '');
  return findItem(call.account, id).item;
};


// The customer portal (STRIPE.md §8): configurations (what a customer may do), sessions (a
// short-lived link for one customer, optionally deep-linked into a flow), and the actions of the
// hosted page, each made through the same code as the API call Stripe makes for it, so the events
// are those of the API (customer.subscription.updated, payment_method.attached, customer.updated).
import { isTerminal, periodOf } from './billing';
import { ctxOf, type Call, type Handler } from './call';
import { cardFromNumber } from './checkout';
import { attachPaymentMethod, liveCustomer } from './customers';
import { ApiError, invalidParam, missingParam, noSuch, stateError } from './errors';
import type { FormObject, FormValue } from './form';
import { newId } from './ids';
import { allowOnly, applyMetadata, expandList, optArray, optBoolean, optEnum, optHash, optString, requiredString, type Json } from './params';
import { cancelSubscription, updateSubscription } from './subscriptions';
import { emit, emitUpdated, type Account, type PortalConfiguration, type PortalSession, type PortalSessionMeta, type Rec, type Subscription } from './state';
import { expand, paginate } from './views';

export type PortalSessionRec = Rec<PortalSession, PortalSessionMeta>;

const PRORATIONS = ['none', 'create_prorations', 'always_invoice'] as const;
const UPDATES = ['price', 'quantity', 'promotion_code'] as const;

// ---------------------------------------------------------------- configurations

function flag(hash: FormObject | '' | undefined, label: string): boolean | undefined {
  if (!hash) return undefined;
  return optBoolean(hash, 'enabled', `${label}[enabled]`);
}

/** `features[...]` as Stripe stores it; what is not given keeps `current` (or Stripe's default: off). */
function readFeatures(account: Account, value: FormObject | '' | undefined, current: PortalConfiguration['features'] | null): PortalConfiguration['features'] {
  const features: PortalConfiguration['features'] = structuredClone(
    current ?? {
      customer_update: { allowed_updates: [], enabled: false },
      invoice_history: { enabled: false },
      payment_method_update: { enabled: false },
      subscription_cancel: { enabled: false, mode: 'at_period_end', proration_behavior: 'none', cancellation_reason: { enabled: false, options: [] } },
      subscription_update: { enabled: false, default_allowed_updates: [], products: [], proration_behavior: 'none', trial_update_behavior: 'end_trial', schedule_at_period_end: { conditions: [] } },
    },
  );
  if (!value) return features;
  allowOnly(value, ['customer_update', 'invoice_history', 'payment_method_update', 'subscription_cancel', 'subscription_update'], 'features');
  const customerUpdate = optHash(value, 'customer_update', 'features[customer_update]');
  if (customerUpdate) {
    allowOnly(customerUpdate, ['enabled', 'allowed_updates'], 'features[customer_update]');
    const allowed = optArray(customerUpdate, 'allowed_updates', 'features[customer_update][allowed_updates]');
    features.customer_update = { enabled: flag(customerUpdate, 'features[customer_update]') ?? false, allowed_updates: (allowed ?? []) as string[] };
  }
  for (const key of ['invoice_history', 'payment_method_update'] as const) {
    const hash = optHash(value, key, `features[${key}]`);
    if (!hash) continue;
    allowOnly(hash, ['enabled'], `features[${key}]`);
    const enabled = flag(hash, `features[${key}]`);
    if (enabled === undefined) throw missingParam(`features[${key}][enabled]`);
    features[key] = { enabled };
  }
  const cancel = optHash(value, 'subscription_cancel', 'features[subscription_cancel]');
  if (cancel) {
    allowOnly(cancel, ['enabled', 'mode', 'proration_behavior', 'cancellation_reason'], 'features[subscription_cancel]');
    features.subscription_cancel = {
      ...features.subscription_cancel,
      enabled: flag(cancel, 'features[subscription_cancel]') ?? features.subscription_cancel.enabled,
      mode: optEnum(cancel, 'mode', ['at_period_end', 'immediately'] as const, 'features[subscription_cancel][mode]') ?? features.subscription_cancel.mode,
      proration_behavior: optEnum(cancel, 'proration_behavior', PRORATIONS, 'features[subscription_cancel][proration_behavior]') ?? features.subscription_cancel.proration_behavior,
    };
  }
  const update = optHash(value, 'subscription_update', 'features[subscription_update]');
  if (update) {
    allowOnly(update, ['enabled', 'default_allowed_updates', 'products', 'proration_behavior', 'trial_update_behavior'], 'features[subscription_update]');
    const allowed = optArray(update, 'default_allowed_updates', 'features[subscription_update][default_allowed_updates]');
    if (allowed && !allowed.every((u) => (UPDATES as readonly FormValue[]).includes(u))) {
      throw invalidParam('features[subscription_update][default_allowed_updates]', `Each must be one of ${UPDATES.join(', ')}`);
    }
    const products = optArray(update, 'products', 'features[subscription_update][products]');
    const next = {
      ...features.subscription_update,
      enabled: flag(update, 'features[subscription_update]') ?? features.subscription_update.enabled,
      default_allowed_updates: (allowed as PortalConfiguration['features']['subscription_update']['default_allowed_updates'] | undefined) ?? features.subscription_update.default_allowed_updates,
      products: products ? products.map((p, i) => readProduct(account, p, `features[subscription_update][products][${i}]`)) : features.subscription_update.products,
      proration_behavior: optEnum(update, 'proration_behavior', PRORATIONS, 'features[subscription_update][proration_behavior]') ?? features.subscription_update.proration_behavior,
      trial_update_behavior: optEnum(update, 'trial_update_behavior', ['end_trial', 'continue_trial'] as const, 'features[subscription_update][trial_update_behavior]') ?? features.subscription_update.trial_update_behavior,
    };
    if (next.enabled && next.default_allowed_updates.includes('price') && next.products.length === 0) {
      throw invalidParam('features[subscription_update][products]', 'You must specify products when price updates are allowed.', 'parameter_missing');
    }
    features.subscription_update = next;
  }
  return features;
}

function readProduct(account: Account, value: FormValue, param: string): { product: string; prices: string[] } {
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidParam(param, 'Invalid hash', 'parameter_invalid_hash');
  allowOnly(value, ['product', 'prices', 'adjustable_quantity'], param);
  const product = requiredString(value, 'product', `${param}[product]`);
  if (!account.products.has(product)) throw invalidParam(`${param}[product]`, `No such product: '${product}'`, 'resource_missing');
  const prices = (optArray(value, 'prices', `${param}[prices]`) ?? []) as string[];
  if (prices.length === 0) throw missingParam(`${param}[prices]`);
  for (const price of prices) {
    const rec = account.prices.get(price);
    if (!rec) throw invalidParam(`${param}[prices]`, `No such price: '${price}'`, 'resource_missing');
    if (rec.value.product !== product) throw invalidParam(`${param}[prices]`, `The price ${price} does not belong to product ${product}.`);
    if (!rec.value.recurring) throw invalidParam(`${param}[prices]`, `The price ${price} is not a recurring price.`);
  }
  return { product, prices };
}

function readBusinessProfile(value: FormObject | '' | undefined, current: Json): Json {
  if (!value) return current;
  allowOnly(value, ['headline', 'privacy_policy_url', 'terms_of_service_url'], 'business_profile');
  return { ...current, ...Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === '' ? null : v])) };
}

export const createPortalConfiguration: Handler = (call) => {
  const { params, account } = call;
  allowOnly(params, ['features', 'business_profile', 'default_return_url', 'metadata', 'expand']);
  const paths = expandList(params);
  const features = readFeatures(account, optHash(params, 'features'), null);
  const metadata = applyMetadata({}, params.metadata);
  const returnUrl = optString(params, 'default_return_url') ?? null;
  const profile = readBusinessProfile(optHash(params, 'business_profile'), { headline: null, privacy_policy_url: null, terms_of_service_url: null });
  const now = account.env.realNow();
  const configuration: PortalConfiguration = {
    id: newId('bpc', 24),
    object: 'billing_portal.configuration',
    active: true,
    application: null,
    business_profile: profile,
    created: now,
    default_return_url: returnUrl,
    features,
    // Stripe's default configuration is the one saved in the Dashboard; one made through the API never is.
    is_default: false,
    livemode: false,
    login_page: { enabled: false, url: null },
    metadata,
    updated: now,
  };
  account.add(account.billingPortalConfigurations, configuration, {});
  emit({ account, now, origin: { id: call.requestId, idempotency_key: call.idempotencyKey } }, 'billing_portal.configuration.created', configuration);
  return expand(account, configuration, paths);
};

function findConfiguration(account: Account, id: string, param = 'id', status = 404): Rec<PortalConfiguration> {
  const rec = account.billingPortalConfigurations.get(id);
  if (!rec) throw noSuch('billing_portal.configuration', id, param, status);
  return rec;
}

export const retrievePortalConfiguration: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  return expand(call.account, findConfiguration(call.account, id).value, expandList(call.params));
};

export const updatePortalConfiguration: Handler = (call, id) => {
  const { params, account } = call;
  allowOnly(params, ['active', 'features', 'business_profile', 'default_return_url', 'metadata', 'expand']);
  const paths = expandList(params);
  const rec = findConfiguration(account, id);
  const before = structuredClone(rec.value);
  const active = optBoolean(params, 'active');
  const next: PortalConfiguration = {
    ...rec.value,
    features: readFeatures(account, optHash(params, 'features'), rec.value.features),
    business_profile: readBusinessProfile(optHash(params, 'business_profile'), rec.value.business_profile as Json),
    metadata: applyMetadata(rec.value.metadata, params.metadata),
    ...(active !== undefined ? { active } : {}),
    ...(params.default_return_url !== undefined ? { default_return_url: optString(params, 'default_return_url') || null } : {}),
    updated: account.env.realNow(),
  };
  rec.value = next;
  emitUpdated({ account, now: account.env.realNow(), origin: { id: call.requestId, idempotency_key: call.idempotencyKey } }, 'billing_portal.configuration.updated', before, next);
  return expand(account, next, paths);
};

export const listPortalConfigurations: Handler = (call) => {
  const { params } = call;
  allowOnly(params, ['active', 'is_default', 'limit', 'starting_after', 'ending_before']);
  const active = optBoolean(params, 'active');
  const isDefault = optBoolean(params, 'is_default');
  return paginate(
    call.account.billingPortalConfigurations.values(),
    (c) => (active === undefined || c.active === active) && (isDefault === undefined || c.is_default === isDefault),
    params,
    '/v1/billing_portal/configurations',
    'billing_portal.configuration',
  );
};

// ---------------------------------------------------------------- sessions

function customersSubscription(account: Account, customerId: string, id: string, param: string): Subscription {
  const sub = account.subscriptions.get(id);
  if (!sub || sub.value.customer !== customerId) throw invalidParam(param, `No such subscription: '${id}' for this customer.`, 'resource_missing');
  return sub.value;
}

/** `flow_data`: a deep link into one flow, checked against the configuration as Stripe does when the session is made. */
function readFlow(account: Account, value: FormObject, customerId: string, configuration: PortalConfiguration): Json {
  allowOnly(value, ['type', 'after_completion', 'subscription_cancel', 'subscription_update', 'subscription_update_confirm'], 'flow_data');
  const type = optEnum(value, 'type', ['payment_method_update', 'subscription_cancel', 'subscription_update', 'subscription_update_confirm'] as const, 'flow_data[type]');
  if (!type) throw missingParam('flow_data[type]');
  const { features } = configuration;
  const flow: Json = { type, after_completion: { type: 'portal_homepage', hosted_confirmation: null, redirect: null }, subscription_cancel: null, subscription_update: null, subscription_update_confirm: null };
  const after = optHash(value, 'after_completion', 'flow_data[after_completion]');
  if (after) {
    allowOnly(after, ['type', 'redirect', 'hosted_confirmation'], 'flow_data[after_completion]');
    const afterType = optEnum(after, 'type', ['portal_homepage', 'redirect', 'hosted_confirmation'] as const, 'flow_data[after_completion][type]');
    if (!afterType) throw missingParam('flow_data[after_completion][type]');
    const redirect = optHash(after, 'redirect', 'flow_data[after_completion][redirect]');
    if (afterType === 'redirect' && !redirect) throw missingParam('flow_data[after_completion][redirect][return_url]');
    const returnUrl = redirect ? requiredString(redirect, 'return_url', 'flow_data[after_completion][redirect][return_url]') : null;
    const confirmation = optHash(after, 'hosted_confirmation', 'flow_data[after_completion][hosted_confirmation]');
    flow.after_completion = {
      type: afterType,
      redirect: afterType === 'redirect' ? { return_url: returnUrl } : null,
      hosted_confirmation: afterType === 'hosted_confirmation' ? { custom_message: confirmation ? optString(confirmation, 'custom_message') ?? null : null } : null,
    };
  }
  const needs = (enabled: boolean, feature: string) => {
    if (!enabled) throw invalidParam('flow_data[type]', `The flow ${type} needs features.${feature} enabled on the configuration ${configuration.id}.`);
  };
  switch (type) {
    case 'payment_method_update':
      needs(features.payment_method_update.enabled, 'payment_method_update');
      break;
    case 'subscription_cancel': {
      needs(features.subscription_cancel.enabled, 'subscription_cancel');
      const hash = optHash(value, 'subscription_cancel', 'flow_data[subscription_cancel]');
      if (!hash) throw missingParam('flow_data[subscription_cancel][subscription]');
      const sub = customersSubscription(account, customerId, requiredString(hash, 'subscription', 'flow_data[subscription_cancel][subscription]'), 'flow_data[subscription_cancel][subscription]');
      if (isTerminal(sub)) throw stateError('This subscription has already been canceled.', 'flow_data[subscription_cancel][subscription]');
      if (sub.cancel_at !== null) throw stateError('This subscription is already set to be canceled.', 'flow_data[subscription_cancel][subscription]');
      flow.subscription_cancel = { retention: null, subscription: sub.id };
      break;
    }
    case 'subscription_update': {
      needs(features.subscription_update.enabled, 'subscription_update');
      const hash = optHash(value, 'subscription_update', 'flow_data[subscription_update]');
      if (!hash) throw missingParam('flow_data[subscription_update][subscription]');
      const sub = customersSubscription(account, customerId, requiredString(hash, 'subscription', 'flow_data[subscription_update][subscription]'), 'flow_data[subscription_update][subscription]');
      flow.subscription_update = { subscription: sub.id };
      break;
    }
    case 'subscription_update_confirm': {
      needs(features.subscription_update.enabled, 'subscription_update');
      const hash = optHash(value, 'subscription_update_confirm', 'flow_data[subscription_update_confirm]');
      if (!hash) throw missingParam('flow_data[subscription_update_confirm][subscription]');
      allowOnly(hash, ['subscription', 'items', 'discounts'], 'flow_data[subscription_update_confirm]');
      const sub = customersSubscription(account, customerId, requiredString(hash, 'subscription', 'flow_data[subscription_update_confirm][subscription]'), 'flow_data[subscription_update_confirm][subscription]');
      if (isTerminal(sub) || sub.status === 'incomplete') throw stateError(`A ${sub.status} subscription cannot be updated.`, 'flow_data[subscription_update_confirm][subscription]');
      const items = optArray(hash, 'items', 'flow_data[subscription_update_confirm][items]');
      if (!items || items.length === 0) throw missingParam('flow_data[subscription_update_confirm][items]');
      // Stripe: "Currently, only up to one may be specified and subscriptions with multiple items are not updatable."
      if (items.length > 1 || sub.items.data.length > 1) throw invalidParam('flow_data[subscription_update_confirm][items]', 'Only one item may be updated, on a subscription with one item.');
      const item = items[0];
      if (typeof item !== 'object' || Array.isArray(item)) throw invalidParam('flow_data[subscription_update_confirm][items][0]', 'Invalid hash', 'parameter_invalid_hash');
      allowOnly(item, ['id', 'price', 'quantity'], 'flow_data[subscription_update_confirm][items][0]');
      const itemId = requiredString(item, 'id', 'flow_data[subscription_update_confirm][items][0][id]');
      if (!sub.items.data.some((i) => i.id === itemId)) throw invalidParam('flow_data[subscription_update_confirm][items][0][id]', `No such subscription item: '${itemId}'`, 'resource_missing');
      const price = optString(item, 'price', 'flow_data[subscription_update_confirm][items][0][price]');
      // The price must be one the configuration offers (STRIPE.md §8).
      if (price && !features.subscription_update.products.some((p) => p.prices.includes(price))) {
        throw invalidParam('flow_data[subscription_update_confirm][items][0][price]', `The price ${price} is not in features.subscription_update.products of ${configuration.id}.`);
      }
      const rawQuantity = optString(item, 'quantity', 'flow_data[subscription_update_confirm][items][0][quantity]');
      if (rawQuantity !== undefined && !/^[1-9]\d*$/.test(rawQuantity)) throw invalidParam('flow_data[subscription_update_confirm][items][0][quantity]', 'This value must be greater than or equal to 1.', 'parameter_invalid_integer');
      if (account.settings.portalConfirmNeedsAllowedUpdates) {
        const allowed = features.subscription_update.default_allowed_updates;
        if (rawQuantity !== undefined && !allowed.includes('quantity')) {
          throw invalidParam('flow_data[subscription_update_confirm][items][0][quantity]', `The configuration ${configuration.id} does not allow quantity changes: add 'quantity' to features.subscription_update.default_allowed_updates.`);
        }
        if (price && !allowed.includes('price')) {
          throw invalidParam('flow_data[subscription_update_confirm][items][0][price]', `The configuration ${configuration.id} does not allow price changes: add 'price' to features.subscription_update.default_allowed_updates.`);
        }
      }
      flow.subscription_update_confirm = {
        discounts: [],
        items: [{ id: itemId, ...(price ? { price } : {}), ...(rawQuantity ? { quantity: Number(rawQuantity) } : {}) }],
        subscription: sub.id,
      };
      break;
    }
  }
  return flow;
}

/** `POST /v1/billing_portal/sessions`: a link for one customer; without `configuration`, the account's default one (none until saved in the Dashboard). */
export const createPortalSession: Handler = (call) => {
  const { params, account } = call;
  allowOnly(params, ['customer', 'return_url', 'configuration', 'flow_data', 'locale', 'expand']);
  const paths = expandList(params);
  const customerId = optString(params, 'customer');
  if (!customerId) throw missingParam('customer');
  const returnUrl = optString(params, 'return_url');
  if (returnUrl !== undefined && !/^https?:\/\/\S+$/.test(returnUrl)) throw invalidParam('return_url', 'Not a valid URL', 'url_invalid');
  const configurationId = optString(params, 'configuration');
  const flowData = optHash(params, 'flow_data');
  optString(params, 'locale');
  const customer = liveCustomer(account, customerId, 'customer', 400);
  let configuration: PortalConfiguration;
  if (configurationId) {
    configuration = findConfiguration(account, configurationId, 'configuration', 400).value;
    if (!configuration.active) throw stateError(`The configuration ${configurationId} is not active.`, 'configuration');
  } else {
    const found = [...account.billingPortalConfigurations.values()].find((c) => c.value.is_default && c.value.active);
    if (!found) {
      throw stateError(
        "You can't create a portal session in test mode until you save your customer portal settings in test mode at https://dashboard.stripe.com/test/settings/billing/portal.",
      );
    }
    configuration = found.value;
  }
  const finalReturn = returnUrl ?? configuration.default_return_url;
  if (!finalReturn) throw missingParam('return_url');
  const flow = flowData ? readFlow(account, flowData, customerId, configuration) : null;
  const ctx = ctxOf(call, customer.value.test_clock);
  const id = newId('bps', 24);
  const session: PortalSession = {
    id,
    object: 'billing_portal.session',
    configuration: configuration.id,
    created: ctx.now,
    customer: customerId,
    flow,
    livemode: false,
    locale: null,
    on_behalf_of: null,
    return_url: finalReturn,
    url: `${account.env.baseUrl()}/hosted/portal/${id}`,
  };
  account.add(account.billingPortalSessions, session, { clock: customer.value.test_clock, notice: null, flowDone: false });
  emit(ctx, 'billing_portal.session.created', session);
  return expand(account, session, paths);
};

// ---------------------------------------------------------------- the hosted page's actions

/** A request as the portal's backend makes it to Stripe's API on the customer's behalf. */
function portalCall(account: Account, params: FormObject): Call {
  return { account, params, requestId: newId('req'), idempotencyKey: null };
}

export type PortalAction =
  | { action: 'update_plan'; subscription: string; price: string }
  | { action: 'update_quantity'; subscription: string; quantity: string }
  | { action: 'confirm_update' }
  | { action: 'update_card'; card_number: string }
  | { action: 'cancel'; subscription: string }
  | { action: 'renew'; subscription: string };

/**
 * One action of the hosted portal, within what the session's configuration allows. Returns the
 * notice to show, or the URL to go to (a flow that completes with a redirect).
 */
export function portalAction(account: Account, rec: PortalSessionRec, form: Record<string, string>): { redirect?: string } {
  const session = rec.value;
  const configuration = findConfiguration(account, session.configuration).value;
  const { features } = configuration;
  const ok = (text: string) => {
    rec.meta.notice = { tone: 'ok', text };
    return {};
  };
  const refuse = (text: string) => {
    rec.meta.notice = { tone: 'error', text };
    return {};
  };
  const subscriptionOf = (id: string | undefined) => {
    const sub = id ? account.subscriptions.get(id) : undefined;
    if (!sub || sub.value.customer !== session.customer) throw stateError('No such subscription for this customer.');
    return sub.value;
  };
  try {
    switch (form.action) {
      case 'update_plan': {
        const sub = subscriptionOf(form.subscription);
        const update = features.subscription_update;
        if (!update.enabled || !update.default_allowed_updates.includes('price')) return refuse('Changing the plan is not available here.');
        if (!update.products.some((p) => p.prices.includes(form.price))) return refuse('That plan is not available.');
        const params: FormObject = { items: [{ id: sub.items.data[0].id, price: form.price }], proration_behavior: update.proration_behavior };
        // A price change ends a trial unless the configuration says to continue it (STRIPE.md §8).
        if (sub.status === 'trialing' && update.trial_update_behavior === 'end_trial') params.trial_end = 'now';
        updateSubscription(portalCall(account, params), sub.id, '');
        return ok('Your plan was updated.');
      }
      case 'update_quantity': {
        const sub = subscriptionOf(form.subscription);
        const update = features.subscription_update;
        if (!update.enabled || !update.default_allowed_updates.includes('quantity')) return refuse('Changing the quantity is not available here.');
        updateSubscription(portalCall(account, { items: [{ id: sub.items.data[0].id, quantity: form.quantity }], proration_behavior: update.proration_behavior }), sub.id, '');
        return ok('Your quantity was updated.');
      }
      case 'confirm_update': {
        const confirm = session.flow?.subscription_update_confirm as { subscription: string; items: Array<{ id: string; price?: string; quantity?: number }> } | null | undefined;
        if (!confirm) return refuse('There is no update to confirm.');
        if (rec.meta.flowDone) return refuse('This update was already confirmed.');
        const sub = subscriptionOf(confirm.subscription);
        const item: FormObject = { id: confirm.items[0].id };
        if (confirm.items[0].price) item.price = confirm.items[0].price;
        if (confirm.items[0].quantity !== undefined) item.quantity = String(confirm.items[0].quantity);
        updateSubscription(portalCall(account, { items: [item], proration_behavior: features.subscription_update.proration_behavior }), sub.id, '');
        rec.meta.flowDone = true;
        return afterCompletion(session, ok, 'Your subscription was updated.');
      }
      case 'update_card': {
        if (!features.payment_method_update.enabled) return refuse('Updating the payment method is not available here.');
        const card = cardFromNumber(form.card_number ?? '');
        if ('error' in card) return refuse(card.error);
        replaceDefaultCard(account, session.customer, card.token);
        if (session.flow?.type === 'payment_method_update') {
          rec.meta.flowDone = true;
          return afterCompletion(session, ok, 'Your payment method was updated.');
        }
        return ok('Your payment method was updated.');
      }
      case 'cancel': {
        const sub = subscriptionOf(form.subscription);
        const cancel = features.subscription_cancel;
        if (!cancel.enabled) return refuse('Cancelling is not available here.');
        if (cancel.mode === 'immediately') {
          cancelSubscription(portalCall(account, cancel.proration_behavior === 'none' ? {} : { prorate: 'true' }), sub.id, '');
        } else {
          // Flexible billing mode sets cancel_at (the portal's way); classic mode sets cancel_at_period_end (STRIPE.md §8, §13).
          const params: FormObject = sub.billing_mode.type === 'flexible' ? { cancel_at: 'min_period_end' } : { cancel_at_period_end: 'true' };
          updateSubscription(portalCall(account, params), sub.id, '');
        }
        if (session.flow?.type === 'subscription_cancel') {
          rec.meta.flowDone = true;
          return afterCompletion(session, ok, 'Your subscription was cancelled.');
        }
        return ok(cancel.mode === 'immediately' ? 'Your subscription was cancelled.' : 'Your subscription will be cancelled at the end of the period.');
      }
      case 'renew': {
        const sub = subscriptionOf(form.subscription);
        if (sub.cancel_at === null) return refuse('This subscription is not set to be cancelled.');
        const params: FormObject = sub.cancel_at_period_end ? { cancel_at_period_end: 'false' } : { cancel_at: '' };
        updateSubscription(portalCall(account, params), sub.id, '');
        return ok('Your subscription was renewed.');
      }
      default:
        return refuse(`Unknown action ${String(form.action)}.`);
    }
  } catch (error) {
    if (error instanceof ApiError) return refuse(error.body.message);
    throw error;
  }
}

function afterCompletion(session: PortalSession, ok: (text: string) => object, text: string): { redirect?: string } {
  const after = session.flow?.after_completion as { type: string; redirect: { return_url: string } | null; hosted_confirmation: { custom_message: string | null } | null } | undefined;
  if (after?.type === 'redirect' && after.redirect) return { redirect: after.redirect.return_url };
  ok(after?.type === 'hosted_confirmation' && after.hosted_confirmation?.custom_message ? after.hosted_confirmation.custom_message : text);
  return {};
}

/**
 * The portal's "update payment method": the new card is attached and becomes the customer's invoice
 * default; a subscription-level default would override it, so the portal removes those (STRIPE.md §8).
 */
function replaceDefaultCard(account: Account, customerId: string, token: string): void {
  const customer = liveCustomer(account, customerId);
  const call = portalCall(account, {});
  const ctx = ctxOf(call, customer.value.test_clock);
  const pm = attachPaymentMethod(ctx, token, customerId, 'payment_method');
  const before = structuredClone(customer.value);
  customer.value.invoice_settings = { ...customer.value.invoice_settings, default_payment_method: pm.value.id };
  emitUpdated(ctx, 'customer.updated', before, customer.value);
  for (const sub of account.subscriptions.values()) {
    if (sub.value.customer === customerId && !isTerminal(sub.value) && sub.value.default_payment_method) {
      updateSubscription(portalCall(account, { default_payment_method: '' }), sub.value.id, '');
    }
  }
}

/** What the hosted page shows of a customer: live subscriptions with their next date. */
export function portalView(account: Account, rec: PortalSessionRec) {
  const session = rec.value;
  const configuration = findConfiguration(account, session.configuration).value;
  const customer = account.customers.get(session.customer)!.value;
  const subscriptions = [...account.subscriptions.values()]
    .filter((s) => s.value.customer === session.customer && !isTerminal(s.value))
    .map((s) => ({ sub: s.value, periodEnd: periodOf(s.value).end }));
  const pmId = customer.invoice_settings.default_payment_method;
  const card = pmId ? account.paymentMethods.get(pmId)?.value.card ?? null : null;
  const invoices = [...account.invoices.values()]
    .filter((i) => i.value.customer === session.customer && i.value.status !== 'draft')
    .sort((a, b) => b.seq - a.seq)
    .map((i) => i.value);
  return { session, configuration, customer, subscriptions, card, invoices, notice: rec.meta.notice, flowDone: rec.meta.flowDone };
}

export function findPortalSession(accounts: Iterable<Account>, id: string): { account: Account; rec: PortalSessionRec } | null {
  for (const account of accounts) {
    const rec = account.billingPortalSessions.get(id);
    if (rec) return { account, rec };
  }
  return null;
}


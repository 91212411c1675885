// The customer portal (STRIPE.md §8): configurations and sessions through the API, and what the
// customer can do on the hosted portal page (change plan or seats, cancel or renew, replace the card,
// start a subscription paused at trial end), each through the same API handlers, so the events are
// the ones those calls make.
import { isTerminal } from './billing';
import { TEST_CARDS } from './catalog';
import { ctxOf, type Call, type Handler } from './call';
import { attachHandler, liveCustomer, updateCustomer } from './customers';
import { ApiError, invalidParam, missingParam, noSuch } from './errors';
import type { FormObject } from './form';
import { newId } from './ids';
import { allowOnly, applyMetadata, expandList, optArray, optBoolean, optEnum, optHash, optString, requiredString, type Json } from './params';
import { emit, emitUpdated, type Account, type Rec, type Subscription } from './state';
import { cancelSubscription, resumeSubscription, updateSubscription } from './subscriptions';
import { expand, paginate } from './views';

type Config = Json & { id: string; features: Features; default_return_url: string | null; is_default: boolean };
type Proration = 'none' | 'create_prorations' | 'always_invoice';
interface Features {
  customer_update: { allowed_updates: string[]; enabled: boolean };
  invoice_history: { enabled: boolean };
  payment_method_update: { enabled: boolean };
  subscription_cancel: { cancellation_reason: { enabled: boolean; options: string[] }; enabled: boolean; mode: 'at_period_end' | 'immediately'; proration_behavior: Proration };
  subscription_update: {
    default_allowed_updates: string[];
    enabled: boolean;
    products: Array<{ product: string; prices: string[] }>;
    proration_behavior: Proration;
    trial_update_behavior: 'end_trial' | 'continue_trial';
  };
}

const PRORATIONS = ['none', 'create_prorations', 'always_invoice'] as const;

function disabledFeatures(): Features {
  return {
    customer_update: { allowed_updates: [], enabled: false },
    invoice_history: { enabled: false },
    payment_method_update: { enabled: false },
    subscription_cancel: { cancellation_reason: { enabled: false, options: [] }, enabled: false, mode: 'at_period_end', proration_behavior: 'none' },
    // proration_behavior: `none` when not set at creation (STRIPE.md §8).
    subscription_update: { default_allowed_updates: [], enabled: false, products: [], proration_behavior: 'none', trial_update_behavior: 'end_trial' },
  };
}

const bool = (hash: FormObject, key: string, label: string) => optBoolean(hash, key, label);

/** `features[...]` of a create or update, onto `base`. */
function readFeatures(account: Account, params: FormObject, base: Features): Features {
  const features = structuredClone(base);
  const raw = optHash(params, 'features');
  if (!raw) return features;
  allowOnly(raw, ['customer_update', 'invoice_history', 'payment_method_update', 'subscription_cancel', 'subscription_update'], 'features');
  const section = (name: keyof Features, keys: string[]) => {
    const hash = optHash(raw, name, `features[${name}]`);
    if (!hash) return undefined;
    allowOnly(hash, keys, `features[${name}]`);
    const enabled = bool(hash, 'enabled', `features[${name}][enabled]`);
    if (enabled !== undefined) features[name].enabled = enabled;
    return hash;
  };
  const customerUpdate = section('customer_update', ['enabled', 'allowed_updates']);
  if (customerUpdate?.allowed_updates !== undefined) features.customer_update.allowed_updates = (optArray(customerUpdate, 'allowed_updates') ?? []) as string[];
  section('invoice_history', ['enabled']);
  section('payment_method_update', ['enabled']);
  const cancel = section('subscription_cancel', ['enabled', 'mode', 'proration_behavior', 'cancellation_reason']);
  if (cancel) {
    features.subscription_cancel.mode = optEnum(cancel, 'mode', ['at_period_end', 'immediately'] as const, 'features[subscription_cancel][mode]') ?? features.subscription_cancel.mode;
    features.subscription_cancel.proration_behavior = optEnum(cancel, 'proration_behavior', PRORATIONS, 'features[subscription_cancel][proration_behavior]') ?? features.subscription_cancel.proration_behavior;
  }
  const update = section('subscription_update', ['enabled', 'default_allowed_updates', 'products', 'proration_behavior', 'trial_update_behavior']);
  if (update) {
    const allowed = optArray(update, 'default_allowed_updates', 'features[subscription_update][default_allowed_updates]');
    if (allowed) {
      if (!allowed.every((a) => a === 'price' || a === 'quantity' || a === 'promotion_code')) throw invalidParam('features[subscription_update][default_allowed_updates]', 'Allowed updates are price, quantity and promotion_code.');
      features.subscription_update.default_allowed_updates = allowed as string[];
    }
    const products = optArray(update, 'products', 'features[subscription_update][products]');
    if (products) {
      if (products.length > 10) throw invalidParam('features[subscription_update][products]', 'At most 10 products.');
      features.subscription_update.products = products.map((p, i) => {
        const label = `features[subscription_update][products][${i}]`;
        if (typeof p !== 'object' || Array.isArray(p)) throw invalidParam(label, 'Invalid hash', 'parameter_invalid_hash');
        const product = requiredString(p, 'product', `${label}[product]`);
        const prices = (optArray(p, 'prices', `${label}[prices]`) ?? []) as string[];
        for (const price of prices) {
          if (account.prices.get(price)?.value.product !== product) throw invalidParam(`${label}[prices]`, `The price ${price} is not a price of product ${product}.`);
        }
        return { product, prices };
      });
    }
    features.subscription_update.proration_behavior = optEnum(update, 'proration_behavior', PRORATIONS, 'features[subscription_update][proration_behavior]') ?? features.subscription_update.proration_behavior;
    features.subscription_update.trial_update_behavior =
      optEnum(update, 'trial_update_behavior', ['end_trial', 'continue_trial'] as const, 'features[subscription_update][trial_update_behavior]') ?? features.subscription_update.trial_update_behavior;
  }
  return features;
}

function configuration(account: Account, features: Features, extra: Partial<Config>, now: number): Config {
  return {
    id: newId('bpc', 24),
    object: 'billing_portal.configuration',
    active: true,
    application: null,
    business_profile: { headline: null, privacy_policy_url: null, terms_of_service_url: null },
    created: now,
    default_return_url: null,
    features,
    is_default: false,
    livemode: false,
    login_page: { enabled: false, url: null },
    metadata: {},
    name: null,
    updated: now,
    ...extra,
  };
}

/**
 * The account's default configuration, as if set up in the Dashboard: every feature on, the catalog's
 * products and prices, cancel at period end. Its proration is the API's unset default, `none`.
 */
export function defaultConfiguration(account: Account): Config {
  const existing = [...account.billingPortalConfigurations.values()].find((c) => c.value.is_default);
  if (existing) return existing.value as Config;
  const features = disabledFeatures();
  const byProduct = new Map<string, string[]>();
  for (const price of account.prices.values()) if (price.value.active) byProduct.set(price.value.product, [...(byProduct.get(price.value.product) ?? []), price.value.id]);
  features.invoice_history.enabled = true;
  features.payment_method_update.enabled = true;
  features.subscription_cancel.enabled = true;
  Object.assign(features.subscription_update, { enabled: true, default_allowed_updates: ['price', 'quantity'], products: [...byProduct].map(([product, prices]) => ({ product, prices })) });
  const config = configuration(account, features, { is_default: true }, account.env.realNow());
  account.add(account.billingPortalConfigurations, config, {});
  return config;
}

const requestCtx = (call: Call) => ({ account: call.account, now: call.account.env.realNow(), origin: { id: call.requestId, idempotency_key: call.idempotencyKey } });

export const createPortalConfiguration: Handler = (call) => {
  const { params, account } = call;
  allowOnly(params, ['features', 'business_profile', 'default_return_url', 'metadata', 'name', 'login_page', 'expand']);
  const features = readFeatures(account, params, disabledFeatures());
  const businessProfile = optHash(params, 'business_profile');
  if (businessProfile) allowOnly(businessProfile, ['headline', 'privacy_policy_url', 'terms_of_service_url'], 'business_profile');
  const ctx = requestCtx(call);
  const config = configuration(account, features, {
    default_return_url: optString(params, 'default_return_url') ?? null,
    metadata: applyMetadata({}, params.metadata),
    name: optString(params, 'name') ?? null,
    ...(businessProfile ? { business_profile: { headline: null, privacy_policy_url: null, terms_of_service_url: null, ...businessProfile } } : {}),
  }, ctx.now);
  account.add(account.billingPortalConfigurations, config, {});
  emit(ctx, 'billing_portal.configuration.created', config);
  return config;
};

function findConfig(account: Account, id: string, param = 'id', status = 404): Rec<Config> {
  const rec = account.billingPortalConfigurations.get(id) as Rec<Config> | undefined;
  if (!rec) throw noSuch('billing_portal.configuration', id, param, status);
  return rec;
}

export const updatePortalConfiguration: Handler = (call, id) => {
  const { params, account } = call;
  allowOnly(params, ['features', 'default_return_url', 'metadata', 'name', 'active', 'expand']);
  const rec = findConfig(account, id);
  const features = readFeatures(account, params, rec.value.features);
  const before = structuredClone(rec.value);
  rec.value.features = features;
  const returnUrl = optString(params, 'default_return_url');
  if (returnUrl !== undefined) rec.value.default_return_url = returnUrl || null;
  const active = optBoolean(params, 'active');
  if (active !== undefined) rec.value.active = active;
  rec.value.metadata = applyMetadata(rec.value.metadata as Record<string, string>, params.metadata);
  const ctx = requestCtx(call);
  rec.value.updated = ctx.now;
  emitUpdated(ctx, 'billing_portal.configuration.updated', before, rec.value);
  return rec.value;
};

export const retrievePortalConfiguration: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  if (id === 'default') return defaultConfiguration(call.account);
  return findConfig(call.account, id).value;
};

export const listPortalConfigurations: Handler = (call) => {
  allowOnly(call.params, ['is_default', 'active', 'limit', 'starting_after', 'ending_before', 'expand']);
  defaultConfiguration(call.account);
  const isDefault = optBoolean(call.params, 'is_default');
  return paginate(call.account.billingPortalConfigurations.values(), (c) => isDefault === undefined || c.is_default === isDefault, call.params, '/v1/billing_portal/configurations', 'billing_portal.configuration');
};

function readFlow(account: Account, customerId: string, params: FormObject): Json | null {
  const flow = optHash(params, 'flow_data');
  if (!flow) return null;
  allowOnly(flow, ['type', 'subscription_cancel', 'subscription_update', 'subscription_update_confirm', 'after_completion'], 'flow_data');
  const type = optEnum(flow, 'type', ['payment_method_update', 'subscription_cancel', 'subscription_update', 'subscription_update_confirm'] as const, 'flow_data[type]');
  if (!type) throw missingParam('flow_data[type]');
  const detail = type === 'payment_method_update' ? undefined : optHash(flow, type, `flow_data[${type}]`);
  let subscription: string | null = null;
  if (type !== 'payment_method_update') {
    if (!detail) throw missingParam(`flow_data[${type}][subscription]`);
    subscription = requiredString(detail, 'subscription', `flow_data[${type}][subscription]`);
    const sub = account.subscriptions.get(subscription);
    if (!sub || sub.value.customer !== customerId) throw invalidParam(`flow_data[${type}][subscription]`, `No such subscription: '${subscription}' for this customer.`, 'resource_missing');
  }
  const after = optHash(flow, 'after_completion', 'flow_data[after_completion]');
  let afterCompletion: Json = { hosted_confirmation: null, redirect: null, type: 'portal_homepage' };
  if (after) {
    allowOnly(after, ['type', 'redirect', 'hosted_confirmation'], 'flow_data[after_completion]');
    const kind = optEnum(after, 'type', ['hosted_confirmation', 'portal_homepage', 'redirect'] as const, 'flow_data[after_completion][type]') ?? 'portal_homepage';
    const redirect = optHash(after, 'redirect', 'flow_data[after_completion][redirect]');
    if (kind === 'redirect' && !redirect) throw missingParam('flow_data[after_completion][redirect][return_url]');
    afterCompletion = { hosted_confirmation: null, redirect: redirect ? { return_url: requiredString(redirect, 'return_url', 'flow_data[after_completion][redirect][return_url]') } : null, type: kind };
  }
  return {
    after_completion: afterCompletion,
    subscription_cancel: type === 'subscription_cancel' ? { retention: null, subscription } : null,
    subscription_update: type === 'subscription_update' ? { subscription } : null,
    subscription_update_confirm: type === 'subscription_update_confirm' ? { discounts: null, items: [], subscription } : null,
    type,
  };
}

export const createPortalSession: Handler = (call) => {
  const { params, account } = call;
  allowOnly(params, ['customer', 'return_url', 'configuration', 'flow_data', 'locale', 'expand']);
  const customerId = requiredString(params, 'customer');
  const configId = optString(params, 'configuration');
  const returnUrl = optString(params, 'return_url');
  optString(params, 'locale');
  const customer = liveCustomer(account, customerId, 'customer', 400);
  const config = configId ? findConfig(account, configId, 'configuration', 400).value : defaultConfiguration(account);
  const url = returnUrl ?? config.default_return_url;
  if (!url) throw missingParam('return_url');
  const flow = readFlow(account, customerId, params);
  const ctx = ctxOf(call, customer.value.test_clock);
  const id = newId('bps', 24);
  const session = {
    id,
    object: 'billing_portal.session',
    configuration: config.id,
    created: ctx.now,
    customer: customerId,
    customer_account: null,
    flow,
    livemode: false,
    locale: null,
    on_behalf_of: null,
    return_url: url,
    url: `${account.env.baseUrl()}/portal/${id}`,
  };
  account.add(account.billingPortalSessions, session, {});
  emit(ctx, 'billing_portal.session.created', session);
  return expand(account, session, expandList(params));
};

// ---------------------------------------------------------------- the customer's actions on the hosted page

export type PortalResult = { ok: true; redirect?: string; notice: string } | { ok: false; message: string };

export interface PortalContext {
  session: Json & { id: string; customer: string; return_url: string; flow: Json | null };
  config: Config;
  subscriptions: Subscription[];
}

export function portalContext(account: Account, sessionId: string): PortalContext | null {
  const rec = account.billingPortalSessions.get(sessionId);
  if (!rec) return null;
  const session = rec.value as PortalContext['session'];
  const config = findConfig(account, String(session.configuration)).value;
  const subscriptions = [...account.subscriptions.values()].map((s) => s.value).filter((s) => s.customer === session.customer && !isTerminal(s));
  return { session, config, subscriptions };
}

/** Runs one API handler as the portal would call it; an API error becomes the message the page shows. */
function run(account: Account, requestId: string, handler: Handler, id: string, params: FormObject): string | null {
  try {
    handler({ account, params, requestId, idempotencyKey: null }, id, '');
    return null;
  } catch (error) {
    if (error instanceof ApiError) return error.body.message;
    throw error;
  }
}

export function portalAction(account: Account, context: PortalContext, action: string, subscriptionId: string | undefined, input: Record<string, string>, requestId: string): PortalResult {
  const { session, config } = context;
  const features = config.features;
  const sub = subscriptionId ? context.subscriptions.find((s) => s.id === subscriptionId) : undefined;
  if (subscriptionId && !sub) return { ok: false, message: 'That subscription is not one of yours, or it has ended.' };
  const done = (notice: string): PortalResult => {
    const after = (session.flow as { after_completion?: { type: string; redirect: { return_url: string } | null } } | null)?.after_completion;
    return { ok: true, notice, ...(after?.type === 'redirect' && after.redirect ? { redirect: after.redirect.return_url } : {}) };
  };
  const attachCard = (): string | { error: string } => {
    const card = input.card;
    if (!card || !TEST_CARDS[card]) return { error: 'Choose a card.' };
    try {
      const pm = attachHandler({ account, params: { customer: session.customer }, requestId, idempotencyKey: null }, card, '') as { id: string };
      return pm.id;
    } catch (error) {
      if (error instanceof ApiError) return { error: error.body.message };
      throw error;
    }
  };

  switch (action) {
    case 'update': {
      if (!features.subscription_update.enabled || !sub) return { ok: false, message: 'Changing the subscription is not enabled.' };
      const [item] = sub.items.data;
      const price = input.price || item.price.id;
      const quantity = Number(input.quantity || item.quantity);
      const allowed = features.subscription_update.default_allowed_updates;
      if (price !== item.price.id && !allowed.includes('price')) return { ok: false, message: 'Changing the plan is not enabled.' };
      if (quantity !== item.quantity && !allowed.includes('quantity')) return { ok: false, message: 'Changing the quantity is not enabled.' };
      if (!features.subscription_update.products.some((p) => p.prices.includes(price))) return { ok: false, message: 'That plan is not offered here.' };
      if (!Number.isInteger(quantity) || quantity < 1) return { ok: false, message: 'The quantity must be a whole number of at least 1.' };
      const params: FormObject = { items: [{ id: item.id, price, quantity: String(quantity) }], proration_behavior: features.subscription_update.proration_behavior };
      // A plan change during a trial ends the trial (trial_update_behavior end_trial, the default; STRIPE.md §8).
      if (price !== item.price.id && sub.status === 'trialing' && features.subscription_update.trial_update_behavior === 'end_trial') params.trial_end = 'now';
      const error = run(account, requestId, updateSubscription, sub.id, params);
      return error ? { ok: false, message: error } : done('Your subscription was updated.');
    }
    case 'cancel': {
      if (!features.subscription_cancel.enabled || !sub) return { ok: false, message: 'Cancelling is not enabled.' };
      const reason: FormObject = input.feedback ? { cancellation_details: { feedback: input.feedback } } : {};
      const error =
        features.subscription_cancel.mode === 'immediately'
          ? run(account, requestId, cancelSubscription, sub.id, { prorate: String(features.subscription_cancel.proration_behavior !== 'none'), ...reason })
          : run(account, requestId, updateSubscription, sub.id, { cancel_at_period_end: 'true', ...reason });
      return error ? { ok: false, message: error } : done(features.subscription_cancel.mode === 'immediately' ? 'Your subscription was cancelled.' : 'Your subscription will end at the end of the period.');
    }
    case 'renew': {
      if (!sub) return { ok: false, message: 'No such subscription.' };
      const error = run(account, requestId, updateSubscription, sub.id, sub.cancel_at_period_end ? { cancel_at_period_end: 'false' } : { cancel_at: '' });
      return error ? { ok: false, message: error } : done('Your subscription will renew.');
    }
    case 'payment_method': {
      if (!features.payment_method_update.enabled) return { ok: false, message: 'Updating the payment method is not enabled.' };
      const pm = attachCard();
      if (typeof pm !== 'string') return { ok: false, message: pm.error };
      const error = run(account, requestId, updateCustomer, session.customer, { invoice_settings: { default_payment_method: pm } });
      if (error) return { ok: false, message: error };
      // The new default applies everywhere: subscription-level overrides are removed.
      for (const s of context.subscriptions) if (s.default_payment_method) run(account, requestId, updateSubscription, s.id, { default_payment_method: '' });
      return done('Your payment method was updated.');
    }
    case 'start': {
      // "Start subscription" on a subscription paused at trial end: a card, then resume (STRIPE.md §2).
      if (!sub || sub.status !== 'paused') return { ok: false, message: 'Only a paused subscription can be started.' };
      const pm = attachCard();
      if (typeof pm !== 'string') return { ok: false, message: pm.error };
      const error =
        run(account, requestId, updateCustomer, session.customer, { invoice_settings: { default_payment_method: pm } }) ??
        run(account, requestId, resumeSubscription, sub.id, { billing_cycle_anchor: 'now', payment_behavior: 'resume_on_payment_success' });
      if (error) return { ok: false, message: error };
      const after = account.subscriptions.get(sub.id)!.value;
      return after.status === 'active' ? done('Your subscription has started.') : { ok: false, message: 'The payment failed: your subscription is still paused.' };
    }
    default:
      return { ok: false, message: `Unknown action ${action}.` };
  }
}


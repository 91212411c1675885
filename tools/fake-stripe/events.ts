// Events (`/v1/events`) and webhook endpoints (`/v1/webhook_endpoints`) as Stripe's API has them.
import { randomBytes } from 'node:crypto';
import type { Handler } from './call';
import { invalidParam, missingParam, noSuch } from './errors';
import { newId } from './ids';
import { allowOnly, applyMetadata, expandList, optArray, optBoolean, optNullableString, optRange, optString, requiredString } from './params';
import { API_VERSION, type WebhookEndpoint } from './state';
import { paginate } from './views';

/** `type` may end in `.*` to match a family (`customer.subscription.*`), as in Stripe. */
export function typeMatcher(type: string | undefined, types: string[] | undefined): (t: string) => boolean {
  return (t) => (type === undefined || t === type || (type.endsWith('.*') && t.startsWith(type.slice(0, -1)))) && (types === undefined || types.includes(t));
}

export const listEvents: Handler = (call) => {
  const { params } = call;
  allowOnly(params, ['type', 'types', 'created', 'delivery_success', 'limit', 'starting_after', 'ending_before']);
  const type = optString(params, 'type');
  const types = optArray(params, 'types');
  if (types !== undefined && !types.every((t) => typeof t === 'string')) throw invalidParam('types', 'Invalid array', 'parameter_invalid_array');
  const created = optRange(params, 'created');
  const delivered = optBoolean(params, 'delivery_success');
  const matches = typeMatcher(type, types as string[] | undefined);
  return paginate(
    call.account.events,
    (e) => matches(e.type) && (created === undefined || created(e.created)) && (delivered === undefined || (e.pending_webhooks === 0) === delivered),
    params,
    '/v1/events',
    'event',
  );
};

export const retrieveEvent: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  const found = call.account.events.find((e) => e.value.id === id);
  if (!found) throw noSuch('event', id);
  return found.value;
};

// ---------------------------------------------------------------- webhook endpoints

function readEnabledEvents(value: unknown, required: boolean): string[] | undefined {
  if (value === undefined) {
    if (required) throw missingParam('enabled_events');
    return undefined;
  }
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && v !== '')) throw invalidParam('enabled_events', 'Invalid array', 'parameter_invalid_array');
  // Stripe takes '*' or exact event types here (families like `customer.*` are the control API's).
  const family = (value as string[]).find((v) => v !== '*' && v.includes('*'));
  if (family) throw invalidParam('enabled_events', `Invalid event type: ${family}. Use '*' or exact event types.`);
  return value as string[];
}

function readUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error();
  } catch {
    throw invalidParam('url', `Invalid URL: ${url}. URLs must begin with http:// or https://.`, 'url_invalid');
  }
  return url;
}

/** The secret comes back once, on create; retrieve and list leave it out, as Stripe does. */
const publicView = (endpoint: WebhookEndpoint): WebhookEndpoint => {
  const { secret: _secret, ...rest } = endpoint;
  return rest as WebhookEndpoint;
};

export const createWebhookEndpoint: Handler = (call) => {
  const { params, account } = call;
  allowOnly(params, ['url', 'enabled_events', 'description', 'metadata', 'api_version', 'expand']);
  expandList(params);
  const url = readUrl(requiredString(params, 'url'));
  const enabled = readEnabledEvents(params.enabled_events, true)!;
  const secret = `whsec_${randomBytes(24).toString('hex')}`;
  const endpoint: WebhookEndpoint = {
    id: newId('we', 24),
    object: 'webhook_endpoint',
    api_version: optString(params, 'api_version') ?? API_VERSION,
    application: null,
    created: account.env.realNow(),
    description: optNullableString(params, 'description') ?? null,
    enabled_events: enabled,
    livemode: false,
    metadata: applyMetadata({}, params.metadata),
    status: 'enabled',
    url,
  };
  account.add(account.webhookEndpoints, endpoint, { secret, deleted: false });
  return { ...endpoint, secret };
};

function liveEndpoint(call: Parameters<Handler>[0], id: string) {
  const rec = call.account.webhookEndpoints.get(id);
  if (!rec || rec.meta.deleted) throw noSuch('webhook_endpoint', id);
  return rec;
}

export const retrieveWebhookEndpoint: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  return publicView(liveEndpoint(call, id).value);
};

export const updateWebhookEndpoint: Handler = (call, id) => {
  const { params } = call;
  allowOnly(params, ['url', 'enabled_events', 'description', 'metadata', 'disabled', 'expand']);
  const url = optString(params, 'url');
  const enabled = readEnabledEvents(params.enabled_events, false);
  const disabled = optBoolean(params, 'disabled');
  const description = optNullableString(params, 'description');
  const rec = liveEndpoint(call, id);
  if (url !== undefined) rec.value.url = readUrl(url);
  if (enabled) rec.value.enabled_events = enabled;
  if (disabled !== undefined) rec.value.status = disabled ? 'disabled' : 'enabled';
  if (description !== undefined) rec.value.description = description;
  rec.value.metadata = applyMetadata(rec.value.metadata as Record<string, string>, params.metadata);
  return publicView(rec.value);
};

export const deleteWebhookEndpoint: Handler = (call, id) => {
  allowOnly(call.params, []);
  liveEndpoint(call, id).meta.deleted = true;
  return { id, object: 'webhook_endpoint', deleted: true };
};

export const listWebhookEndpoints: Handler = (call) => {
  allowOnly(call.params, ['limit', 'starting_after', 'ending_before', 'expand']);
  const page = paginate([...call.account.webhookEndpoints.values()].filter((e) => !e.meta.deleted), () => true, call.params, '/v1/webhook_endpoints', 'webhook_endpoint');
  return { ...page, data: page.data.map(publicView) };
};

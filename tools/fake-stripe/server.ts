// A local Stripe simulator for the real `stripe` SDK to talk to in tests and local runs: customers,
// payment methods, prices, subscriptions, invoices, test clocks, events and signed webhooks, as
// STRIPE.md describes Stripe. Dev/test tool only: never on the functions' production path.
// What it models and its control API: docs/fake-stripe.md.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_CATALOG, type CatalogPrice } from './catalog';
import type { Call } from './call';
import { WebhookDispatcher, type ControlEndpoint, type DeliveryMode, type DeliveryRecord, type WebhookSettings } from './delivery';
import { ApiError, type StripeErrorBody } from './errors';
import { canonical, FormError, parseForm, type FormObject } from './form';
import { submitCheckoutCard } from './checkout';
import { checkoutPage, findInvoice, hostedInvoicePage, portalPage } from './hosted';
import { findPortalSession, portalAction, portalView } from './portal';
import { newId } from './ids';
import { seedCatalog } from './prices';
import { matchRoute } from './routes';
import { runDue, runDueEverywhere } from './scheduler';
import {
  Account,
  AUTOMATIC,
  DEFAULT_BILLING_SETTINGS,
  emit,
  type BillingSettings,
  type Customer,
  type Invoice,
  type PaymentMethod,
  type StripeEvent,
  type Subscription,
  type TestClock,
} from './state';
import { defaultClock } from './testClocks';

export interface FailureRule {
  /** Only requests with this method (any when absent). */
  method?: 'GET' | 'POST' | 'DELETE';
  /** Prefix of the request path, e.g. '/v1/subscriptions'. */
  path: string;
  /** HTTP status of the injected error, 400..599. */
  status: number;
  /** Stripe error type; by default card_error for 402, api_error for 5xx, else invalid_request_error. */
  type?: string;
  code?: string;
  decline_code?: string;
  param?: string;
  message?: string;
  /** How many matching requests fail (default 1). */
  times?: number;
  /**
   * 'before' (default): the request fails before executing, nothing changes.
   * 'after': the request executes and Stripe saves its real response for the idempotency key, but the
   * client gets the error: an outcome lost on the way back. A retry with the same key sees the real response.
   */
  when?: 'before' | 'after';
  /** With 'before': save the injected error for the idempotency key, as Stripe saves an error (even a 500) once execution has begun. */
  store?: boolean;
}

export interface DelayRule {
  method?: 'GET' | 'POST' | 'DELETE';
  path: string;
  ms: number;
  /** How many matching requests are held (default 1). */
  times?: number;
}

export interface FakeStripeState {
  /** Every customer, deleted ones with `deleted: true` (and their last fields, for orphan scans). */
  customers: Array<Customer & { deleted: boolean }>;
  /** Every subscription, canceled ones included (status 'canceled'). */
  subscriptions: Subscription[];
  invoices: Invoice[];
  paymentMethods: PaymentMethod[];
  testClocks: TestClock[];
}

/** A webhook endpoint set outside Stripe's API (CLI, control API): the caller chooses its secret. */
export interface WebhookTarget {
  url: string;
  secret: string;
  /** Only events of this account (secret key); every account's when absent. */
  apiKey?: string;
  /** Event types; default every type (`*`). */
  enabledEvents?: string[];
  /** The API version events are rendered at, as a Stripe endpoint's `api_version`; default the pinned one. */
  apiVersion?: string;
}

export interface SettingsUpdate {
  /** One account's billing settings; the defaults of every account (existing ones too) when absent. */
  apiKey?: string;
  billing?: Partial<BillingSettings>;
  webhooks?: Partial<WebhookSettings>;
}

export interface FakeStripe {
  url: string;
  port: number;
  close(): Promise<void>;
  /** Forgets every account, saved idempotency key, failure and delay rule, and queued delivery. `all` also drops webhook targets and settings set since start. */
  reset(options?: { all?: boolean }): void;
  failNext(rule: FailureRule): void;
  delayNext(rule: DelayRule): void;
  /** Objects of one account (by its secret key), or of all accounts merged. */
  state(apiKey?: string): FakeStripeState;
  events(apiKey?: string): StripeEvent[];
  /** Registers a webhook target (e.g. the app's stripeWebhook with its STRIPE_WEBHOOK_SECRET); returns its id. */
  addWebhook(target: WebhookTarget): string;
  removeWebhook(id: string): void;
  /** Hold, shuffle and duplicate deliveries (for tests of out-of-order and repeated events). */
  setDeliveryMode(mode: Partial<DeliveryMode>): DeliveryMode;
  /** Delivers what is held and resolves when nothing is queued, in flight or waiting for a retry. */
  flushWebhooks(timeoutMs?: number): Promise<void>;
  /** Every delivery attempt so far, oldest first. */
  deliveries(): DeliveryRecord[];
  /** The account's local test clock (made on first use). */
  defaultTestClock(apiKey: string): TestClock;
  configure(update: SettingsUpdate): void;
  /** Runs what is due on every clock now (it also runs before and after each request and on a timer). */
  tick(): void;
}

export interface FakeStripeOptions {
  port?: number;
  host?: string;
  /** Real time, in ms since the epoch (default Date.now): objects on no test clock live in it. */
  now?: () => number;
  /** Products and prices every account starts with (default: the plan catalog's, catalog.ts). */
  catalog?: CatalogPrice[];
  /** Attach every customer created without `test_clock` to its account's default test clock (npm start). */
  defaultTestClock?: boolean;
  /** Webhook targets from the start (the CLI's --webhook-url/--webhook-secret). */
  webhooks?: WebhookTarget[];
  billing?: Partial<BillingSettings>;
  webhookSettings?: Partial<WebhookSettings>;
  /** How often real-time work (renewals, finalization, retries of objects on no clock) is checked, ms. */
  tickMs?: number;
  /** How long a test clock advance waits for the first delivery of its events before it is ready, ms. */
  advanceDrainMs?: number;
  /** Told of every delivery attempt (the CLI logs them). */
  onDelivery?: (record: DeliveryRecord) => void;
}

interface SavedResponse {
  fingerprint: string;
  /** Undefined while the first request with this key is still running. */
  status?: number;
  body?: string;
}

interface Reply {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

const MAX_IDEMPOTENCY_KEY = 255;
const IDEMPOTENCY_DOC = 'https://stripe.com/docs/error-codes/idempotency-key-in-use';

const errorReply = (status: number, error: StripeErrorBody | Record<string, unknown>, requestId: string): Reply => ({
  status,
  body: JSON.stringify({ error: { ...error, request_log_url: `https://dashboard.stripe.com/test/logs/${requestId}` } }, null, 2),
});

function defaultErrorType(status: number): string {
  if (status === 402) return 'card_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

function injectedError(rule: FailureRule): StripeErrorBody {
  const type = rule.type ?? defaultErrorType(rule.status);
  const code = rule.code ?? (type === 'card_error' ? 'card_declined' : undefined);
  const decline = rule.decline_code ?? (code === 'card_declined' ? 'generic_decline' : undefined);
  const message =
    rule.message ?? (type === 'card_error' ? 'Your card was declined.' : `Injected failure (${rule.status}) by fake-stripe.`);
  return { type, message, ...(code ? { code } : {}), ...(decline ? { decline_code: decline } : {}), ...(rule.param ? { param: rule.param } : {}) };
}

/** Masks a key as Stripe does in its 401 message: the start and the last four characters. */
function maskKey(key: string): string {
  if (key.length <= 12) return `${key.slice(0, 3)}${'*'.repeat(Math.max(0, key.length - 3))}`;
  return `${key.slice(0, 8)}${'*'.repeat(key.length - 12)}${key.slice(-4)}`;
}

/** `Authorization: Bearer sk_test_...` (the SDK) or Basic with the key as user name (curl -u sk_test_...:). */
function apiKeyOf(req: IncomingMessage): { key: string | null; given: string | null } {
  const header = req.headers.authorization;
  if (!header) return { key: null, given: null };
  let given: string | null = null;
  const [scheme, value = ''] = header.split(/\s+/, 2);
  if (/^bearer$/i.test(scheme)) given = value;
  else if (/^basic$/i.test(scheme)) given = Buffer.from(value, 'base64').toString('utf8').split(':')[0];
  return { key: given && /^sk_test_[A-Za-z0-9_]+$/.test(given) ? given : null, given };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function matches(rule: { method?: string; path: string }, method: string, path: string): boolean {
  return (!rule.method || rule.method === method) && path.startsWith(rule.path);
}

function validateRule(input: unknown, kind: 'failure' | 'delay'): FailureRule | DelayRule {
  if (typeof input !== 'object' || input === null) throw new Error('expected a JSON object');
  const rule = input as Record<string, unknown>;
  if (typeof rule.path !== 'string' || !rule.path.startsWith('/')) throw new Error('path must be a string starting with /');
  if (rule.method !== undefined && !['GET', 'POST', 'DELETE'].includes(rule.method as string)) throw new Error('method must be GET, POST or DELETE');
  if (rule.times !== undefined && !(Number.isInteger(rule.times) && (rule.times as number) >= 1)) throw new Error('times must be an integer >= 1');
  if (kind === 'delay') {
    if (!(Number.isInteger(rule.ms) && (rule.ms as number) >= 0 && (rule.ms as number) <= 60_000)) throw new Error('ms must be an integer 0..60000');
    return rule as unknown as DelayRule;
  }
  if (!(Number.isInteger(rule.status) && (rule.status as number) >= 400 && (rule.status as number) <= 599)) {
    throw new Error('status must be an integer 400..599');
  }
  if (rule.when !== undefined && rule.when !== 'before' && rule.when !== 'after') throw new Error("when must be 'before' or 'after'");
  for (const field of ['type', 'code', 'decline_code', 'param', 'message']) {
    if (rule[field] !== undefined && typeof rule[field] !== 'string') throw new Error(`${field} must be a string`);
  }
  if (rule.store !== undefined && typeof rule.store !== 'boolean') throw new Error('store must be a boolean');
  return rule as unknown as FailureRule;
}

function validateMode(input: unknown): Partial<DeliveryMode> {
  if (typeof input !== 'object' || input === null) throw new Error('expected a JSON object');
  const mode = input as Record<string, unknown>;
  for (const key of Object.keys(mode)) if (!['hold', 'shuffle', 'duplicates', 'seed'].includes(key)) throw new Error(`unknown delivery mode field ${key}`);
  if (mode.hold !== undefined && typeof mode.hold !== 'boolean') throw new Error('hold must be a boolean');
  if (mode.shuffle !== undefined && typeof mode.shuffle !== 'boolean') throw new Error('shuffle must be a boolean');
  if (mode.duplicates !== undefined && !(typeof mode.duplicates === 'number' && mode.duplicates >= 0 && mode.duplicates <= 1)) throw new Error('duplicates must be a probability 0..1');
  if (mode.seed !== undefined && mode.seed !== null && !Number.isInteger(mode.seed)) throw new Error('seed must be an integer or null');
  return mode as Partial<DeliveryMode>;
}

function validateWebhookTarget(input: unknown): WebhookTarget {
  if (typeof input !== 'object' || input === null) throw new Error('expected a JSON object');
  const target = input as Record<string, unknown>;
  if (typeof target.url !== 'string' || !/^https?:\/\//.test(target.url)) throw new Error('url must be an http(s) URL');
  if (typeof target.secret !== 'string' || target.secret === '') throw new Error('secret must be a non-empty string (the endpoint signing secret, whsec_...)');
  if (target.apiKey !== undefined && (typeof target.apiKey !== 'string' || !target.apiKey.startsWith('sk_test_'))) throw new Error('apiKey must be an sk_test_ key');
  if (target.enabledEvents !== undefined && !(Array.isArray(target.enabledEvents) && target.enabledEvents.every((e) => typeof e === 'string'))) {
    throw new Error('enabledEvents must be an array of event types');
  }
  if (target.apiVersion !== undefined && !(typeof target.apiVersion === 'string' && /^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/.test(target.apiVersion))) {
    throw new Error('apiVersion must be a Stripe API version such as 2024-06-20 or 2025-03-31.basil');
  }
  return target as unknown as WebhookTarget;
}

function validateBilling(input: unknown): Partial<BillingSettings> {
  if (input === undefined) return {};
  if (typeof input !== 'object' || input === null) throw new Error('billing must be an object');
  const billing = input as Record<string, unknown>;
  const known = Object.keys(DEFAULT_BILLING_SETTINGS);
  for (const key of Object.keys(billing)) if (!known.includes(key)) throw new Error(`unknown billing setting ${key} (known: ${known.join(', ')})`);
  const days = billing.retryDays;
  if (days !== undefined && !(Array.isArray(days) && days.every((d, i) => typeof d === 'number' && d > 0 && (i === 0 || d > days[i - 1])))) {
    throw new Error('retryDays must be increasing positive numbers of days after the first failed attempt');
  }
  const actions = ['cancel', 'unpaid', 'past_due'];
  if (billing.afterFinalRetry !== undefined && !actions.includes(billing.afterFinalRetry as string)) throw new Error(`afterFinalRetry must be one of ${actions.join(', ')}`);
  const pastDue = billing.sendInvoicePastDue as { action?: unknown; afterDays?: unknown } | undefined;
  if (pastDue !== undefined && !(actions.includes(pastDue.action as string) && typeof pastDue.afterDays === 'number' && pastDue.afterDays >= 0)) {
    throw new Error('sendInvoicePastDue must be { action: cancel|unpaid|past_due, afterDays: number }');
  }
  if (billing.portalConfirmNeedsAllowedUpdates !== undefined && typeof billing.portalConfirmNeedsAllowedUpdates !== 'boolean') throw new Error('portalConfirmNeedsAllowedUpdates must be true or false');
  for (const key of ['finalizeAfterSeconds', 'incompleteExpiresAfterSeconds', 'testClockMaxCustomers']) {
    if (billing[key] !== undefined && !(typeof billing[key] === 'number' && (billing[key] as number) >= 0)) throw new Error(`${key} must be a number >= 0`);
  }
  return billing as Partial<BillingSettings>;
}

export async function startFakeStripe(options: FakeStripeOptions = {}): Promise<FakeStripe> {
  const host = options.host ?? '127.0.0.1';
  const clock = options.now ?? Date.now;
  const catalog = options.catalog ?? DEFAULT_CATALOG;
  const startBilling: BillingSettings = { ...DEFAULT_BILLING_SETTINGS, ...validateBilling(options.billing) };
  let billingDefaults = structuredClone(startBilling);
  let accounts = new Map<string, Account>();
  // Saved responses, keyed by (secret key, idempotency key): keys are per account, as in Stripe.
  let saved = new Map<string, SavedResponse>();
  let failures: Array<FailureRule & { remaining: number }> = [];
  let delays: Array<DelayRule & { remaining: number }> = [];
  const timers = new Set<NodeJS.Timeout>();
  const dispatcher = new WebhookDispatcher(options.onDelivery);
  dispatcher.settings = { ...dispatcher.settings, ...options.webhookSettings };
  const startSettings = { ...dispatcher.settings };
  let baseUrl = '';

  const addWebhook = (target: WebhookTarget): string => {
    const valid = validateWebhookTarget(target);
    const endpoint: ControlEndpoint = { id: newId('we_local', 14), url: valid.url, secret: valid.secret, apiKey: valid.apiKey ?? null, enabledEvents: valid.enabledEvents ?? ['*'], apiVersion: valid.apiVersion ?? null };
    dispatcher.controlEndpoints.push(endpoint);
    return endpoint.id;
  };
  const startWebhooks = (options.webhooks ?? []).map((target) => addWebhook(target));
  const removeWebhook = (id: string) => {
    dispatcher.controlEndpoints = dispatcher.controlEndpoints.filter((e) => e.id !== id);
  };

  const realNow = () => Math.floor(clock() / 1000);
  const env = {
    realNow,
    onEvent: (account: Account, event: StripeEvent) => dispatcher.onEvent(account, event),
    baseUrl: () => baseUrl,
    defaultTestClock: options.defaultTestClock ?? false,
    advanceClock: (account: Account, clockId: string) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        void advance(account, clockId);
      }, 0);
      timers.add(timer);
    },
  };

  const accountFor = (key: string) => {
    let account = accounts.get(key);
    if (!account) {
      account = new Account(key, env, structuredClone(billingDefaults));
      seedCatalog(account, catalog);
      accounts.set(key, account);
    }
    return account;
  };

  /**
   * The asynchronous part of a test clock advance: every transition due up to the target, in time
   * order; then, before `ready`, the first delivery of the events it made (so a test that waits for
   * `ready` sees the webhook handler's work done, as far as a first attempt goes).
   */
  async function advance(account: Account, clockId: string): Promise<void> {
    const rec = account.testClocks.get(clockId);
    if (!rec || rec.meta.deleted || rec.value.status !== 'advancing') return;
    const target = rec.value.status_details.advancing?.target_frozen_time ?? rec.value.frozen_time;
    const firstEvent = account.events.length;
    try {
      runDue(account, clockId, target);
      rec.value.frozen_time = target;
      const made = new Set(account.events.slice(firstEvent).map((e) => e.value.id));
      await dispatcher.firstAttempts(made, options.advanceDrainMs ?? 30_000);
      runDue(account, clockId, target); // what the webhook handlers' requests scheduled at this instant
      rec.value.status = 'ready';
      rec.value.status_details = {};
      emit({ account, now: realNow(), origin: AUTOMATIC }, 'test_helpers.test_clock.ready', rec.value);
    } catch (error) {
      rec.value.status = 'internal_failure';
      rec.value.status_details = {};
      console.error(`fake-stripe: advancing ${clockId} failed: ${(error as Error).stack}`);
      emit({ account, now: realNow(), origin: AUTOMATIC }, 'test_helpers.test_clock.internal_failure', rec.value);
    }
  }

  /** "The card expired since": what the next charges to an attached card do. */
  const setChargeOutcome = (paymentMethodId: string, input: unknown) => {
    const rule = (input ?? {}) as { outcome?: unknown; decline_code?: unknown; message?: unknown };
    if (rule.outcome !== 'succeed' && rule.outcome !== 'decline') throw new Error("outcome must be 'succeed' or 'decline'");
    const found = [...accounts.values()].map((a) => a.paymentMethods.get(paymentMethodId)).find(Boolean);
    if (!found) throw new Error(`no payment method ${paymentMethodId}`);
    const declineCode = typeof rule.decline_code === 'string' ? rule.decline_code : 'generic_decline';
    found.meta.behavior.charge =
      rule.outcome === 'succeed' ? 'succeed' : { code: 'card_declined', decline_code: declineCode, message: typeof rule.message === 'string' ? rule.message : 'Your card was declined.' };
  };

  const tick = () => {
    for (const account of accounts.values()) {
      try {
        runDueEverywhere(account);
      } catch (error) {
        console.error(`fake-stripe: scheduled work failed: ${(error as Error).stack}`);
      }
    }
  };
  const ticker = setInterval(tick, options.tickMs ?? 1000);
  ticker.unref();

  const configure = (update: SettingsUpdate) => {
    const billing = validateBilling(update.billing);
    if (update.webhooks) {
      const { retryDelaysMs, timeoutMs } = update.webhooks;
      if (retryDelaysMs !== undefined && !(Array.isArray(retryDelaysMs) && retryDelaysMs.every((d) => typeof d === 'number' && d >= 0))) throw new Error('webhooks.retryDelaysMs must be an array of delays in ms');
      if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0)) throw new Error('webhooks.timeoutMs must be > 0');
      dispatcher.settings = { ...dispatcher.settings, ...update.webhooks };
    }
    if (update.apiKey) {
      const account = accountFor(update.apiKey);
      account.settings = { ...account.settings, ...billing };
      return;
    }
    billingDefaults = { ...billingDefaults, ...billing };
    for (const account of accounts.values()) account.settings = { ...account.settings, ...billing };
  };

  const reset = (resetOptions: { all?: boolean } = {}) => {
    accounts = new Map();
    saved = new Map();
    failures = [];
    delays = [];
    dispatcher.reset(false);
    if (resetOptions.all) {
      dispatcher.controlEndpoints = dispatcher.controlEndpoints.filter((e) => startWebhooks.includes(e.id));
      dispatcher.setMode({ hold: false, shuffle: false, duplicates: 0, seed: null });
      dispatcher.settings = { ...startSettings };
      billingDefaults = structuredClone(startBilling);
    }
  };
  const failNext = (rule: FailureRule) => {
    failures.push({ ...(validateRule(rule, 'failure') as FailureRule), remaining: rule.times ?? 1 });
  };
  const delayNext = (rule: DelayRule) => {
    delays.push({ ...(validateRule(rule, 'delay') as DelayRule), remaining: rule.times ?? 1 });
  };
  const take = <T extends { remaining: number; method?: string; path: string }>(rules: T[], method: string, path: string): T | undefined => {
    const rule = rules.find((r) => r.remaining > 0 && matches(r, method, path));
    if (rule) rule.remaining -= 1;
    return rule;
  };
  const selected = (apiKey?: string) => (apiKey ? [accounts.get(apiKey)].filter((a): a is Account => !!a) : [...accounts.values()]);
  const state = (apiKey?: string): FakeStripeState => {
    const result: FakeStripeState = { customers: [], subscriptions: [], invoices: [], paymentMethods: [], testClocks: [] };
    for (const account of selected(apiKey)) {
      for (const c of account.customers.values()) result.customers.push({ ...structuredClone(c.value), deleted: c.meta.deleted });
      for (const s of account.subscriptions.values()) result.subscriptions.push(structuredClone(s.value));
      for (const i of account.invoices.values()) result.invoices.push(structuredClone(i.value));
      for (const p of account.paymentMethods.values()) result.paymentMethods.push(structuredClone(p.value));
      for (const t of account.testClocks.values()) if (!t.meta.deleted) result.testClocks.push(structuredClone(t.value));
    }
    return result;
  };
  const events = (apiKey?: string) => selected(apiKey).flatMap((a) => a.events.map((e) => structuredClone(e.value)));
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  /** The Stripe API: auth, routing, failure injection, idempotency, then the handler. */
  async function api(req: IncomingMessage, url: URL, rawBody: string, requestId: string): Promise<Reply> {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const { key, given } = apiKeyOf(req);
    if (!key) {
      const message = given
        ? `Invalid API Key provided: ${maskKey(given)}`
        : "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').";
      return errorReply(401, { type: 'invalid_request_error', message }, requestId);
    }
    const route = matchRoute(method, path);
    if (!route) {
      return errorReply(
        404,
        { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.` },
        requestId,
      );
    }
    let params: FormObject;
    try {
      params = { ...parseForm(url.search.slice(1)), ...parseForm(rawBody) };
    } catch (error) {
      if (!(error instanceof FormError)) throw error;
      return errorReply(400, { type: 'invalid_request_error', code: 'parameter_invalid_string', param: error.param, message: error.message }, requestId);
    }

    // Stripe honours idempotency keys on POST only; on GET and DELETE they have no effect.
    const idempotencyKey = method === 'POST' ? (req.headers['idempotency-key'] as string | undefined) ?? null : null;
    if (idempotencyKey !== null && idempotencyKey.length > MAX_IDEMPOTENCY_KEY) {
      return errorReply(400, { type: 'invalid_request_error', message: `Keys for idempotent requests can only be up to ${MAX_IDEMPOTENCY_KEY} characters long.` }, requestId);
    }
    const savedKey = idempotencyKey === null ? null : `${key}\u0000${idempotencyKey}`;
    const fingerprint = `${method} ${path} ${canonical(params)}`;

    const failure = take(failures, method, path);
    if (failure && (failure.when ?? 'before') === 'before') {
      const reply = errorReply(failure.status, injectedError(failure), requestId);
      if (failure.store && savedKey && !saved.has(savedKey)) saved.set(savedKey, { fingerprint, status: reply.status, body: reply.body });
      return reply;
    }

    if (savedKey) {
      const previous = saved.get(savedKey);
      if (previous && previous.fingerprint !== fingerprint) {
        return errorReply(
          400,
          {
            type: 'idempotency_error',
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
          },
          requestId,
        );
      }
      if (previous && previous.status === undefined) {
        return errorReply(
          409,
          {
            type: 'idempotency_error',
            code: 'idempotency_key_in_use',
            doc_url: IDEMPOTENCY_DOC,
            message: `There is currently another in-progress request using this idempotent key (that probably means you submitted twice, and the other request is still going through): '${idempotencyKey}'. Please try again later.`,
          },
          requestId,
        );
      }
      if (previous) return { status: previous.status!, body: previous.body!, headers: { 'Idempotent-Replayed': 'true' } };
      saved.set(savedKey, { fingerprint }); // in progress
    }

    const delay = take(delays, method, path);
    if (delay) await sleep(delay.ms);

    let reply: Reply;
    let executed = true;
    const account = accountFor(key);
    try {
      // What became due since the last request happens first: a read at time T sees Stripe at T.
      runDueEverywhere(account);
      const call: Call = { account, params, requestId, idempotencyKey };
      reply = { status: 200, body: JSON.stringify(route.handler(call, route.id, route.subId), null, 2) };
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      executed = error.executed;
      reply = errorReply(error.status, error.body, requestId);
    }
    // Work the request scheduled for "right after" it (a resume's payment attempt, a finalized invoice's charge).
    runDueEverywhere(account);
    if (savedKey) {
      // A request refused during validation is not saved: the same key may be used again.
      if (executed) saved.set(savedKey, { fingerprint, status: reply.status, body: reply.body });
      else saved.delete(savedKey);
    }
    if (failure) return errorReply(failure.status, injectedError(failure), requestId); // when: 'after'
    return reply;
  }

  /** The control API for tests and scripts: no auth, JSON in and out. */
  async function control(method: string, url: URL, rawBody: string): Promise<Reply> {
    const json = (status: number, value: unknown): Reply => ({ status, body: JSON.stringify(value, null, 2) });
    const path = url.pathname;
    let body: unknown = {};
    if (rawBody.trim() !== '') {
      try {
        body = JSON.parse(rawBody);
      } catch {
        return json(400, { error: { message: 'Body must be JSON' } });
      }
    }
    try {
      const apiKey = url.searchParams.get('apiKey') ?? undefined;
      if (method === 'GET' && path === '/_fake/health') return json(200, { ok: true });
      if (method === 'POST' && path === '/_fake/reset') {
        reset({ all: (body as { all?: unknown }).all === true });
        return json(200, { ok: true });
      }
      if (method === 'POST' && path === '/_fake/tick') {
        tick();
        return json(200, { ok: true });
      }
      if (method === 'GET' && path === '/_fake/settings') {
        return json(200, { billing: apiKey ? accountFor(apiKey).settings : billingDefaults, webhooks: dispatcher.settings });
      }
      if (method === 'POST' && path === '/_fake/settings') {
        configure(body as SettingsUpdate);
        return json(200, { ok: true });
      }
      if (method === 'GET' && path === '/_fake/test-clock') {
        if (!apiKey) throw new Error('apiKey (the account\'s secret key) is required');
        return json(200, defaultClock(accountFor(apiKey)));
      }
      if (method === 'GET' && path === '/_fake/webhooks') return json(200, { data: dispatcher.controlEndpoints.map(({ secret: _secret, ...e }) => e) });
      if (method === 'POST' && path === '/_fake/webhooks') return json(200, { id: addWebhook(body as WebhookTarget) });
      const webhookId = /^\/_fake\/webhooks\/(we_local_[A-Za-z0-9]+)$/.exec(path)?.[1];
      if (method === 'DELETE' && webhookId) {
        removeWebhook(webhookId);
        return json(200, { ok: true });
      }
      if (method === 'GET' && path === '/_fake/webhooks/mode') return json(200, dispatcher.mode);
      if (method === 'POST' && path === '/_fake/webhooks/mode') return json(200, dispatcher.setMode(validateMode(body)));
      if (method === 'POST' && path === '/_fake/webhooks/flush') {
        await dispatcher.flush(Number((body as { timeoutMs?: unknown }).timeoutMs ?? 60_000));
        return json(200, { ok: true, deliveries: dispatcher.log.length });
      }
      if (method === 'GET' && path === '/_fake/webhooks/deliveries') {
        const eventId = url.searchParams.get('eventId');
        const type = url.searchParams.get('type');
        return json(200, { data: dispatcher.log.filter((d) => (!eventId || d.eventId === eventId) && (!type || d.type === type)) });
      }
      const cardId = /^\/_fake\/payment_methods\/(pm_[A-Za-z0-9]+)\/charges$/.exec(path)?.[1];
      if (method === 'POST' && cardId) {
        setChargeOutcome(cardId, body);
        return json(200, { ok: true });
      }
      if (method === 'GET' && path === '/_fake/state') return json(200, state(url.searchParams.get('apiKey') ?? undefined));
      if (method === 'GET' && path === '/_fake/events') return json(200, { data: events(url.searchParams.get('apiKey') ?? undefined) });
      if (method === 'POST' && path === '/_fake/failures') {
        failNext(body as FailureRule);
        return json(200, { ok: true });
      }
      if (method === 'GET' && path === '/_fake/failures') return json(200, { data: failures.filter((r) => r.remaining > 0) });
      if (method === 'DELETE' && path === '/_fake/failures') {
        failures = [];
        return json(200, { ok: true });
      }
      if (method === 'POST' && path === '/_fake/delay') {
        delayNext(body as DelayRule);
        return json(200, { ok: true });
      }
    } catch (error) {
      return json(400, { error: { message: (error as Error).message } });
    }
    return json(404, { error: { message: `Unknown control route ${method} ${path}` } });
  }

  /**
   * Checkout's page and the customer portal: GET shows the page, POST is what the person submitted.
   * What became due runs before and after, as around an API request; the changes' events are delivered
   * like any other.
   */
  function hostedSessionPage(method: string, path: string, rawBody: string, res: ServerResponse): void {
    const html = (status: number, body: string) => {
      res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(body);
    };
    const redirect = (location: string) => {
      res.writeHead(303, { Location: location });
      res.end();
    };
    const form = Object.fromEntries(new URLSearchParams(rawBody));
    const checkoutId = /^\/hosted\/checkout\/(cs_test_[A-Za-z0-9]+)$/.exec(path)?.[1];
    if (checkoutId) {
      const account = [...accounts.values()].find((a) => a.checkoutSessions.has(checkoutId));
      if (!account) return html(404, '<!doctype html><title>Not found</title><p>No such Checkout Session.</p>');
      runDueEverywhere(account);
      const rec = account.checkoutSessions.get(checkoutId)!;
      if (method !== 'POST') return html(200, checkoutPage(account, rec.value, rec.meta.lastError));
      const outcome = submitCheckoutCard(account, rec, form.card_number ?? '');
      runDueEverywhere(account);
      if ('redirect' in outcome) return redirect(outcome.redirect);
      return html(402, checkoutPage(account, rec.value, outcome.error));
    }
    const portalId = /^\/hosted\/portal\/(bps_[A-Za-z0-9]+)$/.exec(path)?.[1];
    const found = portalId ? findPortalSession(accounts.values(), portalId) : null;
    if (!found) return html(404, '<!doctype html><title>Not found</title><p>No such portal session.</p>');
    runDueEverywhere(found.account);
    if (method === 'POST') {
      const outcome = portalAction(found.account, found.rec, form);
      runDueEverywhere(found.account);
      // Post/redirect/get: a reload does not submit the action twice.
      return redirect(outcome.redirect ?? path);
    }
    const body = portalPage(found.account, portalView(found.account, found.rec));
    found.rec.meta.notice = null; // shown once
    return html(200, body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newId('req');
    let reply: Reply;
    try {
      const url = new URL(req.url ?? '/', 'http://fake-stripe.local');
      const rawBody = await readBody(req);
      const hosted = req.method === 'GET' ? /^\/hosted\/invoices\/(in_[A-Za-z0-9]+)$/.exec(url.pathname)?.[1] : undefined;
      if (hosted) {
        const found = findInvoice(accounts.values(), hosted);
        res.writeHead(found ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(found ? hostedInvoicePage(found.account, found.invoice) : '<!doctype html><title>Not found</title><p>No such invoice.</p>');
        return;
      }
      if (url.pathname.startsWith('/hosted/checkout/') || url.pathname.startsWith('/hosted/portal/')) {
        hostedSessionPage(req.method ?? 'GET', url.pathname, rawBody, res);
        return;
      }
      reply = url.pathname.startsWith('/_fake/')
        ? await control(req.method ?? 'GET', url, rawBody)
        : await api(req, url, rawBody, requestId);
    } catch (error) {
      reply = errorReply(500, { type: 'api_error', message: `fake-stripe internal error: ${(error as Error).message}` }, requestId);
    }
    if (res.destroyed) return;
    const idempotencyKey = req.headers['idempotency-key'];
    res.writeHead(reply.status, {
      'Content-Type': 'application/json',
      'Request-Id': requestId,
      ...(typeof idempotencyKey === 'string' && req.method === 'POST' ? { 'Idempotency-Key': idempotencyKey } : {}),
      ...(typeof req.headers['stripe-version'] === 'string' ? { 'Stripe-Version': req.headers['stripe-version'] } : {}),
      ...reply.headers,
    });
    res.end(reply.body);
  }

  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  baseUrl = `http://${urlHost}:${port}`;

  return {
    url: baseUrl,
    port,
    reset,
    failNext,
    delayNext,
    state,
    events,
    addWebhook,
    removeWebhook,
    setDeliveryMode: (mode) => dispatcher.setMode(validateMode(mode)),
    flushWebhooks: (timeoutMs) => dispatcher.flush(timeoutMs),
    deliveries: () => structuredClone(dispatcher.log),
    defaultTestClock: (apiKey) => structuredClone(defaultClock(accountFor(apiKey))),
    configure,
    tick,
    close: () =>
      new Promise<void>((resolve, reject) => {
        clearInterval(ticker);
        dispatcher.close();
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections(); // the SDK keeps connections alive
      }),
  };
}

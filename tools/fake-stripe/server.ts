// A local fake of the parts of the Stripe API this project uses, for the real `stripe` SDK to talk to
// in tests and local runs. Dev/test tool only: never on the functions' production path.
// What it implements and what not: docs/fake-stripe.md.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, type StripeErrorBody } from './errors';
import { canonical, FormError, parseForm, type FormObject } from './form';
import { Account, matchRoute, newId, type Customer, type StripeEvent, type Subscription } from './resources';

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
}

export interface FakeStripe {
  url: string;
  port: number;
  close(): Promise<void>;
  /** Forgets every account, saved idempotency key, failure and delay rule. */
  reset(): void;
  failNext(rule: FailureRule): void;
  delayNext(rule: DelayRule): void;
  /** Objects of one account (by its secret key), or of all accounts merged. */
  state(apiKey?: string): FakeStripeState;
  events(apiKey?: string): StripeEvent[];
}

export interface FakeStripeOptions {
  port?: number;
  host?: string;
  /** The clock, in ms since the epoch (default Date.now): objects' `created`, trial checks. */
  now?: () => number;
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

export async function startFakeStripe(options: FakeStripeOptions = {}): Promise<FakeStripe> {
  const host = options.host ?? '127.0.0.1';
  const clock = options.now ?? Date.now;
  let accounts = new Map<string, Account>();
  // Saved responses, keyed by (secret key, idempotency key): keys are per account, as in Stripe.
  let saved = new Map<string, SavedResponse>();
  let failures: Array<FailureRule & { remaining: number }> = [];
  let delays: Array<DelayRule & { remaining: number }> = [];
  const timers = new Set<NodeJS.Timeout>();

  const accountFor = (key: string) => {
    let account = accounts.get(key);
    if (!account) accounts.set(key, (account = new Account()));
    return account;
  };

  const reset = () => {
    accounts = new Map();
    saved = new Map();
    failures = [];
    delays = [];
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
    const customers: FakeStripeState['customers'] = [];
    const subscriptions: Subscription[] = [];
    for (const account of selected(apiKey)) {
      for (const c of account.customers.values()) customers.push({ ...structuredClone(c.value), deleted: c.deleted });
      for (const s of account.subscriptions.values()) subscriptions.push(structuredClone(s.value));
    }
    return { customers, subscriptions };
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
    try {
      const call = { account: accountFor(key), params, now: Math.floor(clock() / 1000), requestId, idempotencyKey };
      reply = { status: 200, body: JSON.stringify(route.handler(call, route.id), null, 2) };
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      executed = error.executed;
      reply = errorReply(error.status, error.body, requestId);
    }
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
      if (method === 'GET' && path === '/_fake/health') return json(200, { ok: true });
      if (method === 'POST' && path === '/_fake/reset') {
        reset();
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

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newId('req');
    let reply: Reply;
    try {
      const url = new URL(req.url ?? '/', 'http://fake-stripe.local');
      const rawBody = await readBody(req);
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

  return {
    url: `http://${urlHost}:${port}`,
    port,
    reset,
    failNext,
    delayNext,
    state,
    events,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections(); // the SDK keeps connections alive
      }),
  };
}

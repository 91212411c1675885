// The local Stripe simulator's API surface, driven by the real `stripe` SDK: wire format, auth, customers,
// subscriptions, idempotency (STRIPE.md §12), failure injection, events, the CLI. Billing behaviour over
// time has its own files (trials, payments, sendInvoice, changes, testClocks, webhooks, objects).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { parseForm } from '../../tools/fake-stripe/form';
import { addMonth } from '../../tools/fake-stripe/resources';
import { catalogPriceId } from '../../tools/fake-stripe/catalog';
import { startFakeStripe, type FakeStripe, type FakeStripeState } from '../../tools/fake-stripe/server';

const KEY = 'sk_test_fake_tenancy';
const OTHER_KEY = 'sk_test_fake_other_account';
const DAY = 86_400;

let fake: FakeStripe;
let stripe: Stripe;

const client = (key: string) =>
  new Stripe(key, { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false });
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Asserts that `promise` rejects with the SDK error class `type` (and, when given, the other fields). */
async function rejectsWith(
  promise: Promise<unknown>,
  type: string,
  fields: { statusCode?: number; code?: string; param?: string; message?: RegExp } = {},
): Promise<Stripe.errors.StripeError> {
  const caught = (await promise.then(
    () => expect.fail('expected the call to be refused'),
    (error: unknown) => error,
  )) as Stripe.errors.StripeError;
  expect(caught).toBeInstanceOf(Stripe.errors.StripeError);
  expect(caught.type).toBe(type);
  if (fields.statusCode !== undefined) expect(caught.statusCode).toBe(fields.statusCode);
  if (fields.code !== undefined) expect(caught.code).toBe(fields.code);
  if (fields.param !== undefined) expect(caught.param).toBe(fields.param);
  if (fields.message) expect(caught.message).toMatch(fields.message);
  return caught;
}

async function control(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${fake.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/** A response header of a StripeError (the SDK keeps the headers of the failed response). */
function errorHeader(error: Stripe.errors.StripeError, name: string): string | undefined {
  const headers = error.headers ?? {};
  expect(error.headers, 'the error carries its response headers').toBeTruthy();
  expect(headers['request-id'], 'every response has a Request-Id').toBeTruthy();
  return headers[name];
}

const fakeState = async (): Promise<FakeStripeState> => (await control('GET', '/_fake/state')).json;

/** A customer; with `card` (a Stripe test token) it has a default payment method, so subscriptions charge. */
async function newCustomer(email = 'billing@acme.test', card?: string): Promise<Stripe.Customer> {
  return stripe.customers.create({
    email,
    name: 'Acme Corp',
    metadata: { tenantId: 't-acme' },
    ...(card ? { payment_method: card, invoice_settings: { default_payment_method: card } } : {}),
  });
}
const PRICE = catalogPriceId(KEY, 'starter_monthly'); // a price of the account's catalog (catalog.ts)

beforeAll(async () => {
  fake = await startFakeStripe({ port: 0 });
  stripe = client(KEY);
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

describe('wire format', () => {
  it('decodes bracket notation into nested objects and indexed arrays, as the SDK encodes them', () => {
    expect(parseForm('metadata[tenantId]=t1&items[0][price]=price_a&items[1][price]=price_b&expand[]=customer&expand[]=x&name=A+B%26C')).toEqual({
      metadata: { tenantId: 't1' },
      items: [{ price: 'price_a' }, { price: 'price_b' }],
      expand: ['customer', 'x'],
      name: 'A B&C',
    });
  });

  it('keeps numeric metadata keys as a hash, and accepts percent-encoded brackets', () => {
    expect(parseForm('metadata%5B0%5D=zero&metadata[1]=one')).toEqual({ metadata: { '0': 'zero', '1': 'one' } });
  });

  it('refuses parameter names that would reach Object.prototype or conflict', () => {
    expect(() => parseForm('metadata[__proto__][x]=1')).toThrow(/Invalid parameter name/);
    expect(() => parseForm('a=1&a[b]=2')).toThrow(/Conflicting values/);
  });

  it('adds calendar months, clamped to the end of a shorter month', () => {
    expect(addMonth(Date.UTC(2026, 0, 31) / 1000)).toBe(Date.UTC(2026, 1, 28) / 1000);
    expect(addMonth(Date.UTC(2026, 10, 22, 12) / 1000)).toBe(Date.UTC(2026, 11, 22, 12) / 1000);
  });

  it('answers an unknown route with Stripe\'s 404 and an unknown parameter with parameter_unknown', async () => {
    const response = await fetch(`${fake.url}/v1/charges/ch_1`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/^Unrecognized request URL \(GET: \/v1\/charges\/ch_1\)/);

    await rejectsWith(stripe.customers.create({ coupon: 'x' } as Stripe.CustomerCreateParams), 'StripeInvalidRequestError', {
      statusCode: 400,
      code: 'parameter_unknown',
      param: 'coupon',
    });
  });
});

describe('auth', () => {
  it('accepts an sk_test_ key', async () => {
    const customer = await client('sk_test_anything').customers.create({ email: 'a@acme.test' });
    expect(customer.id).toMatch(/^cus_[A-Za-z0-9]{14}$/);
  });

  it('refuses a key that does not start with sk_test_ (live keys included), creating nothing', async () => {
    const error = await rejectsWith(client('sk_live_0123456789abcdef').customers.create({ email: 'a@acme.test' }), 'StripeAuthenticationError', {
      statusCode: 401,
      message: /^Invalid API Key provided: sk_live_\*+cdef$/,
    });
    expect(error.rawType).toBe('invalid_request_error');
    await rejectsWith(client('pk_test_123456789').customers.list(), 'StripeAuthenticationError', { statusCode: 401 });
    expect((await fakeState()).customers.length).toBe(0);
  });

  it('refuses a request without an Authorization header', async () => {
    const response = await fetch(`${fake.url}/v1/customers`);
    expect(response.status).toBe(401);
    const body = (await response.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/You did not provide an API key/);
  });

  it('keeps one account per secret key: another key sees none of its objects', async () => {
    const customer = await newCustomer();
    expect((await stripe.customers.retrieve(customer.id)).id).toBe(customer.id);
    await rejectsWith(client(OTHER_KEY).customers.retrieve(customer.id), 'StripeInvalidRequestError', { code: 'resource_missing' });
    expect((await client(OTHER_KEY).customers.list()).data.length).toBe(0);
  });
});

describe('customers', () => {
  it('creates a Stripe-shaped customer and retrieves it', async () => {
    const before = nowSeconds();
    const created = await newCustomer();
    expect(created.object).toBe('customer');
    expect(created.livemode).toBe(false);
    expect(created.email).toBe('billing@acme.test');
    expect(created.name).toBe('Acme Corp');
    expect(created.metadata).toEqual({ tenantId: 't-acme' });
    expect(created.created >= before && created.created <= nowSeconds() + 1).toBeTruthy();
    const retrieved = await stripe.customers.retrieve(created.id);
    expect(retrieved).toEqual(created);
  });

  it('answers an unknown customer id with 404 resource_missing, param id', async () => {
    await rejectsWith(stripe.customers.retrieve('cus_doesnotexist'), 'StripeInvalidRequestError', {
      statusCode: 404,
      code: 'resource_missing',
      param: 'id',
      message: /^No such customer: 'cus_doesnotexist'$/,
    });
  });

  it('updates fields and merges metadata; an empty metadata value removes the key', async () => {
    const customer = await stripe.customers.create({ email: 'old@acme.test', metadata: { tenantId: 't1', plan: 'starter' } });
    const updated = await stripe.customers.update(customer.id, { email: 'new@acme.test', metadata: { plan: '', region: 'eu' } });
    expect(updated.email).toBe('new@acme.test');
    expect(updated.metadata).toEqual({ tenantId: 't1', region: 'eu' });
    expect(await stripe.customers.retrieve(customer.id)).toEqual(updated);
  });

  it('lists newest first with limit, starting_after, has_more and the email filter; deleted ones are not listed', async () => {
    const a = await newCustomer('a@acme.test');
    const b = await newCustomer('b@acme.test');
    const c = await newCustomer('a@acme.test');
    const first = await stripe.customers.list({ limit: 2 });
    expect(first.object).toBe('list');
    expect(first.url).toBe('/v1/customers');
    expect(first.data.map((x) => x.id)).toEqual([c.id, b.id]);
    expect(first.has_more).toBe(true);
    const second = await stripe.customers.list({ limit: 2, starting_after: b.id });
    expect(second.data.map((x) => x.id)).toEqual([a.id]);
    expect(second.has_more).toBe(false);
    expect((await stripe.customers.list({ email: 'a@acme.test' })).data.map((x) => x.id)).toEqual([c.id, a.id]);

    await stripe.customers.del(c.id);
    expect((await stripe.customers.list({ email: 'a@acme.test' })).data.map((x) => x.id)).toEqual([a.id]);
    await rejectsWith(stripe.customers.list({ limit: 101 }), 'StripeInvalidRequestError', { param: 'limit' });
  });

  it('deletes a customer: retrieve then shows deleted: true, update and a second delete are resource_missing', async () => {
    const customer = await newCustomer();
    const deleted = await stripe.customers.del(customer.id);
    expect({ ...deleted }).toEqual({ id: customer.id, object: 'customer', deleted: true });
    expect({ ...(await stripe.customers.retrieve(customer.id)) }).toEqual({ id: customer.id, object: 'customer', deleted: true });
    await rejectsWith(stripe.customers.update(customer.id, { name: 'x' }), 'StripeInvalidRequestError', { code: 'resource_missing', statusCode: 404 });
    await rejectsWith(stripe.customers.del(customer.id), 'StripeInvalidRequestError', { code: 'resource_missing', statusCode: 404 });
    const [inState] = (await fakeState()).customers;
    expect(inState.id).toBe(customer.id);
    expect(inState.deleted).toBe(true);
    expect(inState.metadata, 'the state keeps what an orphan scan needs').toEqual({ tenantId: 't-acme' });
  });

  it('cancels the subscriptions of a customer it deletes, and only those', async () => {
    const doomed = await newCustomer('doomed@acme.test');
    const kept = await newCustomer('kept@acme.test');
    const doomedSub = await stripe.subscriptions.create({ customer: doomed.id, items: [{ price: PRICE }], trial_period_days: 14 });
    const keptSub = await stripe.subscriptions.create({ customer: kept.id, items: [{ price: PRICE }], trial_period_days: 14 });
    await stripe.customers.del(doomed.id);
    const canceled = await stripe.subscriptions.retrieve(doomedSub.id);
    expect(canceled.status).toBe('canceled');
    expect(typeof canceled.canceled_at).toBe('number');
    expect((await stripe.subscriptions.retrieve(keptSub.id)).status).toBe('trialing');
  });
});

describe('subscriptions', () => {
  it('is trialing when trial_end is in the future, with the period ending at trial_end', async () => {
    const customer = await newCustomer();
    const trialEnd = nowSeconds() + 14 * DAY;
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: PRICE }],
      trial_end: trialEnd,
      metadata: { tenantId: 't-acme' },
    });
    expect(sub.id).toMatch(/^sub_/);
    expect(sub.object).toBe('subscription');
    expect(sub.status).toBe('trialing');
    expect(sub.trial_end).toBe(trialEnd);
    expect(sub.customer).toBe(customer.id);
    expect(sub.cancel_at_period_end).toBe(false);
    expect(sub.canceled_at).toBe(null);
    expect(sub.metadata).toEqual({ tenantId: 't-acme' });
    expect(sub.items.object).toBe('list');
    expect(sub.items.data[0].id).toMatch(/^si_/);
    expect(sub.items.data[0].price).toMatchObject({ id: PRICE, object: 'price', unit_amount: 900 });
    expect(sub.items.data[0].current_period_end).toBe(trialEnd);
    expect(sub).not.toHaveProperty('current_period_end'); // on the items since basil (STRIPE.md §0)
  });

  it('is active without a trial when the first invoice is paid (and with trial_end=now), billing from now for a month', async () => {
    const customer = await newCustomer('billing@acme.test', 'pm_card_visa');
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE }] });
    expect(sub.status).toBe('active');
    expect(sub.trial_end).toBe(null);
    const item = sub.items.data[0];
    expect(item.current_period_end).toBe(addMonth(item.current_period_start));
    const now = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE }], trial_end: 'now' });
    expect(now.status).toBe('active');
  });

  it('refuses a trial_end in the past, creating nothing', async () => {
    const customer = await newCustomer();
    await rejectsWith(
      stripe.subscriptions.create({ customer: customer.id, items: [{ price: 'price_pro' }], trial_end: nowSeconds() - 60 }),
      'StripeInvalidRequestError',
      { statusCode: 400, param: 'trial_end' },
    );
    expect((await fakeState()).subscriptions.length).toBe(0);
  });

  it('refuses a missing or deleted customer with resource_missing on param customer, creating nothing', async () => {
    await rejectsWith(stripe.subscriptions.create({ customer: 'cus_missing', items: [{ price: 'price_pro' }] }), 'StripeInvalidRequestError', {
      statusCode: 400,
      code: 'resource_missing',
      param: 'customer',
      message: /^No such customer: 'cus_missing'$/,
    });
    const gone = await newCustomer();
    await stripe.customers.del(gone.id);
    await rejectsWith(stripe.subscriptions.create({ customer: gone.id, items: [{ price: 'price_pro' }] }), 'StripeInvalidRequestError', {
      code: 'resource_missing',
      param: 'customer',
    });
    expect((await fakeState()).subscriptions.length).toBe(0);
  });

  it('requires customer and items[0][price]', async () => {
    const customer = await newCustomer();
    await rejectsWith(stripe.subscriptions.create({ items: [{ price: 'p' }] } as Stripe.SubscriptionCreateParams), 'StripeInvalidRequestError', {
      code: 'parameter_missing',
      param: 'customer',
    });
    await rejectsWith(stripe.subscriptions.create({ customer: customer.id } as Stripe.SubscriptionCreateParams), 'StripeInvalidRequestError', {
      code: 'parameter_missing',
      param: 'items',
    });
    await rejectsWith(stripe.subscriptions.create({ customer: customer.id, items: [{ quantity: 1 }] }), 'StripeInvalidRequestError', {
      code: 'parameter_missing',
      param: 'items[0][price]',
    });
  });

  it('updates metadata, cancel_at_period_end and ends a trial with trial_end=now', async () => {
    const customer = await newCustomer('billing@acme.test', 'pm_card_visa');
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE }], trial_end: nowSeconds() + 7 * DAY });
    const flagged = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true, metadata: { note: 'leaving' } });
    expect(flagged.cancel_at_period_end).toBe(true);
    expect(flagged.cancel_at).toBe(sub.trial_end);
    expect(flagged.status).toBe('trialing');
    expect(flagged.metadata).toEqual({ note: 'leaving' });
    const converted = await stripe.subscriptions.update(sub.id, { trial_end: 'now', cancel_at_period_end: false });
    expect(converted.status).toBe('active');
    expect(converted.cancel_at).toBe(null);
    expect(await stripe.subscriptions.retrieve(sub.id)).toEqual(converted);
  });

  it('cancels now; a second cancel and a non-metadata update of a canceled one are refused', async () => {
    const customer = await newCustomer('billing@acme.test', 'pm_card_visa');
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE }] });
    const canceled = await stripe.subscriptions.cancel(sub.id);
    expect(canceled.status).toBe('canceled');
    expect(typeof canceled.canceled_at).toBe('number');
    expect(canceled.ended_at).toBe(canceled.canceled_at);
    await rejectsWith(stripe.subscriptions.cancel(sub.id), 'StripeInvalidRequestError', { statusCode: 400 });
    await rejectsWith(stripe.subscriptions.update(sub.id, { cancel_at_period_end: true }), 'StripeInvalidRequestError', {
      statusCode: 400,
      message: /canceled subscription can only update its cancellation_details and metadata/,
    });
    const annotated = await stripe.subscriptions.update(sub.id, { metadata: { rolledBack: 'true' } });
    expect(annotated.metadata).toEqual({ rolledBack: 'true' });
    await rejectsWith(stripe.subscriptions.cancel('sub_missing'), 'StripeInvalidRequestError', { statusCode: 404, code: 'resource_missing' });
  });

  it('lists non-canceled ones by default; status=all and status=canceled include the canceled; customer filters', async () => {
    const a = await newCustomer('a@acme.test', 'pm_card_visa');
    const b = await newCustomer('b@acme.test', 'pm_card_visa');
    const live = await stripe.subscriptions.create({ customer: a.id, items: [{ price: PRICE }] });
    const ended = await stripe.subscriptions.create({ customer: a.id, items: [{ price: PRICE }] });
    const other = await stripe.subscriptions.create({ customer: b.id, items: [{ price: PRICE }] });
    await stripe.subscriptions.cancel(ended.id);
    const ids = async (params: Stripe.SubscriptionListParams) => (await stripe.subscriptions.list(params)).data.map((s) => s.id);
    expect(await ids({})).toEqual([other.id, live.id]);
    expect(await ids({ customer: a.id })).toEqual([live.id]);
    expect(await ids({ customer: a.id, status: 'all' })).toEqual([ended.id, live.id]);
    expect(await ids({ status: 'canceled' })).toEqual([ended.id]);
  });

  it('expands customer on request only, and refuses to expand what is not an id', async () => {
    const customer = await newCustomer();
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE }], trial_period_days: 3 });
    expect(sub.customer).toBe(customer.id);
    const expanded = await stripe.subscriptions.retrieve(sub.id, { expand: ['customer'] });
    expect((expanded.customer as Stripe.Customer).email).toBe(customer.email);
    await rejectsWith(stripe.subscriptions.retrieve(sub.id, { expand: ['status'] }), 'StripeInvalidRequestError', { param: 'expand' });
  });
});

describe('idempotency', () => {
  const params = { email: 'billing@acme.test', metadata: { tenantId: 't-acme' } };

  it('replays the first response for the same key and parameters: one customer, Idempotent-Replayed: true', async () => {
    const first = await stripe.customers.create(params, { idempotencyKey: 'job1:a1:customer' });
    const again = await stripe.customers.create(params, { idempotencyKey: 'job1:a1:customer' });
    expect(again.id).toBe(first.id);
    expect(first.lastResponse.headers['idempotent-replayed']).toBe(undefined);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect((await fakeState()).customers.length).toBe(1);
  });

  it('executes again without a key: the SDK\'s own stripe-node-retry keys differ per call', async () => {
    const first = await stripe.customers.create(params);
    const second = await stripe.customers.create(params);
    expect(second.id).not.toBe(first.id);
    expect((await fakeState()).customers.length).toBe(2);
  });

  it('refuses the same key with other parameters or another endpoint: StripeIdempotencyError, nothing executed', async () => {
    await stripe.customers.create(params, { idempotencyKey: 'k-reuse' });
    await rejectsWith(stripe.customers.create({ ...params, email: 'other@acme.test' }, { idempotencyKey: 'k-reuse' }), 'StripeIdempotencyError', {
      statusCode: 400,
      message: /can only be used with the same parameters they were first used with.*'k-reuse'/,
    });
    await rejectsWith(stripe.subscriptions.create({ customer: 'cus_x', items: [{ price: 'p' }] }, { idempotencyKey: 'k-reuse' }), 'StripeIdempotencyError');
    expect((await fakeState()).customers.length).toBe(1);
  });

  it('keeps keys per account: the same key under another secret key executes afresh', async () => {
    const mine = await stripe.customers.create(params, { idempotencyKey: 'shared-key' });
    const theirs = await client(OTHER_KEY).customers.create(params, { idempotencyKey: 'shared-key' });
    expect(theirs.id).not.toBe(mine.id);
    expect(theirs.lastResponse.headers['idempotent-replayed']).toBe(undefined);
  });

  it('replays an error response that happened during execution, byte for byte', async () => {
    const sub = { customer: 'cus_missing', items: [{ price: 'p' }] };
    const first = await rejectsWith(stripe.subscriptions.create(sub, { idempotencyKey: 'k-error' }), 'StripeInvalidRequestError');
    const replay = await rejectsWith(stripe.subscriptions.create(sub, { idempotencyKey: 'k-error' }), 'StripeInvalidRequestError');
    const fresh = await rejectsWith(stripe.subscriptions.create(sub, { idempotencyKey: 'k-error-2' }), 'StripeInvalidRequestError');
    expect(errorHeader(replay, 'idempotent-replayed')).toBe('true');
    expect(errorHeader(first, 'idempotent-replayed')).toBe(undefined);
    // The log URL names the request that produced the body: the replay carries the first one's.
    expect(replay.request_log_url).toBe(first.request_log_url);
    expect(fresh.request_log_url).not.toBe(first.request_log_url);
    expect(replay.requestId).not.toBe(first.requestId);
  });

  it('saves nothing for a request refused during validation: the key can then be used with corrected parameters', async () => {
    const customer = await newCustomer('billing@acme.test', 'pm_card_visa');
    await rejectsWith(stripe.subscriptions.create({ customer: customer.id } as Stripe.SubscriptionCreateParams, { idempotencyKey: 'k-fix' }), 'StripeInvalidRequestError', {
      code: 'parameter_missing',
    });
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE }] }, { idempotencyKey: 'k-fix' });
    expect(sub.status).toBe('active');
    expect(sub.lastResponse.headers['idempotent-replayed']).toBe(undefined);
  });

  it('answers 409 to a second request with a key whose first request is still running; the first one alone executes', async () => {
    fake.delayNext({ method: 'POST', path: '/v1/customers', ms: 1000 });
    const send = () =>
      fetch(`${fake.url}/v1/customers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': 'k-race' },
        body: 'email=race%40acme.test',
      });
    const responses = await Promise.all([send(), send()]);
    expect(responses.map((r) => r.status).sort()).toEqual([200, 409]);
    const conflict = responses.find((r) => r.status === 409)!;
    const body = (await conflict.json()) as { error: { type: string; code: string } };
    expect(body.error.type).toBe('idempotency_error');
    expect(body.error.code).toBe('idempotency_key_in_use');
    expect((await fakeState()).customers.length).toBe(1);
  });

  it('does not apply keys to DELETE (Stripe ignores them there): a repeated cancel is refused', async () => {
    const customer = await newCustomer();
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE }], trial_period_days: 3 });
    await stripe.subscriptions.cancel(sub.id, {}, { idempotencyKey: 'k-cancel' });
    await rejectsWith(stripe.subscriptions.cancel(sub.id, {}, { idempotencyKey: 'k-cancel' }), 'StripeInvalidRequestError', { statusCode: 400 });
  });
});

describe('failure injection', () => {
  it('a 500 on /v1/customers throws StripeAPIError and creates nothing; the next call succeeds', async () => {
    const injected = await control('POST', '/_fake/failures', { method: 'POST', path: '/v1/customers', status: 500 });
    expect(injected.status).toBe(200);
    await rejectsWith(newCustomer(), 'StripeAPIError', { statusCode: 500 });
    expect((await fakeState()).customers.length).toBe(0);
    const customer = await newCustomer();
    expect((await fakeState()).customers.map((c) => c.id)).toEqual([customer.id]);
  });

  it('fails only requests matching the rule\'s method and path prefix, `times` times', async () => {
    fake.failNext({ path: '/v1/subscriptions', status: 503, times: 2 });
    const customer = await newCustomer('billing@acme.test', 'pm_card_visa');
    await stripe.customers.list();
    const create = () => stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE }] });
    await rejectsWith(create(), 'StripeAPIError', { statusCode: 503 });
    await rejectsWith(create(), 'StripeAPIError', { statusCode: 503 });
    expect((await create()).status).toBe('active');
    fake.failNext({ method: 'DELETE', path: '/v1/customers', status: 500 });
    await newCustomer(); // a POST: not matched
    await rejectsWith(stripe.customers.del(customer.id), 'StripeAPIError');
  });

  it('a 402 card_error throws StripeCardError with its code and decline code', async () => {
    const customer = await newCustomer();
    fake.failNext({ method: 'POST', path: '/v1/subscriptions', status: 402 });
    const error = await rejectsWith(stripe.subscriptions.create({ customer: customer.id, items: [{ price: 'p' }] }), 'StripeCardError', {
      statusCode: 402,
      code: 'card_declined',
    });
    expect(error.decline_code).toBe('generic_decline');
    expect((await fakeState()).subscriptions.length).toBe(0);
  });

  it('a failure before execution is not saved: a retry with the same key executes', async () => {
    fake.failNext({ path: '/v1/customers', status: 500 });
    await rejectsWith(stripe.customers.create(params(), { idempotencyKey: 'k-before' }), 'StripeAPIError');
    const customer = await stripe.customers.create(params(), { idempotencyKey: 'k-before' });
    expect(customer.lastResponse.headers['idempotent-replayed']).toBe(undefined);
    expect((await fakeState()).customers.length).toBe(1);
  });

  it('with store: true the injected error is saved and replayed for the key, as Stripe replays a 500', async () => {
    fake.failNext({ path: '/v1/customers', status: 500, store: true });
    await rejectsWith(stripe.customers.create(params(), { idempotencyKey: 'k-stored' }), 'StripeAPIError');
    const replay = await rejectsWith(stripe.customers.create(params(), { idempotencyKey: 'k-stored' }), 'StripeAPIError', { statusCode: 500 });
    expect(errorHeader(replay, 'idempotent-replayed')).toBe('true');
    expect((await fakeState()).customers.length).toBe(0);
  });

  it("when: 'after' executes but loses the answer: the same key then replays the real object, a fresh key makes an orphan", async () => {
    fake.failNext({ method: 'POST', path: '/v1/customers', status: 500, when: 'after' });
    await rejectsWith(stripe.customers.create(params(), { idempotencyKey: 'k-lost' }), 'StripeAPIError');
    const [made] = (await fakeState()).customers;
    expect(made, 'the customer was created although the client saw an error').toBeTruthy();
    const recovered = await stripe.customers.create(params(), { idempotencyKey: 'k-lost' });
    expect(recovered.id).toBe(made.id);
    expect(recovered.lastResponse.headers['idempotent-replayed']).toBe('true');
    await stripe.customers.create(params(), { idempotencyKey: 'k-lost-retry' });
    expect((await fakeState()).customers.length).toBe(2);
  });

  it('refuses a malformed rule, and reset clears state and pending rules', async () => {
    expect((await control('POST', '/_fake/failures', { path: 'v1/customers', status: 500 })).status).toBe(400);
    expect((await control('POST', '/_fake/failures', { path: '/v1/customers', status: 200 })).status).toBe(400);
    await newCustomer();
    fake.failNext({ path: '/v1/customers', status: 500 });
    expect((await control('GET', '/_fake/failures')).json.data.length).toBe(1);
    expect((await control('POST', '/_fake/reset')).status).toBe(200);
    expect(await fakeState()).toEqual({ customers: [], subscriptions: [], invoices: [], paymentMethods: [], testClocks: [] });
    await newCustomer(); // the rule went with the reset
  });

  function params(): Stripe.CustomerCreateParams {
    return { email: 'billing@acme.test', metadata: { tenantId: 't-acme' } };
  }
});

describe('events', () => {
  it('records customer and subscription events, newest first, filterable by type', async () => {
    const customer = await newCustomer();
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: PRICE }], trial_period_days: 7 }, { idempotencyKey: 'k-ev' });
    await stripe.subscriptions.update(sub.id, { metadata: { a: 'b' } });
    await stripe.subscriptions.cancel(sub.id);
    const all = await stripe.events.list({ types: ['customer.created', 'customer.subscription.created', 'customer.subscription.updated', 'customer.subscription.deleted'] });
    expect(all.data.map((e) => e.type)).toEqual([
      'customer.subscription.deleted',
      'customer.subscription.updated',
      'customer.subscription.created',
      'customer.created',
    ]);
    const created = all.data[2];
    expect(created.id).toMatch(/^evt_/);
    expect((created.data.object as Stripe.Subscription).id).toBe(sub.id);
    expect(created.request?.idempotency_key).toBe('k-ev');
    expect(all.data[1].data.previous_attributes).toEqual({ metadata: { a: null } }); // an added key was null
    expect((await stripe.events.list({ type: 'customer.subscription.*' })).data.map((e) => e.type).length).toEqual(3);
    expect((await stripe.events.retrieve(created.id)).id).toBe(created.id);
    expect((await client(OTHER_KEY).events.list()).data.length).toBe(0);
  });
});

describe('cli', () => {
  it('prints its URL, serves, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tools/fake-stripe/cli.ts', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /fake-stripe listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (match) resolve(match[1]);
        });
        child.once('exit', (code) => reject(new Error(`cli exited early (${code}): ${output}`)));
      });
      const health = await fetch(`${url}/_fake/health`);
      expect(health.status).toBe(200);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

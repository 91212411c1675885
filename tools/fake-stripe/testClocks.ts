// Test clocks through Stripe's own API (STRIPE.md §10): customers created on a clock live at its
// frozen time; advancing walks every scheduled transition in time order (scheduler.ts), and the
// clock goes advancing → ready when done.
import { isTerminal, intervalOf } from './billing';
import type { Handler } from './call';
import { invalidParam, missingParam, noSuch, stateError } from './errors';
import { newId } from './ids';
import { allowOnly, expandList, optString, parseInteger } from './params';
import { AUTOMATIC, emit, type Account, type Ctx, type TestClock } from './state';
import { DAY, addIntervals } from './time';
import { paginate } from './views';

export const DEFAULT_CLOCK_NAME = 'Local clock (every customer the app creates)';

const realCtx = (account: Account): Ctx => ({ account, now: account.env.realNow(), origin: AUTOMATIC });

export function createClock(account: Account, frozenTime: number, name: string | null, ctx: Ctx): TestClock {
  const created = account.env.realNow();
  const clock: TestClock = {
    id: newId('clock', 24),
    object: 'test_helpers.test_clock',
    created,
    deletes_after: created + 30 * DAY,
    frozen_time: frozenTime,
    livemode: false,
    name,
    status: 'ready',
    status_details: {},
  };
  account.add(account.testClocks, clock, { deleted: false });
  emit(ctx, 'test_helpers.test_clock.created', clock);
  return clock;
}

/** The account's local clock (npm start): made on first use, frozen at the real time then. */
export function defaultClock(account: Account): TestClock {
  const existing = account.defaultClockId ? account.testClocks.get(account.defaultClockId) : undefined;
  if (existing && !existing.meta.deleted) return existing.value;
  const clock = createClock(account, account.env.realNow(), DEFAULT_CLOCK_NAME, realCtx(account));
  account.defaultClockId = clock.id;
  return clock;
}

function liveClock(account: Account, id: string, param = 'id', status = 404) {
  const rec = account.testClocks.get(id);
  if (!rec || rec.meta.deleted) throw noSuch('test_helpers.test_clock', id, param, status);
  return rec;
}

/** The clock a new customer joins: the one given, else the default clock when the simulator runs with one. */
export function clockForNewCustomer(account: Account, given: string | undefined): string | null {
  if (given === undefined) return account.env.defaultTestClock ? defaultClock(account).id : null;
  const clock = liveClock(account, given, 'test_clock', 400);
  const customers = [...account.customers.values()].filter((c) => !c.meta.deleted && c.value.test_clock === given).length;
  const limit = given === account.defaultClockId ? Infinity : account.settings.testClockMaxCustomers;
  if (customers >= limit) throw invalidParam('test_clock', `You can only have up to ${limit} customers on a test clock.`);
  return clock.value.id;
}

export const createTestClock: Handler = (call) => {
  allowOnly(call.params, ['frozen_time', 'name', 'expand']);
  expandList(call.params);
  const frozen = parseInteger(call.params.frozen_time, 'frozen_time');
  if (frozen === undefined) throw missingParam('frozen_time');
  const name = optString(call.params, 'name') ?? null;
  return createClock(call.account, frozen, name, { account: call.account, now: call.account.env.realNow(), origin: { id: call.requestId, idempotency_key: call.idempotencyKey } });
};

export const retrieveTestClock: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  return liveClock(call.account, id).value;
};

export const listTestClocks: Handler = (call) => {
  allowOnly(call.params, ['limit', 'starting_after', 'ending_before', 'expand']);
  return paginate([...call.account.testClocks.values()].filter((c) => !c.meta.deleted), () => true, call.params, '/v1/test_helpers/test_clocks', 'test_helpers.test_clock');
};

/** Deleting a clock deletes the objects on it (its customers, their subscriptions and invoices). */
export const deleteTestClock: Handler = (call, id) => {
  allowOnly(call.params, []);
  const { account } = call;
  const rec = liveClock(account, id);
  rec.meta.deleted = true;
  for (const map of [account.subscriptions, account.invoices, account.invoiceItems] as Array<Map<string, { value: { test_clock?: unknown } }>>) {
    for (const [key, value] of map) if (value.value.test_clock === id) map.delete(key);
  }
  for (const [key, customer] of account.customers) {
    if (customer.value.test_clock !== id) continue;
    account.customers.delete(key);
    for (const [pmKey, pm] of account.paymentMethods) if (pm.value.customer === key) account.paymentMethods.delete(pmKey);
  }
  if (account.defaultClockId === id) account.defaultClockId = null;
  emit({ account, now: account.env.realNow(), origin: { id: call.requestId, idempotency_key: call.idempotencyKey } }, 'test_helpers.test_clock.deleted', rec.value);
  return { id, object: 'test_helpers.test_clock', deleted: true };
};

/** Two intervals of the shortest subscription on the clock, or two years without one (Stripe's limit). */
export function advanceLimit(account: Account, clock: TestClock): number {
  let limit = addIntervals(clock.frozen_time, 'year', 1, 2);
  for (const sub of account.subscriptions.values()) {
    if (sub.value.test_clock !== clock.id || isTerminal(sub.value)) continue;
    const { interval, count } = intervalOf(sub.value);
    limit = Math.min(limit, addIntervals(clock.frozen_time, interval, count, 2));
  }
  return limit;
}

/** Answers `advancing` at once; the simulator walks the clock afterwards and sets it `ready` (STRIPE.md §10). */
export const advanceTestClock: Handler = (call, id) => {
  allowOnly(call.params, ['frozen_time', 'expand']);
  const target = parseInteger(call.params.frozen_time, 'frozen_time');
  if (target === undefined) throw missingParam('frozen_time');
  const { account } = call;
  const rec = liveClock(account, id);
  const clock = rec.value;
  if (clock.status === 'advancing') throw stateError('The test clock is already advancing. Wait until its status is ready before advancing it again.', undefined, 'test_clock_advancing');
  if (target <= clock.frozen_time) throw invalidParam('frozen_time', 'The frozen_time must be after the current frozen_time of the test clock.', 'parameter_invalid_integer');
  const limit = advanceLimit(account, clock);
  if (target > limit) {
    throw invalidParam(
      'frozen_time',
      `Cannot advance more than two intervals of the shortest subscription on this test clock (or two years without one): at most ${limit}.`,
      'parameter_invalid_integer',
    );
  }
  clock.status = 'advancing';
  clock.status_details = { advancing: { target_frozen_time: target } };
  emit({ account, now: account.env.realNow(), origin: { id: call.requestId, idempotency_key: call.idempotencyKey } }, 'test_helpers.test_clock.advancing', clock);
  account.env.advanceClock(account, id);
  return structuredClone(clock);
};

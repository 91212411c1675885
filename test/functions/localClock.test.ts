// The local clock control (emulators only): every lifecycle sweep as of a chosen date, and the local
// Stripe test clock moved with it. The callables run on the Functions emulator; the Stripe part is
// checked against an in-process simulator that puts every customer on its default clock, as npm start does.
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { planPriceId } from '../../functions/src/adapters/prices';
import { advanceLocalTestClock, LOCAL_TEST_CLOCK_NAME } from '../../functions/src/adapters/stripe';
import { DEFAULT_CLOCK_NAME } from '../../tools/fake-stripe/testClocks';
import { startFakeStripe, type FakeStripe } from '../../tools/fake-stripe/server';
import { client, rejectsWith } from '../helpers/callables';
import { clearEmulators, db } from '../helpers/emulators';
import { tenantFixture } from '../helpers/rules';

const DAY = 86_400_000;
const day = (date: Date) => date.toISOString().slice(0, 10);

async function seedTrial(tenantId: string, trialEndsAt: Date) {
  await db.doc(`tenants/${tenantId}`).set(tenantFixture(tenantId, { status: 'trial', trialEndsAt, billingEmail: `owner@${tenantId}.test` }));
}
const statusOf = async (tenantId: string) => (await db.doc(`tenants/${tenantId}`).get()).get('status');

describe('advanceLocalClock and readLocalClock', () => {
  beforeEach(clearEmulators);

  it('moves the app’s time for super_admin: trials past their end expire as of the new date, the others stay', async () => {
    const now = new Date();
    await seedTrial('ends-soon', new Date(now.getTime() + 3 * DAY));
    await seedTrial('ends-later', new Date(now.getTime() + 40 * DAY));
    const to = day(new Date(now.getTime() + 10 * DAY));
    const root = await client('root@platform.test', { platform: 'super_admin' });

    const before = await root.call<{ now: string; moved: boolean }>('readLocalClock', {});
    expect(before.moved).toBe(false);
    const move = await root.call<{ now: string; sweeps: Array<{ sweep: string; changed: Array<{ tenantId: string; from: string; to: string }> }>; stripeTestClock: string | null }>(
      'advanceLocalClock',
      { to },
    );
    expect(move.now).toBe(`${to}T00:00:00.000Z`);
    expect(move.sweeps.find((s) => s.sweep === 'expireTrials')?.changed).toEqual([expect.objectContaining({ tenantId: 'ends-soon', from: 'trial', to: 'trial_expired' })]);
    // npm test's simulator has no default clock: there is no Stripe clock to move.
    expect(move.stripeTestClock).toBeNull();

    expect([await statusOf('ends-soon'), await statusOf('ends-later')]).toEqual(['trial_expired', 'trial']);
    const [expiry] = (await db.collection('tenants/ends-soon/history').where('cause', '==', 'trial_ended').get()).docs.map((d) => d.data());
    expect([expiry.actor, expiry.at.toDate().toISOString()]).toEqual(['system:expireTrials', move.now]);
    expect(await root.call('readLocalClock', {})).toEqual({ now: move.now, moved: true });

    // Time only moves forward, as on a Stripe test clock; the refusal names the field.
    const back = await root.call('advanceLocalClock', { to: day(now) }).then(
      () => null,
      (error: { code: string; details?: { fieldErrors?: Record<string, string> } }) => error,
    );
    expect(back?.code).toBe('functions/invalid-argument');
    expect(back?.details?.fieldErrors?.to).toMatch(/only moves forward/);
  });

  it('refuses sales, other people and a bad date, and moves nothing', async () => {
    await seedTrial('ends-soon', new Date(Date.now() + 3 * DAY));
    const to = day(new Date(Date.now() + 10 * DAY));
    await rejectsWith((await client('sally@platform.test', { platform: 'sales' })).call('advanceLocalClock', { to }), 'permission-denied', /super_admin/);
    await rejectsWith((await client('someone@customer.test')).call('advanceLocalClock', { to }), 'permission-denied');
    await rejectsWith((await client('')).call('advanceLocalClock', { to }), 'unauthenticated');
    const root = await client('root@platform.test', { platform: 'super_admin' });
    await rejectsWith(root.call('advanceLocalClock', { to: 'next tuesday' }), 'invalid-argument', /^to: a date/);
    expect(await statusOf('ends-soon')).toBe('trial');
    expect((await root.call<{ moved: boolean }>('readLocalClock', {})).moved).toBe(false);
    expect((await db.collection('localClock').get()).size).toBe(0);
  });
});

describe('advanceLocalTestClock (the Stripe half)', () => {
  let fake: FakeStripe;
  let stripe: Stripe;
  const key = 'sk_test_local_clock';
  beforeAll(async () => {
    fake = await startFakeStripe({ port: 0, defaultTestClock: true });
    stripe = new Stripe(key, { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false });
  });
  afterAll(async () => fake?.close());

  it('names the clock as the simulator does', () => {
    expect(LOCAL_TEST_CLOCK_NAME).toBe(DEFAULT_CLOCK_NAME);
  });

  it('moves the clock every local customer is on, so a trial ending before the new date has ended in Stripe too', async () => {
    const customer = await stripe.customers.create({ email: 'owner@initech.test' });
    const clockId = String(customer.test_clock);
    const start = (await stripe.testHelpers.testClocks.retrieve(clockId)).frozen_time;
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: await planPriceId(stripe, 'starter') }], trial_end: start + 14 * 86_400 });
    expect(subscription.status).toBe('trialing');

    const to = new Date((start + 20 * 86_400) * 1000);
    expect(await advanceLocalTestClock(stripe, to)).toEqual({ testClockId: clockId });
    const clock = await stripe.testHelpers.testClocks.retrieve(clockId);
    expect([clock.status, clock.frozen_time]).toEqual(['ready', start + 20 * 86_400]);
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).not.toBe('trialing');

    // A date the clock has passed leaves it where it is.
    expect(await advanceLocalTestClock(stripe, new Date(start * 1000))).toEqual({ testClockId: clockId });
    expect((await stripe.testHelpers.testClocks.retrieve(clockId)).frozen_time).toBe(start + 20 * 86_400);
  });

  it('finds no clock where the simulator keeps none', async () => {
    const plain = await startFakeStripe({ port: 0 });
    try {
      const other = new Stripe(key, { host: '127.0.0.1', port: plain.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false });
      await other.customers.create({ email: 'x@y.test' });
      expect(await advanceLocalTestClock(other, new Date(Date.now() + 30 * DAY))).toBeNull();
    } finally {
      await plain.close();
    }
  });
});

// One "now" for the product under the emulators: the app reads its time from the local Stripe test clock
// (every customer it creates is on it, as under npm start), so however the clock moves (Stripe's own API,
// the console's Local clock, `npm run stripe:clock`), a signup and a sales provisioning open with trial
// ends from the clock's time, invites expire by it, and the sweeps compare with times written from it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProvisioningResult } from '../../functions/src/domain/provisioning';
import { advanceClock } from '../../tools/fake-stripe/control';
import { client } from '../helpers/callables';
import { db, eventually } from '../helpers/emulators';
import { inviteLinkOf, seedTeam } from '../helpers/team';
import { DAY, inStripe, openTenant, sim, STRIPE_KEY, stripe, useStripeWorld } from './stripeWorld';

const run = promisify(execFile);
const iso = (unix: number) => new Date(unix * 1000).toISOString();
const dateOf = (unix: number) => iso(unix).slice(0, 10);
const millis = (value: FirebaseFirestore.Timestamp | null | undefined) => value?.toMillis() ?? null;

/** The simulator's local clock (made on first use, at the real time, as npm start's launcher makes it). */
async function localClock(): Promise<{ id: string; frozen_time: number }> {
  return sim.defaultTestClock(STRIPE_KEY);
}

/** The job's end; a first saga on a loaded machine starts its task worker cold, so this waits longer than settledJob. */
async function settledJob(jobId: string): Promise<FirebaseFirestore.DocumentData> {
  return eventually(async () => {
    const job = (await db.doc(`provisioningJobs/${jobId}`).get()).data();
    return job && ['completed', 'rolled_back', 'failed'].includes(job.status) ? job : null;
  }, `job ${jobId} to settle`, 150_000);
}

async function superAdmin() {
  return client('root@platform.test', { platform: 'super_admin' });
}

/** Every way of moving time: Stripe's API by another client, the console, and the two scripts as a person runs them. */
const MOVES: Array<[string, (to: number) => Promise<void>]> = [
  [
    "Stripe's test-clock API (testHelpers.testClocks.advance)",
    async (to) => {
      await advanceClock(stripe, (await localClock()).id, to);
    },
  ],
  [
    "the console's Local clock (advanceLocalClock)",
    async (to) => {
      await (await superAdmin()).call('advanceLocalClock', { to: iso(to) });
    },
  ],
  [
    'npm run lifecycle -- --at',
    async (to) => {
      // The script against this run's emulators and simulator (the launcher's environment).
      await run(process.execPath, ['--import', 'tsx', 'scripts/lifecycle.ts', '--at', iso(to)], { env: { ...process.env, STRIPE_SECRET_KEY: STRIPE_KEY } });
    },
  ],
  [
    'npm run stripe:clock',
    async (to) => {
      const { frozen_time } = await localClock();
      // The script as a person runs it, against this run's simulator and the functions' account.
      await run(process.execPath, ['--import', 'tsx', 'scripts/stripe-clock.ts', '--by', `${(to - frozen_time) / DAY}d`], {
        env: { ...process.env, STRIPE_API_BASE: process.env.STRIPE_API_BASE, STRIPE_SECRET_KEY: STRIPE_KEY },
      });
    },
  ],
];

async function subscriptionOf(tenantId: string): Promise<Stripe.Subscription> {
  const tenant = (await db.doc(`tenants/${tenantId}`).get()).data()!;
  return stripe.subscriptions.retrieve(tenant.stripeSubscriptionId);
}

describe('one clock: the app reads its time from the local Stripe test clock', () => {
  useStripeWorld();
  // As under npm start: every customer the functions create joins the account's local clock.
  beforeAll(() => sim.configure({ defaultTestClock: true }));
  afterAll(() => sim.configure({ defaultTestClock: false }));

  for (const [way, move] of MOVES) {
    it(`after ${way} moved it 15 days, a self-serve signup and a sales provisioning open ready, their trials ending 14 days (and at the go-live) after the clock's time`, async () => {
      const { id, frozen_time: start } = await localClock();
      await move(start + 15 * DAY);
      const clock = await stripe.testHelpers.testClocks.retrieve(id);
      expect([clock.status, clock.frozen_time]).toEqual(['ready', start + 15 * DAY]);
      const now = clock.frozen_time;
      // The app's time is Stripe's.
      expect(await (await superAdmin()).call('readLocalClock', {})).toMatchObject({ now: iso(now), source: 'stripe_test_clock', moved: true });

      const person = await client('peter@initech.test', {}, { emailVerified: true });
      const signup = await person.call<ProvisioningResult>('submitSignup', { companyName: 'Initech', ownerName: 'Peter Gibbons', plan: 'team' });
      expect((await settledJob(signup.jobId)).status).toBe('completed');
      const selfServe = (await db.doc(`tenants/${signup.tenantId}`).get()).data()!;
      expect([selfServe.status, millis(selfServe.trialEndsAt)]).toEqual(['trial', (now + 14 * DAY) * 1000]);
      const selfServeSub = await subscriptionOf(signup.tenantId);
      expect([selfServeSub.status, selfServeSub.trial_end, selfServeSub.test_clock]).toEqual(['trialing', now + 14 * DAY, id]);

      const staff = await client('sales@vendor.test', { platform: 'sales' });
      const goLive = dateOf(now + 30 * DAY);
      const deal = (goLiveAt: string, email: string, subdomain: string) => ({
        idempotencyKey: crypto.randomUUID(),
        companyName: `Globex ${subdomain}`,
        plan: 'enterprise',
        goLiveAt,
        admin: { email, displayName: 'Hank Scorpio' },
        subdomain,
      });
      const sales = await staff.call<ProvisioningResult>('provisionTenant', deal(goLive, 'hank@globex.test', 'globex'));
      expect((await settledJob(sales.jobId)).status).toBe('completed');
      const salesTenant = (await db.doc(`tenants/${sales.tenantId}`).get()).data()!;
      expect([salesTenant.status, millis(salesTenant.trialEndsAt)]).toEqual(['trial', Date.parse(`${goLive}T00:00:00Z`)]);
      expect((await subscriptionOf(sales.tenantId)).trial_end).toBe(Date.parse(`${goLive}T00:00:00Z`) / 1000);

      // A go-live the clock has passed, though still ahead of the real time, has come: live at once, no trial for Stripe to refuse.
      const passed = dateOf(now - 2 * DAY);
      const live = await staff.call<ProvisioningResult>('provisionTenant', deal(passed, 'lisa@live.test', 'live'));
      expect((await settledJob(live.jobId)).status).toBe('completed');
      const liveTenant = (await db.doc(`tenants/${live.tenantId}`).get()).data()!;
      expect([liveTenant.status, liveTenant.trialEndsAt]).toEqual(['active', null]);
      expect((await subscriptionOf(live.tenantId)).status).toBe('active');
    });
  }

  it('an invite is refused once the clock passes its expiry (Stripe moved it, no sweep ran)', async () => {
    const { tenantId, people } = await seedTeam('acme', { 'owner@acme.test': 'owner' });
    const owner = await client(people.owner.email!);
    const { id, frozen_time: start } = await localClock();
    const { inviteId } = await owner.call<{ inviteId: string }>('inviteMember', { tenantId, email: 'late@acme.test', role: 'member' });
    const invite = (await db.doc(`tenants/${tenantId}/invites/${inviteId}`).get()).data()!;
    // Written from the app's now: the clock's time, not the real time.
    expect(millis(invite.expiresAt)! - start * 1000).toBe(7 * DAY * 1000);
    const { token } = await inviteLinkOf(inviteId);

    await advanceClock(stripe, id, start + 8 * DAY);
    const late = await client('late@acme.test');
    await expect(late.call('acceptInvite', { tenantId, inviteId, token })).rejects.toMatchObject({ code: 'functions/failed-precondition', details: { reason: 'expired' } });
    expect((await db.collection(`tenants/${tenantId}/members`).where('email', '==', 'late@acme.test').get()).size).toBe(0);
    expect((await db.doc(`tenants/${tenantId}/invites/${inviteId}`).get()).get('status')).toBe('pending');
  });

  it('the Local clock runs every sweep npm run lifecycle runs: pending invites past their expiry expire and free their seats', async () => {
    const { tenantId, people } = await seedTeam('acme', { 'owner@acme.test': 'owner' });
    const owner = await client(people.owner.email!);
    const { frozen_time: start } = await localClock();
    const { inviteId } = await owner.call<{ inviteId: string }>('inviteMember', { tenantId, email: 'second@acme.test', role: 'viewer' });
    expect((await db.doc(`tenants/${tenantId}`).get()).get('seats.pendingInvites')).toBe(1);
    const move = await (await superAdmin()).call<{ sweeps: Array<{ sweep: string; changed: Array<{ tenantId: string; to: string }> }> }>('advanceLocalClock', {
      to: iso(start + 8 * DAY),
    });
    expect(move.sweeps.map((s) => s.sweep)).toEqual(['remindEndingTrials', 'expireTrials', 'suspendPastDue', 'expireInvites', 'recheckDomains']);
    expect(move.sweeps.find((s) => s.sweep === 'expireInvites')!.changed.map((c) => [c.tenantId, c.to])).toEqual([[tenantId, 'expired']]);
    expect((await db.doc(`tenants/${tenantId}/invites/${inviteId}`).get()).get('status')).toBe('expired');
    expect((await db.doc(`tenants/${tenantId}`).get()).get('seats.pendingInvites')).toBe(0);
  });

  it('a past_due tenant whose pastDueSince was written at the app’s now is not suspended by a move shorter than the grace, and is once the grace has passed', async () => {
    const { id, frozen_time: start } = await localClock();
    const staff = await client('sales@vendor.test', { platform: 'sales' });
    // Live at once, billed by invoice due in 10 days.
    const deal = { idempotencyKey: crypto.randomUUID(), companyName: 'Umbrella', plan: 'enterprise', goLiveAt: dateOf(start - DAY), daysUntilDue: 10, admin: { email: 'al@umbrella.test', displayName: 'Al' }, subdomain: 'umbrella' };
    const { tenantId, jobId } = await staff.call<ProvisioningResult>('provisionTenant', deal);
    expect((await settledJob(jobId)).status).toBe('completed');
    expect((await db.doc(`tenants/${tenantId}`).get()).get('status')).toBe('active');

    // Unpaid at its due date: Stripe makes the subscription past_due and the webhook the tenant, at the clock's time.
    await advanceClock(stripe, id, start + 11 * DAY);
    // Stripe's events arrive concurrently and unordered (S4), and a delivery refused by a busy emulator
    // is retried: wait until every delivery is done, then for the webhook to have applied them.
    await sim.flushWebhooks(120_000);
    const pastDue = await eventually(async () => {
      const data = (await db.doc(`tenants/${tenantId}`).get()).data()!;
      return data.status === 'past_due' ? data : null;
    }, 'the tenant to be past_due', 60_000);
    expect(pastDue.status).toBe('past_due');
    const since = millis(pastDue.pastDueSince)!;
    expect(since).toBeGreaterThanOrEqual(start * 1000);
    expect(since).toBeLessThanOrEqual((start + 11 * DAY) * 1000);

    // Ten days on the Local clock, inside the 14-day grace: still past_due.
    const root = await superAdmin();
    await root.call('advanceLocalClock', { to: iso(start + 21 * DAY) });
    expect((await db.doc(`tenants/${tenantId}`).get()).get('status')).toBe('past_due');
    // Past the grace: suspended, by the sweep.
    await root.call('advanceLocalClock', { to: new Date(since + 14 * DAY * 1000 + 3_600_000).toISOString() });
    expect((await db.doc(`tenants/${tenantId}`).get()).get('status')).toBe('suspended');
    const causes = (await db.collection(`tenants/${tenantId}/history`).orderBy('at').get()).docs.map((d) => d.get('cause'));
    expect(causes.slice(-1)).toEqual(['grace_period_ended']);
  });
});

describe('a subscription paused in Stripe', () => {
  useStripeWorld();

  it('paused through the API (pause_requested): suspended with its own cause, not retries_exhausted', async () => {
    const t = await openTenant('as made', { card: 'pm_card_visa', trialDays: null });
    expect((await db.doc(`tenants/${t.tenantId}`).get()).get('status')).toBe('active');
    await inStripe(t, () => stripe.subscriptions.pause(t.subscriptionId));
    expect((await stripe.subscriptions.retrieve(t.subscriptionId)).status).toBe('paused');
    expect((await db.doc(`tenants/${t.tenantId}`).get()).get('status')).toBe('suspended');
    const history = (await db.collection(`tenants/${t.tenantId}/history`).get()).docs.map((d) => d.data());
    expect(history.map((h) => [h.from, h.to, h.cause])).toEqual([['active', 'suspended', 'subscription_paused']]);
  });
});

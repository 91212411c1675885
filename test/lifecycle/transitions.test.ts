// The lifecycle table: every (status, event) pair, generated from the table and checked against the
// transition function (pure), then the one write path, applyTransition, on the Firestore emulator.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { DomainError } from '../../functions/src/domain/errors';
import { isAllowed, LIFECYCLE, LIFECYCLE_EVENTS, transition, type LifecycleEvent } from '../../functions/src/domain/lifecycle';
import { TENANT_STATUSES, type TenantStatus } from '../../functions/src/domain/status';
import { applyTransition } from '../../functions/src/lifecycle/transition';
import { allDocumentPaths, clearEmulators, db } from '../helpers/emulators';
import { daysFrom, history, mailIds, NOW, seedTenant, tenant } from './fixtures';

const refusedWith = (status: TenantStatus, event: LifecycleEvent) => (error: unknown) => {
  assert.ok(error instanceof DomainError, String(error));
  assert.equal(error.code, 'failed-precondition');
  assert.match(error.message, new RegExp(`'${status}'.*'${event}'`));
  return true;
};

describe('transition(status, event): every pair of the table', () => {
  for (const status of TENANT_STATUSES) {
    for (const event of LIFECYCLE_EVENTS) {
      const rule = LIFECYCLE[event];
      if (rule.from.includes(status)) {
        it(`${status} + ${event} → ${rule.to}`, () => {
          const result = transition(status, event);
          assert.equal(result.to, rule.to);
          assert.ok(isAllowed(status, event));
          assert.ok(Array.isArray(result.effects));
        });
      } else {
        it(`${status} + ${event} is refused, naming both`, () => {
          assert.equal(isAllowed(status, event), false);
          assert.throws(() => transition(status, event), refusedWith(status, event));
        });
      }
    }
  }
});

describe('the table keeps the lifecycle of CONTRACT.md', () => {
  const allowed = (status: TenantStatus) => LIFECYCLE_EVENTS.filter((e) => isAllowed(status, e));

  it('failed is final: no event leaves it', () => assert.deepEqual(allowed('failed'), []));
  it('only a rolled-back provisioning enters failed, from any other status', () => {
    for (const event of LIFECYCLE_EVENTS) assert.equal(LIFECYCLE[event].to === 'failed', event === 'provisioning_rolled_back', event);
    assert.deepEqual(TENANT_STATUSES.filter((s) => isAllowed(s, 'provisioning_rolled_back')), TENANT_STATUSES.filter((s) => s !== 'failed'));
  });
  it('nothing returns a tenant to provisioning, and provisioning only leaves by the saga', () => {
    for (const event of LIFECYCLE_EVENTS) assert.notEqual(LIFECYCLE[event].to, 'provisioning');
    assert.deepEqual(allowed('provisioning'), ['provisioning_rolled_back']);
  });
  it('a trial ends into trial_expired with the conversion mail; only trials end', () => {
    assert.deepEqual(transition('trial', 'trial_ended'), { to: 'trial_expired', effects: [{ type: 'queueMail', mail: 'trial_expired' }] });
    assert.deepEqual(TENANT_STATUSES.filter((s) => isAllowed(s, 'trial_ended')), ['trial']);
  });
  it('a first failed payment makes active past_due with no failed retry yet (writes still allowed)', () => {
    assert.deepEqual(transition('active', 'payment_failed').effects, [{ type: 'setFailedPaymentRetries', value: 0 }, { type: 'startPastDue' }]);
    assert.throws(() => transition('past_due', 'payment_failed'), refusedWith('past_due', 'payment_failed'));
  });
  it('a failed retry counts in past_due, and from active it also starts the grace window', () => {
    assert.deepEqual(transition('past_due', 'payment_retry_failed'), { to: 'past_due', effects: [{ type: 'countFailedRetry' }] });
    assert.deepEqual(transition('active', 'payment_retry_failed').effects, [{ type: 'countFailedRetry' }, { type: 'startPastDue' }]);
  });
  it('a payment makes a tenant active with the failed retries reset; a cancelled one needs reactivation', () => {
    for (const status of ['trial', 'trial_expired', 'past_due', 'suspended'] as const) {
      assert.deepEqual(transition(status, 'payment_succeeded'), { to: 'active', effects: [{ type: 'setFailedPaymentRetries', value: 0 }, { type: 'clearPastDue' }] });
    }
    assert.throws(() => transition('cancelled', 'payment_succeeded'), refusedWith('cancelled', 'payment_succeeded'));
    assert.equal(transition('cancelled', 'reactivated').to, 'active');
  });
  it('a trial is extended only from trial or trial_expired, and sets the new end', () => {
    assert.deepEqual(TENANT_STATUSES.filter((s) => isAllowed(s, 'extend_trial')), ['trial', 'trial_expired']);
    assert.deepEqual(transition('trial_expired', 'extend_trial'), { to: 'trial', effects: [{ type: 'setTrialEndsAt' }] });
  });
  it('the grace window and exhausted retries suspend; cancellation reaches every live status', () => {
    assert.equal(transition('past_due', 'grace_period_ended').to, 'suspended');
    assert.equal(transition('past_due', 'retries_exhausted').to, 'suspended');
    for (const status of ['trial', 'trial_expired', 'active', 'past_due', 'suspended'] as const) {
      assert.equal(transition(status, 'subscription_canceled').to, 'cancelled');
      assert.equal(transition(status, 'cancel').to, 'cancelled');
    }
  });
});

describe('applyTransition on the emulator', () => {
  beforeEach(clearEmulators);

  it('an allowed change writes the tenant and exactly one history entry with from, to, cause, actor and time', async () => {
    await seedTenant('t1', { status: 'active' });
    const result = await applyTransition(db, 't1', 'payment_failed', { actor: 'stripe:evt_1', now: NOW, stripeEventId: 'evt_1', eventCreated: 1700 });
    assert.deepEqual([result.from, result.to], ['active', 'past_due']);
    const t = await tenant('t1');
    assert.deepEqual([t.status, t.failedPaymentRetries, t.pastDueSince.toMillis(), t.lastStripeEventCreated], ['past_due', 0, NOW.getTime(), 1700]);
    const entries = await history('t1');
    assert.equal(entries.length, 1);
    const { at, ...entry } = entries[0];
    assert.deepEqual(entry, { from: 'active', to: 'past_due', cause: 'payment_failed', actor: 'stripe:evt_1', stripeEventId: 'evt_1' });
    assert.equal(at.toMillis(), NOW.getTime());
  });

  it('a refused change throws failed-precondition and writes nothing, no history entry', async () => {
    await seedTenant('t1', { status: 'cancelled' });
    const before = await tenant('t1');
    await assert.rejects(applyTransition(db, 't1', 'payment_failed', { actor: 'stripe:evt_1', now: NOW }), refusedWith('cancelled', 'payment_failed'));
    assert.deepEqual(await tenant('t1'), before);
    assert.deepEqual(await allDocumentPaths(), ['tenants/t1']);
  });

  it('refuses a tenant that is no longer in the expected status, and one whose guard fails, writing nothing', async () => {
    await seedTenant('t1', { status: 'active' });
    await assert.rejects(applyTransition(db, 't1', 'suspend', { actor: 'u1', now: NOW, expectedStatus: 'past_due' }), /now 'active', no longer 'past_due'/);
    await assert.rejects(applyTransition(db, 't1', 'suspend', { actor: 'u1', now: NOW, guard: () => 'not due yet' }), /not due yet/);
    assert.equal((await tenant('t1')).status, 'active');
    assert.deepEqual(await allDocumentPaths(), ['tenants/t1']);
    await applyTransition(db, 't1', 'suspend', { actor: 'u1', now: NOW, expectedStatus: 'active', guard: () => null });
    assert.equal((await tenant('t1')).status, 'suspended');
  });

  it('runs extra writes only when the change is allowed, in the same transaction', async () => {
    await seedTenant('t1', { status: 'failed' });
    let called = 0;
    const alsoInTransaction = (tx: FirebaseFirestore.Transaction) => void (called++, tx.set(db.doc('side/effect'), { done: true }));
    await assert.rejects(applyTransition(db, 't1', 'provisioning_rolled_back', { actor: 'p', now: NOW, alsoInTransaction }));
    assert.equal(called, 0);
    await seedTenant('t2', { status: 'trial' });
    await applyTransition(db, 't2', 'provisioning_rolled_back', { actor: 'p', now: NOW, alsoInTransaction });
    assert.deepEqual((await db.doc('side/effect').get()).data(), { done: true });
    assert.deepEqual([(await tenant('t2')).status, (await tenant('t2')).provisioningState], ['failed', 'rolled_back']);
  });

  it('counts failed retries one by one in past_due, or as Stripe counts them, and from active counts at least one', async () => {
    await seedTenant('t1', { status: 'past_due', failedPaymentRetries: 1, pastDueSince: NOW });
    await applyTransition(db, 't1', 'payment_retry_failed', { actor: 'stripe:evt_2', now: daysFrom(NOW, 3) });
    const t = await tenant('t1');
    assert.deepEqual([t.status, t.failedPaymentRetries, t.pastDueSince.toMillis()], ['past_due', 2, NOW.getTime()], 'the grace window keeps its start');
    await applyTransition(db, 't1', 'payment_retry_failed', { actor: 'stripe:evt_3', now: NOW, failedPaymentRetries: 3 });
    assert.equal((await tenant('t1')).failedPaymentRetries, 3);
    await seedTenant('t2', { status: 'active' });
    await applyTransition(db, 't2', 'payment_retry_failed', { actor: 'stripe:evt_4', now: NOW });
    assert.deepEqual([(await tenant('t2')).status, (await tenant('t2')).failedPaymentRetries], ['past_due', 1]);
  });

  it('queues the conversion mail in the same transaction as trial_ended, and needs a date to extend a trial', async () => {
    const trialEndsAt = daysFrom(NOW, -1);
    await seedTenant('t1', { status: 'trial', trialEndsAt });
    const result = await applyTransition(db, 't1', 'trial_ended', { actor: 'system:test', now: NOW });
    assert.deepEqual(result.mailIds, [`trial-expired-t1-${trialEndsAt.getTime()}`]);
    assert.deepEqual(await mailIds(), result.mailIds);
    const mail = (await db.doc(`mail/${result.mailIds[0]}`).get()).data()!;
    assert.equal(mail.to, 'billing@t1.test');
    assert.match(mail.message.subject, /trial has ended/);
    await assert.rejects(applyTransition(db, 't1', 'extend_trial', { actor: 'u1', now: NOW }), (e: DomainError) => e.code === 'invalid-argument');
    assert.equal((await tenant('t1')).status, 'trial_expired');
    await applyTransition(db, 't1', 'extend_trial', { actor: 'u1', now: NOW, trialEndsAt: daysFrom(NOW, 7) });
    assert.deepEqual([(await tenant('t1')).status, (await tenant('t1')).trialEndsAt.toMillis()], ['trial', daysFrom(NOW, 7).getTime()]);
    assert.equal((await history('t1')).length, 2);
  });

  it('two concurrent changes from the same status: one applies, the other is refused; one history entry', async () => {
    await seedTenant('t1', { status: 'active' });
    const outcomes = await Promise.allSettled([
      applyTransition(db, 't1', 'suspend', { actor: 'u1', now: NOW, expectedStatus: 'active' }),
      applyTransition(db, 't1', 'cancel', { actor: 'u2', now: NOW, expectedStatus: 'active' }),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected']);
    assert.equal((await history('t1')).length, 1);
  });
});

// The lifecycle table: every (status, event) pair, generated from the table and checked against the
// transition function (pure), then the one write path, applyTransition, on the Firestore emulator.
import { beforeEach, describe, expect, it } from 'vitest';
import { DomainError } from '../../functions/src/domain/errors';
import { isAllowed, LIFECYCLE, LIFECYCLE_EVENTS, transition, type LifecycleEvent } from '../../functions/src/domain/lifecycle';
import { TENANT_STATUSES, type TenantStatus } from '../../functions/src/domain/status';
import { applyTransition } from '../../functions/src/lifecycle/transition';
import { allDocumentPaths, clearEmulators, db } from '../helpers/emulators';
import { daysFrom, history, mailIds, NOW, seedTenant, tenant } from './fixtures';

/** The refusal of a pair the table does not allow: failed-precondition, naming status and event. */
const refusedWith = (status: TenantStatus, event: LifecycleEvent) =>
  expect.objectContaining({ name: DomainError.name, code: 'failed-precondition', message: expect.stringMatching(new RegExp(`'${status}'.*'${event}'`)) });

describe('transition(status, event): every pair of the table', () => {
  for (const status of TENANT_STATUSES) {
    for (const event of LIFECYCLE_EVENTS) {
      const rule = LIFECYCLE[event];
      if (rule.from.includes(status)) {
        it(`${status} + ${event} → ${rule.to}`, () => {
          const result = transition(status, event);
          expect(result.to).toBe(rule.to);
          expect(isAllowed(status, event)).toBeTruthy();
          expect(Array.isArray(result.effects)).toBeTruthy();
        });
      } else {
        it(`${status} + ${event} is refused, naming both`, () => {
          expect(isAllowed(status, event)).toBe(false);
          expect(() => transition(status, event)).toThrow(refusedWith(status, event));
        });
      }
    }
  }
});

describe('the table keeps the lifecycle of CONTRACT.md', () => {
  const allowed = (status: TenantStatus) => LIFECYCLE_EVENTS.filter((e) => isAllowed(status, e));

  it('failed is final: no event leaves it', () => expect(allowed('failed')).toEqual([]));
  it('only a rolled-back provisioning enters failed, and only from provisioning: an open tenant is never undone', () => {
    for (const event of LIFECYCLE_EVENTS) expect(LIFECYCLE[event].to === 'failed', event).toBe(event === 'provisioning_rolled_back');
    expect(TENANT_STATUSES.filter((s) => isAllowed(s, 'provisioning_rolled_back'))).toEqual(['provisioning']);
  });
  it('nothing returns a tenant to provisioning, and provisioning only leaves by the saga', () => {
    for (const event of LIFECYCLE_EVENTS) expect(LIFECYCLE[event].to).not.toBe('provisioning');
    expect(allowed('provisioning')).toEqual(['opened_trial', 'opened_active', 'provisioning_rolled_back']);
  });
  it('a trial ends into trial_expired with the conversion mail; only trials end', () => {
    expect(transition('trial', 'trial_ended')).toEqual({ to: 'trial_expired', effects: [{ type: 'queueMail', mail: 'trial_expired' }] });
    expect(TENANT_STATUSES.filter((s) => isAllowed(s, 'trial_ended'))).toEqual(['trial']);
  });
  it('a first failed payment makes active past_due with no failed retry yet (writes still allowed)', () => {
    expect(transition('active', 'payment_failed').effects).toEqual([{ type: 'setFailedPaymentRetries', value: 0 }, { type: 'startPastDue' }]);
    expect(() => transition('past_due', 'payment_failed')).toThrow(refusedWith('past_due', 'payment_failed'));
  });
  it('an expired trial has no failed-payment way out: it stays write-blocked until it is paid', () => {
    for (const event of ['payment_failed', 'payment_retry_failed'] as const) expect(() => transition('trial_expired', event)).toThrow(refusedWith('trial_expired', event));
    expect(transition('trial_expired', 'payment_succeeded').to).toBe('active');
  });
  it('a staff suspension places a hold that only activate lifts; under it every billing event is refused', () => {
    expect(transition('active', 'suspend').effects).toEqual([{ type: 'placeStaffHold' }]);
    expect(transition('suspended', 'activate', true).effects).toContainEqual({ type: 'liftStaffHold' });
    const underHold = LIFECYCLE_EVENTS.filter((e) => isAllowed('suspended', e, true));
    // A rollback is not among them: it applies to a tenant still provisioning only (issue 9).
    expect(underHold).toEqual(['subscription_canceled', 'activate', 'cancel']);
    for (const event of ['payment_succeeded', 'reactivated', 'grace_period_ended'] as const) {
      expect(() => transition('suspended', event, true)).toThrow(/held by a staff suspension/);
    }
  });
  it('a failed retry counts in past_due, and from active it also starts the grace window', () => {
    expect(transition('past_due', 'payment_retry_failed')).toEqual({ to: 'past_due', effects: [{ type: 'countFailedRetry' }] });
    expect(transition('active', 'payment_retry_failed').effects).toEqual([{ type: 'countFailedRetry' }, { type: 'startPastDue' }]);
  });
  it('a payment makes a tenant active with the failed retries reset; a cancelled one needs reactivation', () => {
    for (const status of ['trial', 'trial_expired', 'past_due', 'suspended'] as const) {
      expect(transition(status, 'payment_succeeded')).toEqual({ to: 'active', effects: [{ type: 'setFailedPaymentRetries', value: 0 }, { type: 'clearPastDue' }] });
    }
    expect(() => transition('cancelled', 'payment_succeeded')).toThrow(refusedWith('cancelled', 'payment_succeeded'));
    expect(transition('cancelled', 'reactivated').to).toBe('active');
  });
  it('a trial is extended only from trial or trial_expired, and sets the new end', () => {
    expect(TENANT_STATUSES.filter((s) => isAllowed(s, 'extend_trial'))).toEqual(['trial', 'trial_expired']);
    expect(transition('trial_expired', 'extend_trial')).toEqual({ to: 'trial', effects: [{ type: 'setTrialEndsAt' }] });
  });
  it('the grace window and exhausted retries suspend; cancellation reaches every live status', () => {
    expect(transition('past_due', 'grace_period_ended').to).toBe('suspended');
    expect(transition('past_due', 'retries_exhausted').to).toBe('suspended');
    for (const status of ['trial', 'trial_expired', 'active', 'past_due', 'suspended'] as const) {
      expect(transition(status, 'subscription_canceled').to).toBe('cancelled');
      expect(transition(status, 'cancel').to).toBe('cancelled');
    }
  });
});

describe('applyTransition on the emulator', () => {
  beforeEach(clearEmulators);

  it('an allowed change writes the tenant and exactly one history entry with from, to, cause, actor and time', async () => {
    await seedTenant('t1', { status: 'active' });
    const result = await applyTransition(db, 't1', 'payment_failed', { actor: 'stripe:evt_1', now: NOW, stripeEventId: 'evt_1' });
    expect([result.from, result.to]).toEqual(['active', 'past_due']);
    const t = await tenant('t1');
    expect([t.status, t.failedPaymentRetries, t.pastDueSince.toMillis()]).toEqual(['past_due', 0, NOW.getTime()]);
    const entries = await history('t1');
    expect(entries.length).toBe(1);
    const { at, ...entry } = entries[0];
    expect(entry).toEqual({ from: 'active', to: 'past_due', cause: 'payment_failed', actor: 'stripe:evt_1', stripeEventId: 'evt_1' });
    expect(at.toMillis()).toBe(NOW.getTime());
  });

  it('a refused change throws failed-precondition and writes nothing, no history entry', async () => {
    await seedTenant('t1', { status: 'cancelled' });
    const before = await tenant('t1');
    await expect(applyTransition(db, 't1', 'payment_failed', { actor: 'stripe:evt_1', now: NOW })).rejects.toEqual(refusedWith('cancelled', 'payment_failed'));
    expect(await tenant('t1')).toEqual(before);
    expect(await allDocumentPaths()).toEqual(['tenants/t1']);
  });

  it('refuses a tenant that is no longer in the expected status, and one whose guard fails, writing nothing', async () => {
    await seedTenant('t1', { status: 'active' });
    await expect(applyTransition(db, 't1', 'suspend', { actor: 'u1', now: NOW, expectedStatus: 'past_due' })).rejects.toThrow(/now 'active', no longer 'past_due'/);
    await expect(applyTransition(db, 't1', 'suspend', { actor: 'u1', now: NOW, guard: () => 'not due yet' })).rejects.toThrow(/not due yet/);
    expect((await tenant('t1')).status).toBe('active');
    expect(await allDocumentPaths()).toEqual(['tenants/t1']);
    await applyTransition(db, 't1', 'suspend', { actor: 'u1', now: NOW, expectedStatus: 'active', guard: () => null });
    expect((await tenant('t1')).status).toBe('suspended');
  });

  it('runs extra writes only when the change is allowed, in the same transaction', async () => {
    await seedTenant('t1', { status: 'failed' });
    let called = 0;
    const alsoInTransaction = (tx: FirebaseFirestore.Transaction) => void (called++, tx.set(db.doc('side/effect'), { done: true }));
    await expect(applyTransition(db, 't1', 'provisioning_rolled_back', { actor: 'p', now: NOW, alsoInTransaction })).rejects.toThrow();
    expect(called).toBe(0);
    await seedTenant('t2', { status: 'provisioning' });
    await applyTransition(db, 't2', 'provisioning_rolled_back', { actor: 'p', now: NOW, alsoInTransaction });
    expect((await db.doc('side/effect').get()).data()).toEqual({ done: true });
    expect((await tenant('t2')).status).toBe('failed');
  });

  it('counts failed retries one by one in past_due, or as Stripe counts them, and from active counts at least one', async () => {
    await seedTenant('t1', { status: 'past_due', failedPaymentRetries: 1, pastDueSince: NOW });
    await applyTransition(db, 't1', 'payment_retry_failed', { actor: 'stripe:evt_2', now: daysFrom(NOW, 3) });
    const t = await tenant('t1');
    expect([t.status, t.failedPaymentRetries, t.pastDueSince.toMillis()], 'the grace window keeps its start').toEqual(['past_due', 2, NOW.getTime()]);
    await applyTransition(db, 't1', 'payment_retry_failed', { actor: 'stripe:evt_3', now: NOW, failedPaymentRetries: 3 });
    expect((await tenant('t1')).failedPaymentRetries).toBe(3);
    await seedTenant('t2', { status: 'active' });
    await applyTransition(db, 't2', 'payment_retry_failed', { actor: 'stripe:evt_4', now: NOW });
    expect([(await tenant('t2')).status, (await tenant('t2')).failedPaymentRetries]).toEqual(['past_due', 1]);
  });

  it('queues the conversion mail in the same transaction as trial_ended, and needs a date to extend a trial', async () => {
    const trialEndsAt = daysFrom(NOW, -1);
    await seedTenant('t1', { status: 'trial', trialEndsAt });
    const result = await applyTransition(db, 't1', 'trial_ended', { actor: 'system:test', now: NOW });
    expect(result.mailIds).toEqual([`trial-expired-t1-${trialEndsAt.getTime()}`]);
    expect(await mailIds()).toEqual(result.mailIds);
    const mail = (await db.doc(`mail/${result.mailIds[0]}`).get()).data()!;
    expect(mail.to).toBe('billing@t1.test');
    expect(mail.message.subject).toMatch(/trial has ended/);
    await expect(applyTransition(db, 't1', 'extend_trial', { actor: 'u1', now: NOW })).rejects.toMatchObject({ code: 'invalid-argument' });
    expect((await tenant('t1')).status).toBe('trial_expired');
    await applyTransition(db, 't1', 'extend_trial', { actor: 'u1', now: NOW, trialEndsAt: daysFrom(NOW, 7) });
    expect([(await tenant('t1')).status, (await tenant('t1')).trialEndsAt.toMillis()]).toEqual(['trial', daysFrom(NOW, 7).getTime()]);
    expect((await history('t1')).length).toBe(2);
  });

  it('a staff suspension writes the hold; a payment is then refused and writes nothing; activate lifts the hold', async () => {
    await seedTenant('t1', { status: 'active' });
    await applyTransition(db, 't1', 'suspend', { actor: 'u-staff', now: NOW, reason: 'chargeback' });
    expect([(await tenant('t1')).status, (await tenant('t1')).staffHold]).toEqual(['suspended', true]);
    const held = await tenant('t1');
    await expect(applyTransition(db, 't1', 'payment_succeeded', { actor: 'stripe:evt_1', now: NOW })).rejects.toMatchObject({ code: 'failed-precondition', details: { reason: 'staff-hold' } });
    expect(await tenant('t1')).toEqual(held);
    await applyTransition(db, 't1', 'activate', { actor: 'u-staff', now: daysFrom(NOW, 1), reason: 'resolved' });
    expect([(await tenant('t1')).status, (await tenant('t1')).staffHold]).toEqual(['active', false]);
    expect((await history('t1')).map((e) => e.cause)).toEqual(['suspend', 'activate']);
  });

  it('two concurrent changes from the same status: one applies, the other is refused; one history entry', async () => {
    await seedTenant('t1', { status: 'active' });
    const outcomes = await Promise.allSettled([
      applyTransition(db, 't1', 'suspend', { actor: 'u1', now: NOW, expectedStatus: 'active' }),
      applyTransition(db, 't1', 'cancel', { actor: 'u2', now: NOW, expectedStatus: 'active' }),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await history('t1')).length).toBe(1);
  });
});

// The scheduled sweeps, called the way their onSchedule wrappers call them but with `now` as a
// parameter: what they change, what they leave, re-runs, two runs at once, a tenant that moves
// between the query and its transaction, and paging.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { applyTransition } from '../../functions/src/lifecycle/transition';
import { expireTrials, remindEndingTrials, runAllSweeps, suspendPastDue, type SweepReport } from '../../functions/src/lifecycle/sweeps';
import { clearEmulators, countDocs, db } from '../helpers/emulators';
import { daysFrom, history, mailIds, NOW, seedTenant, tenant } from './fixtures';

const changedIds = (report: SweepReport) => report.changed.map((c) => c.tenantId).sort();
const skippedIds = (report: SweepReport) => report.skipped.map((c) => c.tenantId).sort();

describe('expireTrials', () => {
  beforeEach(clearEmulators);

  async function seed() {
    await seedTenant('due', { status: 'trial', trialEndsAt: daysFrom(NOW, -1) });
    await seedTenant('due-now', { status: 'trial', trialEndsAt: NOW });
    await seedTenant('later', { status: 'trial', trialEndsAt: daysFrom(NOW, 1) });
    await seedTenant('paying', { status: 'active', trialEndsAt: daysFrom(NOW, -30) });
    await seedTenant('expired', { status: 'trial_expired', trialEndsAt: daysFrom(NOW, -5) });
  }

  it('moves trials past their end to trial_expired with one conversion mail each, and leaves the rest', async () => {
    await seed();
    const report = await expireTrials(db, NOW);
    assert.deepEqual(changedIds(report), ['due', 'due-now']);
    assert.deepEqual([report.skipped, report.errors], [[], []]);
    for (const id of ['due', 'due-now']) {
      assert.equal((await tenant(id)).status, 'trial_expired');
      const entries = await history(id);
      assert.deepEqual(entries.map(({ from, to, cause, actor }) => ({ from, to, cause, actor })), [
        { from: 'trial', to: 'trial_expired', cause: 'trial_ended', actor: 'system:expireTrials' },
      ]);
    }
    const due = (await tenant('due')).trialEndsAt.toMillis();
    assert.deepEqual(await mailIds(), [`trial-expired-due-${due}`, `trial-expired-due-now-${NOW.getTime()}`]);
    assert.equal((await db.doc(`mail/trial-expired-due-${due}`).get()).get('to'), 'billing@due.test');
    // The tenants that are not due: untouched.
    assert.deepEqual([(await tenant('later')).status, (await tenant('paying')).status, (await tenant('expired')).status], ['trial', 'active', 'trial_expired']);
    for (const id of ['later', 'paying', 'expired']) assert.deepEqual(await history(id), []);
  });

  it('makes a sales tenant active at its go-live date instead of expiring it, with no conversion mail', async () => {
    await seedTenant('sales-deal', { status: 'trial', source: 'sales', trialEndsAt: daysFrom(NOW, -1), goLiveAt: daysFrom(NOW, -1) });
    await seedTenant('self-serve', { status: 'trial', source: 'self_serve', trialEndsAt: daysFrom(NOW, -1) });
    const report = await expireTrials(db, NOW);
    assert.deepEqual(report.changed.map(({ tenantId, to }) => [tenantId, to]).sort(), [['sales-deal', 'active'], ['self-serve', 'trial_expired']]);
    assert.deepEqual((await history('sales-deal')).map((e) => e.cause), ['go_live_reached']);
    assert.deepEqual((await mailIds()).filter((id) => id.includes('sales-deal')), []);
  });

  it('a second run changes nothing and queues no second mail', async () => {
    await seed();
    await expireTrials(db, NOW);
    const again = await expireTrials(db, NOW);
    assert.deepEqual([again.changed, again.skipped, again.errors], [[], [], []]);
    assert.equal(await countDocs('mail'), 2);
    assert.equal((await history('due')).length, 1);
  });

  it('two runs at once: each tenant moves once, with one history entry and one mail', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `t${i}`);
    for (const id of ids) await seedTenant(id, { status: 'trial', trialEndsAt: daysFrom(NOW, -1) });
    const [a, b] = await Promise.all([expireTrials(db, NOW), expireTrials(db, NOW)]);
    assert.deepEqual([...changedIds(a), ...changedIds(b)].sort(), ids, 'each tenant changed by exactly one run');
    assert.deepEqual([...a.errors, ...b.errors], []);
    for (const id of ids) {
      assert.equal((await tenant(id)).status, 'trial_expired');
      assert.equal((await history(id)).length, 1);
    }
    assert.equal(await countDocs('mail'), ids.length);
  });

  it('skips a tenant that a payment activated between the query and its transaction', async () => {
    await seedTenant('paid-meanwhile', { status: 'trial', trialEndsAt: daysFrom(NOW, -1) });
    await seedTenant('still-due', { status: 'trial', trialEndsAt: daysFrom(NOW, -1) });
    const report = await expireTrials(db, NOW, {
      beforeTransition: async (id) => {
        if (id === 'paid-meanwhile') await applyTransition(db, id, 'payment_succeeded', { actor: 'stripe:evt_paid', now: NOW });
      },
    });
    assert.deepEqual([changedIds(report), skippedIds(report), report.errors], [['still-due'], ['paid-meanwhile'], []]);
    assert.match(report.skipped[0].reason, /now 'active', no longer 'trial'/);
    assert.equal((await tenant('paid-meanwhile')).status, 'active');
    assert.deepEqual((await history('paid-meanwhile')).map((e) => e.cause), ['payment_succeeded']);
    assert.deepEqual((await mailIds()).filter((id) => id.includes('paid-meanwhile')), []);
  });

  it('skips a trial that staff extended between the query and its transaction (the deadline is checked again)', async () => {
    await seedTenant('extended', { status: 'trial', trialEndsAt: daysFrom(NOW, -1) });
    const report = await expireTrials(db, NOW, {
      beforeTransition: async (id) => void (await applyTransition(db, id, 'extend_trial', { actor: 'u-sales', now: NOW, trialEndsAt: daysFrom(NOW, 7) })),
    });
    assert.deepEqual([report.changed, skippedIds(report)], [[], ['extended']]);
    assert.equal((await tenant('extended')).status, 'trial');
    assert.equal(await countDocs('mail'), 0);
  });

  it('pages through more due tenants than a page holds, reading only the due ones', async () => {
    const batch = db.batch();
    for (let i = 0; i < 25; i++) batch.set(db.doc(`tenants/due-${String(i).padStart(2, '0')}`), { status: 'trial', trialEndsAt: daysFrom(NOW, -1 - i), name: `Due ${i}`, billingEmail: 'b@x.test' });
    for (let i = 0; i < 30; i++) batch.set(db.doc(`tenants/later-${i}`), { status: 'trial', trialEndsAt: daysFrom(NOW, 1 + i), name: `Later ${i}`, billingEmail: 'b@x.test' });
    await batch.commit();
    const report = await expireTrials(db, NOW, { pageSize: 10 });
    assert.equal(report.changed.length, 25);
    assert.deepEqual([report.skipped, report.errors], [[], []]);
    // Three pages (10 + 10 + 5 tenants) and one transaction read per tenant; the 30 not due are never read.
    assert.equal(report.reads, 25 + 25);
    const statuses = await db.collection('tenants').where('status', '==', 'trial').count().get();
    assert.equal(statuses.data().count, 30);
  });
});

describe('remindEndingTrials', () => {
  beforeEach(clearEmulators);

  it('queues one reminder three days before a trial ends, never twice, and again for an extended trial', async () => {
    const end = daysFrom(NOW, 2);
    await seedTenant('soon', { status: 'trial', trialEndsAt: end });
    await seedTenant('not-yet', { status: 'trial', trialEndsAt: daysFrom(NOW, 4) });
    await seedTenant('over', { status: 'trial', trialEndsAt: daysFrom(NOW, -1) });
    await seedTenant('paying', { status: 'active', trialEndsAt: daysFrom(NOW, 2) });
    const first = await remindEndingTrials(db, NOW);
    assert.deepEqual(changedIds(first), ['soon']);
    assert.deepEqual(await mailIds(), [`trial-reminder-soon-${end.getTime()}`]);
    const mail = (await db.doc(`mail/trial-reminder-soon-${end.getTime()}`).get()).data()!;
    assert.deepEqual([mail.to, mail.message.subject], ['billing@soon.test', `Your Tenant soon trial ends on ${end.toISOString().slice(0, 10)}`]);
    assert.deepEqual((await history('soon')), [], 'a reminder is not a status change');

    const again = await remindEndingTrials(db, daysFrom(NOW, 0.5));
    assert.deepEqual([again.changed, skippedIds(again)], [[], ['soon']]);
    assert.equal(await countDocs('mail'), 1);

    const newEnd = daysFrom(NOW, 10);
    await applyTransition(db, 'soon', 'extend_trial', { actor: 'u-sales', now: NOW, trialEndsAt: newEnd });
    const later = await remindEndingTrials(db, daysFrom(NOW, 8));
    assert.deepEqual(changedIds(later), ['soon']);
    assert.deepEqual(await mailIds(), [`trial-reminder-soon-${end.getTime()}`, `trial-reminder-soon-${newEnd.getTime()}`]);
  });

  it('two runs at once queue one reminder', async () => {
    await seedTenant('soon', { status: 'trial', trialEndsAt: daysFrom(NOW, 2) });
    const [a, b] = await Promise.all([remindEndingTrials(db, NOW), remindEndingTrials(db, NOW)]);
    assert.equal(a.changed.length + b.changed.length, 1);
    assert.deepEqual([...a.errors, ...b.errors], []);
    assert.equal(await countDocs('mail'), 1);
  });
});

describe('suspendPastDue', () => {
  beforeEach(clearEmulators);

  it('suspends past_due tenants beyond the 14-day grace window and leaves those within it', async () => {
    await seedTenant('overdue', { status: 'past_due', pastDueSince: daysFrom(NOW, -15), failedPaymentRetries: 2 });
    await seedTenant('in-grace', { status: 'past_due', pastDueSince: daysFrom(NOW, -13) });
    await seedTenant('active', { status: 'active', pastDueSince: null });
    const report = await suspendPastDue(db, NOW);
    assert.deepEqual(changedIds(report), ['overdue']);
    assert.deepEqual((await history('overdue')).map(({ from, to, cause, actor }) => ({ from, to, cause, actor })), [
      { from: 'past_due', to: 'suspended', cause: 'grace_period_ended', actor: 'system:suspendPastDue' },
    ]);
    assert.deepEqual([(await tenant('overdue')).status, (await tenant('in-grace')).status, (await tenant('active')).status], ['suspended', 'past_due', 'active']);
    const again = await suspendPastDue(db, NOW);
    assert.deepEqual([again.changed, again.skipped], [[], []]);
    assert.equal((await history('overdue')).length, 1);
  });

  it('skips a tenant whose payment succeeded between the query and its transaction', async () => {
    await seedTenant('recovered', { status: 'past_due', pastDueSince: daysFrom(NOW, -20) });
    const report = await suspendPastDue(db, NOW, {
      beforeTransition: async (id) => void (await applyTransition(db, id, 'payment_succeeded', { actor: 'stripe:evt', now: NOW })),
    });
    assert.deepEqual([report.changed, skippedIds(report)], [[], ['recovered']]);
    assert.deepEqual([(await tenant('recovered')).status, (await tenant('recovered')).pastDueSince], ['active', null]);
  });
});

describe('the whole lifecycle by time alone (what `npm run lifecycle -- --at` does)', () => {
  beforeEach(clearEmulators);

  it('reminds, expires and suspends as the clock moves, and nothing more', async () => {
    await seedTenant('trialist', { status: 'trial', trialEndsAt: daysFrom(NOW, 5) });
    await seedTenant('late-payer', { status: 'active' });
    await applyTransition(db, 'late-payer', 'payment_failed', { actor: 'stripe:evt', now: NOW });
    const summary = async (at: Date) => (await runAllSweeps(db, at)).map((r) => `${r.sweep}:${changedIds(r).join(',')}`);
    assert.deepEqual(await summary(daysFrom(NOW, 1)), ['remindEndingTrials:', 'expireTrials:', 'suspendPastDue:']);
    assert.deepEqual(await summary(daysFrom(NOW, 3)), ['remindEndingTrials:trialist', 'expireTrials:', 'suspendPastDue:']);
    assert.deepEqual(await summary(daysFrom(NOW, 6)), ['remindEndingTrials:', 'expireTrials:trialist', 'suspendPastDue:']);
    assert.deepEqual(await summary(daysFrom(NOW, 15)), ['remindEndingTrials:', 'expireTrials:', 'suspendPastDue:late-payer']);
    assert.deepEqual(await summary(daysFrom(NOW, 30)), ['remindEndingTrials:', 'expireTrials:', 'suspendPastDue:']);
    assert.deepEqual([(await tenant('trialist')).status, (await tenant('late-payer')).status], ['trial_expired', 'suspended']);
    assert.equal(await countDocs('mail'), 2);
  });
});

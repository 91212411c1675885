// The scheduled sweeps, called the way their onSchedule wrappers call them but with `now` as a
// parameter: what they change, what they leave, re-runs, two runs at once, a tenant that moves
// between the query and its transaction, and paging.
import { beforeEach, describe, expect, it } from 'vitest';
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
    expect(changedIds(report)).toEqual(['due', 'due-now']);
    expect([report.skipped, report.errors]).toEqual([[], []]);
    for (const id of ['due', 'due-now']) {
      expect((await tenant(id)).status).toBe('trial_expired');
      const entries = await history(id);
      expect(entries.map(({ from, to, cause, actor }) => ({ from, to, cause, actor }))).toEqual([
        { from: 'trial', to: 'trial_expired', cause: 'trial_ended', actor: 'system:expireTrials' },
      ]);
    }
    const due = (await tenant('due')).trialEndsAt.toMillis();
    expect(await mailIds()).toEqual([`trial-expired-due-${due}`, `trial-expired-due-now-${NOW.getTime()}`]);
    expect((await db.doc(`mail/trial-expired-due-${due}`).get()).get('to')).toBe('billing@due.test');
    // The tenants that are not due: untouched.
    expect([(await tenant('later')).status, (await tenant('paying')).status, (await tenant('expired')).status]).toEqual(['trial', 'active', 'trial_expired']);
    for (const id of ['later', 'paying', 'expired']) expect(await history(id)).toEqual([]);
  });

  it('makes a sales tenant active at its go-live date instead of expiring it, with no conversion mail', async () => {
    await seedTenant('sales-deal', { status: 'trial', source: 'sales', trialEndsAt: daysFrom(NOW, -1), goLiveAt: daysFrom(NOW, -1) });
    await seedTenant('self-serve', { status: 'trial', source: 'self_serve', trialEndsAt: daysFrom(NOW, -1) });
    const report = await expireTrials(db, NOW);
    expect(report.changed.map(({ tenantId, to }) => [tenantId, to]).sort()).toEqual([['sales-deal', 'active'], ['self-serve', 'trial_expired']]);
    expect((await history('sales-deal')).map((e) => e.cause)).toEqual(['go_live_reached']);
    expect((await mailIds()).filter((id) => id.includes('sales-deal'))).toEqual([]);
  });

  it('leaves a trial with a Stripe subscription to Stripe for a day after its end, then expires it as a backstop', async () => {
    await seedTenant('with-stripe', { status: 'trial', trialEndsAt: daysFrom(NOW, -0.5), stripeCustomerId: 'cus_1', stripeSubscriptionId: 'sub_1' });
    const waiting = await expireTrials(db, NOW);
    expect([waiting.changed, waiting.skipped]).toEqual([[], [{ tenantId: 'with-stripe', reason: expect.stringMatching(/Stripe ends this trial/) }]]);
    expect([(await tenant('with-stripe')).status, await countDocs('mail')]).toEqual(['trial', 0]);
    const backstop = await expireTrials(db, daysFrom(NOW, 1));
    expect(changedIds(backstop)).toEqual(['with-stripe']);
    expect((await tenant('with-stripe')).status).toBe('trial_expired');
  });

  it('a second run changes nothing and queues no second mail', async () => {
    await seed();
    await expireTrials(db, NOW);
    const again = await expireTrials(db, NOW);
    expect([again.changed, again.skipped, again.errors]).toEqual([[], [], []]);
    expect(await countDocs('mail')).toBe(2);
    expect((await history('due')).length).toBe(1);
  });

  it('two runs at once: each tenant moves once, with one history entry and one mail', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `t${i}`);
    for (const id of ids) await seedTenant(id, { status: 'trial', trialEndsAt: daysFrom(NOW, -1) });
    const [a, b] = await Promise.all([expireTrials(db, NOW), expireTrials(db, NOW)]);
    expect([...changedIds(a), ...changedIds(b)].sort(), 'each tenant changed by exactly one run').toEqual(ids);
    expect([...a.errors, ...b.errors]).toEqual([]);
    for (const id of ids) {
      expect((await tenant(id)).status).toBe('trial_expired');
      expect((await history(id)).length).toBe(1);
    }
    expect(await countDocs('mail')).toBe(ids.length);
  });

  it('skips a tenant that a payment activated between the query and its transaction', async () => {
    await seedTenant('paid-meanwhile', { status: 'trial', trialEndsAt: daysFrom(NOW, -1) });
    await seedTenant('still-due', { status: 'trial', trialEndsAt: daysFrom(NOW, -1) });
    const report = await expireTrials(db, NOW, {
      beforeTransition: async (id) => {
        if (id === 'paid-meanwhile') await applyTransition(db, id, 'payment_succeeded', { actor: 'stripe:evt_paid', now: NOW });
      },
    });
    expect([changedIds(report), skippedIds(report), report.errors]).toEqual([['still-due'], ['paid-meanwhile'], []]);
    expect(report.skipped[0].reason).toMatch(/now 'active', no longer 'trial'/);
    expect((await tenant('paid-meanwhile')).status).toBe('active');
    expect((await history('paid-meanwhile')).map((e) => e.cause)).toEqual(['payment_succeeded']);
    expect((await mailIds()).filter((id) => id.includes('paid-meanwhile'))).toEqual([]);
  });

  it('skips a trial that staff extended between the query and its transaction (the deadline is checked again)', async () => {
    await seedTenant('extended', { status: 'trial', trialEndsAt: daysFrom(NOW, -1) });
    const report = await expireTrials(db, NOW, {
      beforeTransition: async (id) => void (await applyTransition(db, id, 'extend_trial', { actor: 'u-sales', now: NOW, trialEndsAt: daysFrom(NOW, 7) })),
    });
    expect([report.changed, skippedIds(report)]).toEqual([[], ['extended']]);
    expect((await tenant('extended')).status).toBe('trial');
    expect(await countDocs('mail')).toBe(0);
  });

  it('pages through more due tenants than a page holds, reading only the due ones', async () => {
    const batch = db.batch();
    for (let i = 0; i < 25; i++) batch.set(db.doc(`tenants/due-${String(i).padStart(2, '0')}`), { status: 'trial', trialEndsAt: daysFrom(NOW, -1 - i), name: `Due ${i}`, billingEmail: 'b@x.test' });
    for (let i = 0; i < 30; i++) batch.set(db.doc(`tenants/later-${i}`), { status: 'trial', trialEndsAt: daysFrom(NOW, 1 + i), name: `Later ${i}`, billingEmail: 'b@x.test' });
    await batch.commit();
    const report = await expireTrials(db, NOW, { pageSize: 10 });
    expect(report.changed.length).toBe(25);
    expect([report.skipped, report.errors]).toEqual([[], []]);
    // Three pages (10 + 10 + 5 tenants) and one transaction read per tenant; the 30 not due are never read.
    expect(report.reads).toBe(25 + 25);
    const statuses = await db.collection('tenants').where('status', '==', 'trial').count().get();
    expect(statuses.data().count).toBe(30);
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
    expect(changedIds(first)).toEqual(['soon']);
    expect(await mailIds()).toEqual([`trial-reminder-soon-${end.getTime()}`]);
    const mail = (await db.doc(`mail/trial-reminder-soon-${end.getTime()}`).get()).data()!;
    expect([mail.to, mail.message.subject]).toEqual(['billing@soon.test', `Your Tenant soon trial ends on ${end.toISOString().slice(0, 10)}`]);
    expect((await history('soon')), 'a reminder is not a status change').toEqual([]);

    const again = await remindEndingTrials(db, daysFrom(NOW, 0.5));
    expect([again.changed, skippedIds(again)]).toEqual([[], ['soon']]);
    expect(await countDocs('mail')).toBe(1);

    const newEnd = daysFrom(NOW, 10);
    await applyTransition(db, 'soon', 'extend_trial', { actor: 'u-sales', now: NOW, trialEndsAt: newEnd });
    const later = await remindEndingTrials(db, daysFrom(NOW, 8));
    expect(changedIds(later)).toEqual(['soon']);
    expect(await mailIds()).toEqual([`trial-reminder-soon-${end.getTime()}`, `trial-reminder-soon-${newEnd.getTime()}`]);
  });

  it('sends no reminder to a sales tenant before its go-live: billed by invoice, it has no card to add', async () => {
    await seedTenant('deal', { status: 'trial', source: 'sales', daysUntilDue: 30, trialEndsAt: daysFrom(NOW, 2), goLiveAt: daysFrom(NOW, 2) });
    const report = await remindEndingTrials(db, NOW);
    expect([report.changed, report.skipped]).toEqual([[], [{ tenantId: 'deal', reason: 'billed by invoice: no payment method to add' }]]);
    expect(await countDocs('mail')).toBe(0);
  });

  it('two runs at once queue one reminder', async () => {
    await seedTenant('soon', { status: 'trial', trialEndsAt: daysFrom(NOW, 2) });
    const [a, b] = await Promise.all([remindEndingTrials(db, NOW), remindEndingTrials(db, NOW)]);
    expect(a.changed.length + b.changed.length).toBe(1);
    expect([...a.errors, ...b.errors]).toEqual([]);
    expect(await countDocs('mail')).toBe(1);
  });
});

describe('suspendPastDue', () => {
  beforeEach(clearEmulators);

  it('suspends past_due tenants beyond the 14-day grace window and leaves those within it', async () => {
    await seedTenant('overdue', { status: 'past_due', pastDueSince: daysFrom(NOW, -15), failedPaymentRetries: 2 });
    await seedTenant('in-grace', { status: 'past_due', pastDueSince: daysFrom(NOW, -13) });
    await seedTenant('active', { status: 'active', pastDueSince: null });
    const report = await suspendPastDue(db, NOW);
    expect(changedIds(report)).toEqual(['overdue']);
    expect((await history('overdue')).map(({ from, to, cause, actor }) => ({ from, to, cause, actor }))).toEqual([
      { from: 'past_due', to: 'suspended', cause: 'grace_period_ended', actor: 'system:suspendPastDue' },
    ]);
    expect([(await tenant('overdue')).status, (await tenant('in-grace')).status, (await tenant('active')).status]).toEqual(['suspended', 'past_due', 'active']);
    const again = await suspendPastDue(db, NOW);
    expect([again.changed, again.skipped]).toEqual([[], []]);
    expect((await history('overdue')).length).toBe(1);
  });

  it('skips a tenant whose payment succeeded between the query and its transaction', async () => {
    await seedTenant('recovered', { status: 'past_due', pastDueSince: daysFrom(NOW, -20) });
    const report = await suspendPastDue(db, NOW, {
      beforeTransition: async (id) => void (await applyTransition(db, id, 'payment_succeeded', { actor: 'stripe:evt', now: NOW })),
    });
    expect([report.changed, skippedIds(report)]).toEqual([[], ['recovered']]);
    expect([(await tenant('recovered')).status, (await tenant('recovered')).pastDueSince]).toEqual(['active', null]);
  });
});

describe('the whole lifecycle by time alone (what `npm run lifecycle -- --at` does)', () => {
  beforeEach(clearEmulators);

  it('reminds, expires and suspends as the clock moves, and nothing more', async () => {
    await seedTenant('trialist', { status: 'trial', trialEndsAt: daysFrom(NOW, 5) });
    await seedTenant('late-payer', { status: 'active' });
    await applyTransition(db, 'late-payer', 'payment_failed', { actor: 'stripe:evt', now: NOW });
    const summary = async (at: Date) => (await runAllSweeps(db, at)).map((r) => `${r.sweep}:${changedIds(r).join(',')}`);
    expect(await summary(daysFrom(NOW, 1))).toEqual(['remindEndingTrials:', 'expireTrials:', 'suspendPastDue:']);
    expect(await summary(daysFrom(NOW, 3))).toEqual(['remindEndingTrials:trialist', 'expireTrials:', 'suspendPastDue:']);
    expect(await summary(daysFrom(NOW, 6))).toEqual(['remindEndingTrials:', 'expireTrials:trialist', 'suspendPastDue:']);
    expect(await summary(daysFrom(NOW, 15))).toEqual(['remindEndingTrials:', 'expireTrials:', 'suspendPastDue:late-payer']);
    expect(await summary(daysFrom(NOW, 30))).toEqual(['remindEndingTrials:', 'expireTrials:', 'suspendPastDue:']);
    expect([(await tenant('trialist')).status, (await tenant('late-payer')).status]).toEqual(['trial_expired', 'suspended']);
    expect(await countDocs('mail')).toBe(2);
  });
});

// changeTenantStatus, called the way the admin page calls it: the real web SDK through the Functions
// emulator. Who may take which action, what is validated, and that a refusal writes nothing.
import { beforeEach, describe, expect, it } from 'vitest';
import { client, rejectsWith } from '../helpers/callables';
import { allDocumentPaths, clearEmulators, db } from '../helpers/emulators';
import { DAY, history, seedTenant, tenant } from './fixtures';

/** The tenant documents and their data: a refused call must leave both exactly as they were. */
async function snapshot() {
  return { paths: await allDocumentPaths(), t1: await tenant('t1') };
}

const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();
type Result = { tenantId: string; from: string; to: string; historyId: string };

describe('changeTenantStatus callable', () => {
  beforeEach(async () => {
    await clearEmulators();
    await seedTenant('t1', { status: 'active' });
  });

  it('answers unauthenticated without a signed-in user, and writes nothing', async () => {
    const before = await snapshot();
    await rejectsWith((await client('')).call('changeTenantStatus', { tenantId: 't1', action: 'suspend', reason: 'abuse report' }), 'unauthenticated');
    expect(await snapshot()).toEqual(before);
  });

  it('answers permission-denied to a user without a platform role, or with a tenant role as claim', async () => {
    const before = await snapshot();
    for (const [email, claims] of [['someone@acme.test', {}], ['faker@acme.test', { platform: 'owner' }]] as const) {
      const caller = await client(email, claims);
      await rejectsWith(caller.call('changeTenantStatus', { tenantId: 't1', action: 'suspend', reason: 'abuse report' }), 'permission-denied', /platform staff/);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('lets super_admin suspend, recording the staff uid and reason in the history', async () => {
    const admin = await client('super@platform.test', { platform: 'super_admin' });
    const result = await admin.call<Result>('changeTenantStatus', { tenantId: 't1', action: 'suspend', reason: 'chargeback under review' });
    expect([result.from, result.to]).toEqual(['active', 'suspended']);
    expect((await tenant('t1')).status).toBe('suspended');
    const entries = await history('t1');
    expect(entries.map(({ from, to, cause, actor, reason }) => ({ from, to, cause, actor, reason }))).toEqual([
      { from: 'active', to: 'suspended', cause: 'suspend', actor: admin.uid, reason: 'chargeback under review' },
    ]);
    const audit = await db.collection('auditLog').get();
    expect(audit.docs.map((d) => d.data()).map(({ type, actor, reason, from, to, stripe }) => ({ type, actor, reason, from, to, stripe }))).toEqual([
      { type: 'staff.suspend', actor: admin.uid, reason: 'chargeback under review', from: 'active', to: 'suspended', stripe: 'no Stripe subscription: nothing to change there' },
    ]);
    await admin.call('changeTenantStatus', { tenantId: 't1', action: 'activate', reason: 'resolved' });
    await admin.call('changeTenantStatus', { tenantId: 't1', action: 'cancel', when: 'now', reason: 'customer asked' });
    expect((await tenant('t1')).status).toBe('cancelled');
  });

  it('lets sales extend a trial, and refuses sales every other action with permission-denied, writing nothing', async () => {
    await seedTenant('t2', { status: 'trial_expired', trialEndsAt: new Date(Date.now() - DAY) });
    const sales = await client('sales@platform.test', { platform: 'sales' });
    const before = await snapshot();
    for (const action of ['suspend', 'cancel', 'activate'] as const) {
      const when = action === 'cancel' ? { when: 'now' } : {};
      await rejectsWith(sales.call('changeTenantStatus', { tenantId: 't1', action, ...when, reason: 'because' }), 'permission-denied', /super_admin/);
    }
    expect(await snapshot()).toEqual(before);
    const until = inDays(10);
    const result = await sales.call<Result>('changeTenantStatus', { tenantId: 't2', action: 'extend_trial', trialEndsAt: until, reason: 'pilot runs longer' });
    expect([result.from, result.to]).toEqual(['trial_expired', 'trial']);
    const t2 = await tenant('t2');
    expect([t2.status, t2.trialEndsAt.toDate().toISOString()]).toEqual(['trial', until]);
    expect((await history('t2'))[0].actor).toBe(sales.uid);
  });

  it('answers invalid-argument, naming the field, for bad input, and writes nothing', async () => {
    const admin = await client('super@platform.test', { platform: 'super_admin' });
    const before = await snapshot();
    const cases: Array<[unknown, RegExp]> = [
      [{ tenantId: 't1', action: 'suspend' }, /reason/],
      [{ tenantId: 't1', action: 'suspend', reason: 'x' }, /reason: at least 3/],
      [{ tenantId: 't1', action: 'delete', reason: 'because' }, /action: one of extend_trial, activate, suspend, cancel/],
      [{ tenantId: 'a/b', action: 'suspend', reason: 'because' }, /tenantId/],
      [{ tenantId: 't1', action: 'extend_trial', reason: 'because' }, /trialEndsAt: is required/],
      [{ tenantId: 't1', action: 'suspend', reason: 'because', trialEndsAt: inDays(5) }, /trialEndsAt: is only for extend_trial/],
      [{ tenantId: 't1', action: 'extend_trial', reason: 'because', trialEndsAt: 'next week' }, /trialEndsAt: a date/],
      [{ tenantId: 't1', action: 'extend_trial', reason: 'because', trialEndsAt: inDays(-1) }, /trialEndsAt: must be in the future/],
      [{ tenantId: 't1', action: 'extend_trial', reason: 'because', trialEndsAt: inDays(800) }, /trialEndsAt: at most 730 days/],
      [{ tenantId: 't1', action: 'cancel', reason: 'because' }, /when: is required to cancel: now or period_end/],
      [{ tenantId: 't1', action: 'cancel', when: 'tomorrow', reason: 'because' }, /when: one of now, period_end/],
      [{ tenantId: 't1', action: 'suspend', when: 'now', reason: 'because' }, /when: is only for cancel/],
      [{ tenantId: 't1', action: 'suspend', reason: 'because', status: 'active' }, /request|status/],
      ['suspend t1', /request/],
    ];
    for (const [data, message] of cases) await rejectsWith(admin.call('changeTenantStatus', data), 'invalid-argument', message);
    expect(await snapshot()).toEqual(before);
  });

  it('answers failed-precondition, naming status and action, for a change the lifecycle does not allow, and writes nothing', async () => {
    const admin = await client('super@platform.test', { platform: 'super_admin' });
    const before = await snapshot();
    await rejectsWith(
      admin.call('changeTenantStatus', { tenantId: 't1', action: 'extend_trial', trialEndsAt: inDays(5), reason: 'goodwill' }),
      'failed-precondition',
      /'active'.*'extend_trial'/,
    );
    await rejectsWith(admin.call('changeTenantStatus', { tenantId: 't1', action: 'activate', reason: 'already is' }), 'failed-precondition', /'active'.*'activate'/);
    // No subscription yet (its provisioning still running): no billing period to run out.
    await rejectsWith(admin.call('changeTenantStatus', { tenantId: 't1', action: 'cancel', when: 'period_end', reason: 'not renewing' }), 'failed-precondition', /no Stripe subscription.*cancel it now/);
    expect(await snapshot()).toEqual(before);
  });

  it('answers not-found for a tenant that does not exist, and creates none', async () => {
    const admin = await client('super@platform.test', { platform: 'super_admin' });
    const before = await snapshot();
    await rejectsWith(admin.call('changeTenantStatus', { tenantId: 'ghost', action: 'suspend', reason: 'because' }), 'not-found', /ghost/);
    expect(await snapshot()).toEqual(before);
  });
});

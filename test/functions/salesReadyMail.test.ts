// Seed 003: when a sales-assisted tenant becomes ready, the sales rep who provisioned it gets a mail
// with the tenant, its admin and a link to the admin console, delivered through mail/ to the local
// inbox. Self-serve tenants send none; a re-run of the step sends nothing twice.
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { provisionTenant } from '../../functions/src/provisioning/provisionTenant';
import { runProvisioningJob } from '../../functions/src/provisioning/saga';
import { PROVISIONING_STEPS } from '../../functions/src/provisioning/steps';
import { startFakeStripe, type FakeStripe } from '../../tools/fake-stripe/server';
import { auth, clearEmulators, db, deps } from '../helpers/emulators';
import { clearInbox, inbox, linksIn, mailTo } from '../helpers/inbox';

let fake: FakeStripe;
let saga: { db: typeof db; auth: typeof auth; stripe: Stripe };
beforeAll(async () => {
  fake = await startFakeStripe({ port: 0 });
  saga = { db, auth, stripe: new Stripe('sk_test_sales_mail', { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false }) };
});
afterAll(() => fake.close());
beforeEach(async () => {
  await clearEmulators();
  await clearInbox();
  fake.reset();
});

async function salesRep(email = 'sally@sales.test'): Promise<string> {
  return (await auth.createUser({ email, displayName: 'Sally Sales' })).uid;
}

const salesDeal = (requestedBy: string, overrides: Record<string, unknown> = {}) => ({
  idempotencyKey: `deal-${requestedBy}-${Math.random()}`,
  source: 'sales' as const,
  owner: { email: 'casey@bigcorp.test', displayName: 'Casey Owner' },
  companyName: 'BigCorp <Europe>',
  plan: 'enterprise' as const,
  seatCap: 120,
  daysUntilDue: 45,
  requestedBy,
  ...overrides,
});

async function provisionAndRun(request: Parameters<typeof provisionTenant>[1]) {
  const result = await provisionTenant(deps, request);
  expect(await runProvisioningJob(saga, result.jobId, { backoffMs: 1 })).toBe('completed');
  return result;
}

describe('the sales rep is told when the tenant they provisioned is ready', () => {
  it('a mail to the rep with the tenant, its admin and the admin console link, delivered to the inbox', async () => {
    const rep = await salesRep();
    const { tenantId, jobId } = await provisionAndRun(salesDeal(rep));
    const stored = (await db.doc(`mail/sales-ready-${tenantId}`).get()).data()!;
    expect(stored).toMatchObject({ to: 'sally@sales.test', tenantId, message: { subject: 'BigCorp <Europe> is ready' } });
    const console = `${process.env.APP_URL}/admin/tenants/${tenantId}`;
    expect(stored.message.text).toBe(
      [
        'BigCorp <Europe> is ready and live now.',
        'Admin: Casey Owner <casey@bigcorp.test>. They were mailed a link to choose their password.',
        'Plan: Enterprise, 120 seats, billed by invoice, due 45 days after each is sent.',
        `Admin console: ${console}`,
        '',
      ].join('\n'),
    );
    const delivered = await mailTo('sally@sales.test', /^BigCorp <Europe> is ready$/);
    expect(linksIn(delivered)).toEqual([{ href: console, text: 'Open BigCorp <Europe> in the admin console' }]);
    // Escaped (domain/mail.ts writes numeric entities), not markup.
    expect(delivered.html).toContain('<strong>BigCorp &#60;Europe&#62;</strong>');
    expect(delivered.html).not.toContain('<Europe>');
    const job = (await db.doc(`provisioningJobs/${jobId}`).get()).data()!;
    expect(job.completedSteps.find((s: { name: string }) => s.name === 'notifySalesRep').output).toEqual({ mailId: `sales-ready-${tenantId}` });
  });

  it('a tenant that goes live later says until when it trials', async () => {
    const rep = await salesRep();
    // Within Stripe's two years for a trial end, whatever today is.
    const goLiveAt = new Date(Date.now() + 400 * 86_400_000);
    const { tenantId } = await provisionAndRun(salesDeal(rep, { goLiveAt }));
    const stored = (await db.doc(`mail/sales-ready-${tenantId}`).get()).data()!;
    expect(stored.message.text).toContain(`is ready and in its trial until go-live on ${goLiveAt.toISOString().slice(0, 10)}.`);
  });

  it('runs again without mailing twice', async () => {
    const rep = await salesRep();
    const { tenantId, jobId } = await provisionAndRun(salesDeal(rep));
    await mailTo('sally@sales.test', /is ready$/);
    const step = PROVISIONING_STEPS.find((s) => s.name === 'notifySalesRep')!;
    const job = (await db.doc(`provisioningJobs/${jobId}`).get()).data()!;
    const ctx = { db, auth, stripe: saga.stripe, jobId, attempt: job.attempt, tenantId, inputs: { ...job.inputs, trialEndsAt: null }, outputs: {}, now: new Date(), holdsLease: async () => undefined };
    expect(await step.run(ctx)).toEqual({ mailId: `sales-ready-${tenantId}` });
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the mail worker would have delivered a rewrite by now
    // This tenant's mails only: an earlier test's mail may reach the shared inbox after it was cleared.
    const forThisTenant = (await inbox()).filter((m) => m.to.some((r) => r.address === 'sally@sales.test') && m.text.includes(tenantId));
    expect(forThisTenant.map((m) => m.subject)).toEqual(['BigCorp <Europe> is ready']);
  });

  it('a self-serve tenant has no rep: no mail; a rep without an email address: none either, and the saga completes', async () => {
    const ownerUid = 'self-owner';
    await auth.createUser({ uid: ownerUid, email: 'ada@acme.test' });
    const selfServe = await provisionAndRun({
      idempotencyKey: 'self-serve-1',
      source: 'self_serve',
      owner: { uid: ownerUid, email: 'ada@acme.test', displayName: 'Ada' },
      companyName: 'Acme',
      plan: 'team',
      requestedBy: ownerUid,
    });
    expect((await db.doc(`mail/sales-ready-${selfServe.tenantId}`).get()).exists).toBe(false);
    const noEmail = (await auth.createUser({ displayName: 'Phone-only rep' })).uid;
    const deal = await provisionAndRun(salesDeal(noEmail, { owner: { email: 'kim@other.test', displayName: 'Kim' } }));
    expect((await db.doc(`mail/sales-ready-${deal.tenantId}`).get()).exists).toBe(false);
    const job = (await db.doc(`provisioningJobs/${deal.jobId}`).get()).data()!;
    expect(job.completedSteps.find((s: { name: string }) => s.name === 'notifySalesRep').output).toEqual({ skipped: `the rep ${noEmail} has no email address` });
  });
});

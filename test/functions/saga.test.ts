// The provisioning saga against the real Firestore emulator and the local fake Stripe, through the
// real stripe SDK. Faults are injected at every step boundary; after each run, an orphan scan checks
// that the tenant is fully provisioned or that nothing of it is left.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import type { ProvisioningRequest } from '../../functions/src/domain/provisioning';
import { provisionTenant } from '../../functions/src/provisioning/provisionTenant';
import { runProvisioningJob, WorkerCrash, type Fault, type SagaOptions } from '../../functions/src/provisioning/saga';
import { PROVISIONING_STEPS } from '../../functions/src/provisioning/steps';
import { MAX_RESUMES, sweepStuckProvisioning } from '../../functions/src/provisioning/sweep';
import { startFakeStripe, type FakeStripe } from '../../tools/fake-stripe/server';
import { scanOrphans } from '../../tools/orphan-scan';
import { auth, clearEmulators, countDocs, db, deps } from '../helpers/emulators';

let fake: FakeStripe;
let saga: { db: typeof db; auth: typeof auth; stripe: Stripe };
beforeAll(async () => {
  fake = await startFakeStripe({ port: 0 });
  saga = { db, auth, stripe: new Stripe('sk_test_saga', { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false }) };
});
afterAll(async () => fake.close());

const fast: SagaOptions = { stepAttempts: 2, backoffMs: 1 };
const request = (overrides: Partial<ProvisioningRequest> = {}): ProvisioningRequest => ({
  idempotencyKey: 'saga-key-0001',
  source: 'self_serve',
  owner: { uid: 'owner-1', email: 'ada@acme.test', displayName: 'Ada' },
  companyName: 'Acme Corp',
  plan: 'team',
  requestedBy: 'owner-1',
  ...overrides,
});

async function job(jobId: string) {
  return (await db.doc(`provisioningJobs/${jobId}`).get()).data()!;
}
async function orphans() {
  return scanOrphans(db, fake.state());
}
const liveCustomers = () => fake.state().customers.filter((c) => !c.deleted);
const liveSubscriptions = () => fake.state().subscriptions.filter((s) => s.status !== 'canceled');

async function assertRolledBack(jobId: string, tenantId: string) {
  const record = await job(jobId);
  expect(record.status).toBe('rolled_back');
  expect(record.error?.message, 'the job names the failure').toBeTruthy();
  expect((await db.doc(`tenants/${tenantId}`).get()).get('status')).toBe('failed');
  expect(await orphans()).toEqual([]);
  expect(liveCustomers().length).toBe(0);
  expect(liveSubscriptions().length).toBe(0);
  expect(await countDocs('mail'), 'no welcome mail for a rolled-back tenant').toBe(0);
  expect(await countDocs('slugs'), 'the slug is released').toBe(0);
}

async function assertFullyProvisioned(jobId: string, tenantId: string) {
  const record = await job(jobId);
  expect(record.status).toBe('completed');
  expect(record.completedSteps.map((s: { name: string }) => s.name)).toEqual(PROVISIONING_STEPS.map((s) => s.name));
  const tenant = (await db.doc(`tenants/${tenantId}`).get()).data()!;
  expect(['trial', 'active']).toContain(tenant.status);
  expect(await orphans()).toEqual([]);
  expect(liveCustomers().map((c) => c.id)).toEqual([tenant.stripeCustomerId]);
  expect(liveSubscriptions().map((s) => s.id)).toEqual([tenant.stripeSubscriptionId]);
  expect(fake.state().customers.length, 'exactly one Stripe customer was ever created').toBe(1);
  expect(await countDocs('mail')).toBe(1);
}

describe('provisioning saga', () => {
  beforeEach(async () => {
    await clearEmulators();
    fake.reset();
    // The owners the requests name: the saga reads them when the tenant opens and mails them a link.
    await auth.createUser({ uid: 'owner-1', email: 'ada@acme.test', password: 'owner-password-1' });
    await auth.createUser({ uid: 'o2', email: 'cto@big.test' });
  });

  it('runs every step in order, recording each with its timing, and leaves a ready tenant', async () => {
    const { jobId, tenantId } = await provisionTenant(deps, request());
    expect(await runProvisioningJob(saga, jobId, fast)).toBe('completed');
    await assertFullyProvisioned(jobId, tenantId);
    const record = await job(jobId);
    for (const step of record.completedSteps) expect(typeof step.ms).toBe('number');
    const tenant = (await db.doc(`tenants/${tenantId}`).get()).data()!;
    const [subscription] = liveSubscriptions();
    expect(subscription.status).toBe('trialing');
    expect(subscription.trial_end).toBe(Math.floor(tenant.trialEndsAt.toMillis() / 1000));
    // No card asked for; without one by the trial's end, Stripe pauses the subscription (issue 10).
    expect([subscription.collection_method, subscription.trial_settings?.end_behavior?.missing_payment_method]).toEqual(['charge_automatically', 'pause']);
    expect(await countDocs(`tenants/${tenantId}/records`)).toBe(3);
    expect((await db.doc(`mail/welcome-${tenantId}`).get()).get('to')).toBe('ada@acme.test');
    expect(await countDocs('auditLog')).toBe(1);
  });

  it('S4: the tenant opens with its billing summary read from Stripe, though the subscription’s events may all have come before the link', async () => {
    // No webhook here: as if every event about the new subscription reached the endpoint before markTenantReady and was dropped.
    const { jobId, tenantId } = await provisionTenant(deps, request());
    expect(await runProvisioningJob(saga, jobId, fast)).toBe('completed');
    const [subscription] = liveSubscriptions();
    const tenant = (await db.doc(`tenants/${tenantId}`).get()).data()!;
    expect(tenant.billing).toMatchObject({ stripeStatus: 'trialing', price: { unitAmount: 1900, currency: 'usd', interval: 'month' }, openInvoice: null, card: null });
    expect(tenant.billing.nextInvoice.at.toMillis()).toBe(subscription.items.data[0].current_period_end * 1000);
  });

  it('bills a sales tenant that is live at once by invoice, with its contract’s payment terms and no trial', async () => {
    const sales = request({ source: 'sales', plan: 'enterprise', daysUntilDue: 45, owner: { uid: 'o2', email: 'cto@big.test', displayName: 'C' }, requestedBy: 'staff' });
    const { jobId, tenantId } = await provisionTenant(deps, sales);
    expect(await runProvisioningJob(saga, jobId, fast)).toBe('completed');
    const [subscription] = liveSubscriptions();
    // Never charged to a card it does not have (that would leave it incomplete, then expired): Stripe sends invoices (issue 10).
    expect([subscription.status, subscription.collection_method, subscription.days_until_due, subscription.trial_end]).toEqual(['active', 'send_invoice', 45, null]);
    expect((await db.doc(`tenants/${tenantId}`).get()).get('daysUntilDue')).toBe(45);
    // Per-seat: the contract's seats are the subscription's quantity.
    expect(subscription.items.data[0].quantity).toBe((await db.doc(`tenants/${tenantId}`).get()).get('seatCap'));
  });

  it('retries a step that fails once and completes', async () => {
    const { jobId, tenantId } = await provisionTenant(deps, request());
    const faults: Fault[] = [{ step: 'createStripeSubscription', at: 'after', kind: 'fail', times: 1 }];
    expect(await runProvisioningJob(saga, jobId, { ...fast, faults })).toBe('completed');
    await assertFullyProvisioned(jobId, tenantId);
  });

  const reversible = PROVISIONING_STEPS.filter((s) => !s.irreversible).map((s) => s.name);
  for (const step of reversible) {
    for (const at of ['before', 'after'] as const) {
      it(`undoes everything newest first when ${step} keeps failing ${at} its work`, async () => {
        const { jobId, tenantId } = await provisionTenant(deps, request());
        const outcome = await runProvisioningJob(saga, jobId, { ...fast, faults: [{ step, at, kind: 'fail' }] });
        expect(outcome).toBe('rolled_back');
        await assertRolledBack(jobId, tenantId);
        const undone: string[] = (await job(jobId)).undoneSteps;
        // The tenant is closed first, so nothing can open it while the rest is undone.
        expect(undone[0]).toBe('releaseTenant');
        const started = PROVISIONING_STEPS.map((s) => s.name).slice(0, reversible.indexOf(step) + 1);
        const undoable = started.filter((name) => PROVISIONING_STEPS.find((s) => s.name === name)!.undo);
        expect(undone.slice(1), 'newest first').toEqual(undoable.reverse());
      });
    }
  }

  for (const step of PROVISIONING_STEPS.filter((s) => s.irreversible).map((s) => s.name)) {
    it(`rolls forward, never back, when the irreversible ${step} fails, and completes on retry`, async () => {
      const { jobId, tenantId } = await provisionTenant(deps, request());
      await expect(runProvisioningJob(saga, jobId, { ...fast, leaseMs: 0, faults: [{ step, at: 'after', kind: 'fail', times: 2 }] })).rejects.toThrow();
      expect((await job(jobId)).status).toBe('running');
      expect((await db.doc(`tenants/${tenantId}`).get()).get('status')).toBe('trial');
      expect(await runProvisioningJob(saga, jobId, fast)).toBe('completed');
      await assertFullyProvisioned(jobId, tenantId);
    });
  }

  for (const step of PROVISIONING_STEPS.map((s) => s.name)) {
    for (const at of ['before', 'after'] as const) {
      it(`resumes from its checkpoint when the worker dies ${at} ${step}`, async () => {
        const { jobId, tenantId } = await provisionTenant(deps, request());
        await expect(runProvisioningJob(saga, jobId, { ...fast, leaseMs: 0, faults: [{ step, at, kind: 'crash' }] })).rejects.toThrow(WorkerCrash);
        expect((await job(jobId)).status, 'no compensation ran').toBe('running');
        expect(await runProvisioningJob(saga, jobId, fast)).toBe('completed');
        await assertFullyProvisioned(jobId, tenantId);
      });
    }
  }

  for (const step of ['createStripeCustomer', 'createStripeSubscription']) {
    it(`S1: resumed after Stripe pruned its idempotency key (24 h), ${step} finds what it made by metadata and makes no second one`, async () => {
      // A lifetime of 0: every saved key is already pruned when it comes again, as after a day.
      fake.configure({ apiKey: 'sk_test_saga', billing: { idempotencyKeyLifetimeSeconds: 0 } });
      const { jobId, tenantId } = await provisionTenant(deps, request());
      await expect(runProvisioningJob(saga, jobId, { ...fast, leaseMs: 0, faults: [{ step, at: 'after', kind: 'crash' }] })).rejects.toThrow(WorkerCrash);
      expect(await runProvisioningJob(saga, jobId, fast)).toBe('completed');
      await assertFullyProvisioned(jobId, tenantId);
      expect(fake.state().subscriptions.length, 'exactly one Stripe subscription was ever created').toBe(1);
    });
  }

  it('finishes an interrupted compensation when resumed by another worker', async () => {
    const { jobId, tenantId } = await provisionTenant(deps, request());
    const faults: Fault[] = [
      { step: 'seedSampleData', at: 'after', kind: 'fail' },
      { step: 'createStripeCustomer', at: 'undo', kind: 'crash' },
    ];
    await expect(runProvisioningJob(saga, jobId, { ...fast, leaseMs: 0, faults })).rejects.toThrow(WorkerCrash);
    const halfway = await job(jobId);
    expect(halfway.status).toBe('compensating');
    expect(halfway.undoneSteps).toEqual(['releaseTenant', 'seedSampleData', 'createStripeSubscription']);
    expect(liveCustomers().length, 'the customer is not undone yet').toBe(1);
    expect(await runProvisioningJob(saga, jobId, fast)).toBe('rolled_back');
    await assertRolledBack(jobId, tenantId);
  });

  it('retries an undo that Stripe fails once, and still rolls back cleanly', async () => {
    const { jobId, tenantId } = await provisionTenant(deps, request());
    fake.failNext({ method: 'DELETE', path: '/v1/customers', status: 503, times: 1 });
    const outcome = await runProvisioningJob(saga, jobId, { ...fast, faults: [{ step: 'seedSampleData', at: 'before', kind: 'fail' }] });
    expect(outcome).toBe('rolled_back');
    await assertRolledBack(jobId, tenantId);
  });

  it('knows a create that Stripe refused made nothing, and rolls back cleanly', async () => {
    const { jobId, tenantId } = await provisionTenant(deps, request());
    // A client error Stripe stores under the key: every replay, the undo's included, answers the same.
    fake.failNext({ method: 'POST', path: '/v1/subscriptions', status: 400, code: 'resource_missing', store: true });
    expect(await runProvisioningJob(saga, jobId, fast)).toBe('rolled_back');
    await assertRolledBack(jobId, tenantId);
    expect(fake.state().subscriptions.length).toBe(0);
  });

  it('records a failed undo for operators and refuses a retry of the key until it is finished', async () => {
    const { jobId } = await provisionTenant(deps, request());
    // Stripe keeps failing the delete, past every retry.
    fake.failNext({ method: 'DELETE', path: '/v1/customers', status: 500, times: 10 });
    const outcome = await runProvisioningJob(saga, jobId, { ...fast, faults: [{ step: 'seedSampleData', at: 'before', kind: 'fail' }] });
    expect(outcome).toBe('failed');
    const record = await job(jobId);
    expect(record.undoErrors.map((e: { step: string }) => e.step)).toEqual(['createStripeCustomer']);
    expect(liveCustomers().length, 'the customer that could not be deleted is still there').toBe(1);
    expect((await orphans()).some((p) => p.includes('stripe customer')), 'the orphan scan surfaces it').toBeTruthy();
    await expect(provisionTenant(deps, request())).rejects.toMatchObject({ code: 'failed-precondition' });
  });

  it('starts a clean new attempt when the same key comes again after a rollback', async () => {
    const first = await provisionTenant(deps, request());
    await runProvisioningJob(saga, first.jobId, { ...fast, faults: [{ step: 'seedSampleData', at: 'before', kind: 'fail' }] });
    expect((await job(first.jobId)).status).toBe('rolled_back');
    const second = await provisionTenant(deps, request());
    expect(second.jobId).toBe(first.jobId);
    expect(second.tenantId).not.toBe(first.tenantId);
    const record = await job(second.jobId);
    expect([record.status, record.attempt, record.completedSteps.length]).toEqual(['pending', 2, 0]);
    expect(await runProvisioningJob(saga, second.jobId, fast)).toBe('completed');
    expect(await orphans()).toEqual([]);
    expect(liveCustomers().length).toBe(1);
    expect((await db.doc(`tenants/${first.tenantId}`).get()).get('status')).toBe('failed');
  });

  it('makes one Stripe customer and one subscription from 20 duplicate requests and 20 workers at once', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => provisionTenant(deps, request())));
    const { jobId, tenantId } = results[0];
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => runProvisioningJob(saga, jobId, fast).catch((e) => e.constructor.name)));
    expect(outcomes.includes('completed'), outcomes.join()).toBeTruthy();
    await assertFullyProvisioned(jobId, tenantId);
    expect(fake.state().subscriptions.length).toBe(1);
  });
});

describe('sweepStuckProvisioning', () => {
  beforeEach(async () => {
    await clearEmulators();
    fake.reset();
    // The owners the requests name: the saga reads them when the tenant opens and mails them a link.
    await auth.createUser({ uid: 'owner-1', email: 'ada@acme.test', password: 'owner-password-1' });
    await auth.createUser({ uid: 'o2', email: 'cto@big.test' });
  });
  const later = (minutes: number) => new Date(Date.now() + minutes * 60_000);

  it('leaves jobs alone that are not stuck yet', async () => {
    await provisionTenant(deps, request());
    const started: string[] = [];
    const outcome = await sweepStuckProvisioning({ ...saga, startSaga: async (id) => void started.push(id) }, later(1));
    expect([outcome, started]).toEqual([{ resumed: [], abandoned: [], alerted: [], errors: [] }, []]);
  });

  it('resumes a job whose hand-off was lost, then undoes it and marks it failed with a retry action', async () => {
    const { jobId, tenantId } = await provisionTenant(deps, request());
    await runProvisioningJob(saga, jobId, { ...fast, leaseMs: 0, faults: [{ step: 'seedSampleData', at: 'after', kind: 'crash' }] }).catch(() => {});
    const started: string[] = [];
    const sweepDeps = { ...saga, startSaga: async (id: string) => void started.push(id) };
    for (let i = 1; i <= MAX_RESUMES; i++) {
      expect(await sweepStuckProvisioning(sweepDeps, later(6 * i))).toEqual({ resumed: [jobId], abandoned: [], alerted: [], errors: [] });
    }
    expect(started).toEqual(Array(MAX_RESUMES).fill(jobId));
    expect(await sweepStuckProvisioning(sweepDeps, later(6 * (MAX_RESUMES + 1)))).toEqual({ resumed: [], abandoned: [jobId], alerted: [], errors: [] });
    const record = await job(jobId);
    expect(record.status).toBe('failed');
    expect(record.retryAction).toMatch(/resubmit with the same idempotency key/);
    expect((await db.doc(`tenants/${tenantId}`).get()).get('status')).toBe('failed');
    expect(await orphans()).toEqual([]);
    expect(liveCustomers().length).toBe(0);
  });

  it('L4: a job whose hand-off throws is reported, and the jobs after it are still handled', async () => {
    const first = await provisionTenant(deps, request());
    const second = await provisionTenant(deps, request({ idempotencyKey: 'saga-key-0002', owner: { uid: 'o2', email: 'cto@big.test', displayName: 'C' }, requestedBy: 'o2' }));
    // The first job (oldest updatedAt) is the one the queue refuses, every run.
    const started: string[] = [];
    const startSaga = async (id: string) => {
      if (id === first.jobId) throw new Error('PERMISSION_DENIED: cloudtasks.tasks.create');
      started.push(id);
    };
    const outcome = await sweepStuckProvisioning({ ...saga, startSaga }, later(6));
    expect(outcome).toEqual({ resumed: [second.jobId], abandoned: [], alerted: [], errors: [{ jobId: first.jobId, message: 'PERMISSION_DENIED: cloudtasks.tasks.create' }] });
    expect(started).toEqual([second.jobId]);
    expect((await job(second.jobId)).resumes).toBe(1);
  });
});

// The provisioning saga against the real Firestore emulator and the local fake Stripe, through the
// real stripe SDK. Faults are injected at every step boundary; after each run, an orphan scan checks
// that the tenant is fully provisioned or that nothing of it is left.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import Stripe from 'stripe';
import type { ProvisioningRequest } from '../../functions/src/domain/provisioning';
import { DomainError } from '../../functions/src/domain/errors';
import { provisionTenant } from '../../functions/src/provisioning/provisionTenant';
import { runProvisioningJob, WorkerCrash, type Fault, type SagaOptions } from '../../functions/src/provisioning/saga';
import { PROVISIONING_STEPS } from '../../functions/src/provisioning/steps';
import { MAX_RESUMES, sweepStuckProvisioning } from '../../functions/src/provisioning/sweep';
import { startFakeStripe, type FakeStripe } from '../../tools/fake-stripe/server';
import { scanOrphans } from '../../tools/orphan-scan';
import { clearEmulators, countDocs, db, deps } from '../helpers/emulators';

let fake: FakeStripe;
let saga: { db: typeof db; stripe: Stripe };
before(async () => {
  fake = await startFakeStripe({ port: 0 });
  saga = { db, stripe: new Stripe('sk_test_saga', { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false }) };
});
after(async () => fake.close());

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
  assert.equal(record.status, 'rolled_back');
  assert.ok(record.error?.message, 'the job names the failure');
  assert.equal((await db.doc(`tenants/${tenantId}`).get()).get('status'), 'failed');
  assert.deepEqual(await orphans(), []);
  assert.equal(liveCustomers().length, 0);
  assert.equal(liveSubscriptions().length, 0);
  assert.equal(await countDocs('mail'), 0, 'no welcome mail for a rolled-back tenant');
  assert.equal(await countDocs('slugs'), 0, 'the slug is released');
}

async function assertFullyProvisioned(jobId: string, tenantId: string) {
  const record = await job(jobId);
  assert.equal(record.status, 'completed');
  assert.deepEqual(record.completedSteps.map((s: { name: string }) => s.name), PROVISIONING_STEPS.map((s) => s.name));
  const tenant = (await db.doc(`tenants/${tenantId}`).get()).data()!;
  assert.equal(tenant.provisioningState, 'ready');
  assert.deepEqual(await orphans(), []);
  assert.deepEqual(liveCustomers().map((c) => c.id), [tenant.stripeCustomerId]);
  assert.deepEqual(liveSubscriptions().map((s) => s.id), [tenant.stripeSubscriptionId]);
  assert.equal(fake.state().customers.length, 1, 'exactly one Stripe customer was ever created');
  assert.equal(await countDocs('mail'), 1);
}

describe('provisioning saga', () => {
  beforeEach(async () => {
    await clearEmulators();
    fake.reset();
  });

  it('runs every step in order, recording each with its timing, and leaves a ready tenant', async () => {
    const { jobId, tenantId } = await provisionTenant(deps, request());
    assert.equal(await runProvisioningJob(saga, jobId, fast), 'completed');
    await assertFullyProvisioned(jobId, tenantId);
    const record = await job(jobId);
    for (const step of record.completedSteps) assert.equal(typeof step.ms, 'number');
    const tenant = (await db.doc(`tenants/${tenantId}`).get()).data()!;
    const [subscription] = liveSubscriptions();
    assert.equal(subscription.status, 'trialing');
    assert.equal(subscription.trial_end, Math.floor(tenant.trialEndsAt.toMillis() / 1000));
    assert.equal(await countDocs(`tenants/${tenantId}/records`), 3);
    assert.equal((await db.doc(`mail/welcome-${tenantId}`).get()).get('to'), 'ada@acme.test');
    assert.equal(await countDocs('auditLog'), 1);
  });

  it('bills a sales tenant that is live at once without a trial', async () => {
    const sales = request({ source: 'sales', plan: 'enterprise', owner: { uid: 'o2', email: 'cto@big.test', displayName: 'C' }, requestedBy: 'staff' });
    const { jobId } = await provisionTenant(deps, sales);
    assert.equal(await runProvisioningJob(saga, jobId, fast), 'completed');
    const [subscription] = liveSubscriptions();
    assert.equal(subscription.status, 'active');
    assert.equal(subscription.trial_end, null);
  });

  it('retries a step that fails once and completes', async () => {
    const { jobId, tenantId } = await provisionTenant(deps, request());
    const faults: Fault[] = [{ step: 'createStripeSubscription', at: 'after', kind: 'fail', times: 1 }];
    assert.equal(await runProvisioningJob(saga, jobId, { ...fast, faults }), 'completed');
    await assertFullyProvisioned(jobId, tenantId);
  });

  const reversible = PROVISIONING_STEPS.filter((s) => !s.irreversible).map((s) => s.name);
  for (const step of reversible) {
    for (const at of ['before', 'after'] as const) {
      it(`undoes everything newest first when ${step} keeps failing ${at} its work`, async () => {
        const { jobId, tenantId } = await provisionTenant(deps, request());
        const outcome = await runProvisioningJob(saga, jobId, { ...fast, faults: [{ step, at, kind: 'fail' }] });
        assert.equal(outcome, 'rolled_back');
        await assertRolledBack(jobId, tenantId);
        const undone: string[] = (await job(jobId)).undoneSteps;
        assert.equal(undone.at(-1), 'releaseTenant');
        const started = PROVISIONING_STEPS.map((s) => s.name).slice(0, reversible.indexOf(step) + 1);
        const undoable = started.filter((name) => PROVISIONING_STEPS.find((s) => s.name === name)!.undo);
        assert.deepEqual(undone.slice(0, -1), undoable.reverse(), 'newest first');
      });
    }
  }

  for (const step of PROVISIONING_STEPS.filter((s) => s.irreversible).map((s) => s.name)) {
    it(`rolls forward, never back, when the irreversible ${step} fails, and completes on retry`, async () => {
      const { jobId, tenantId } = await provisionTenant(deps, request());
      await assert.rejects(runProvisioningJob(saga, jobId, { ...fast, leaseMs: 0, faults: [{ step, at: 'after', kind: 'fail', times: 2 }] }));
      assert.equal((await job(jobId)).status, 'running');
      assert.equal((await db.doc(`tenants/${tenantId}`).get()).get('status'), 'trial');
      assert.equal(await runProvisioningJob(saga, jobId, fast), 'completed');
      await assertFullyProvisioned(jobId, tenantId);
    });
  }

  for (const step of PROVISIONING_STEPS.map((s) => s.name)) {
    for (const at of ['before', 'after'] as const) {
      it(`resumes from its checkpoint when the worker dies ${at} ${step}`, async () => {
        const { jobId, tenantId } = await provisionTenant(deps, request());
        await assert.rejects(runProvisioningJob(saga, jobId, { ...fast, leaseMs: 0, faults: [{ step, at, kind: 'crash' }] }), WorkerCrash);
        assert.equal((await job(jobId)).status, 'running', 'no compensation ran');
        assert.equal(await runProvisioningJob(saga, jobId, fast), 'completed');
        await assertFullyProvisioned(jobId, tenantId);
      });
    }
  }

  it('finishes an interrupted compensation when resumed by another worker', async () => {
    const { jobId, tenantId } = await provisionTenant(deps, request());
    const faults: Fault[] = [
      { step: 'markTenantReady', at: 'before', kind: 'fail' },
      { step: 'createStripeCustomer', at: 'undo', kind: 'crash' },
    ];
    await assert.rejects(runProvisioningJob(saga, jobId, { ...fast, leaseMs: 0, faults }), WorkerCrash);
    const halfway = await job(jobId);
    assert.equal(halfway.status, 'compensating');
    assert.deepEqual(halfway.undoneSteps, ['markTenantReady', 'seedSampleData', 'createStripeSubscription']);
    assert.equal(liveCustomers().length, 1, 'the customer is not undone yet');
    assert.equal(await runProvisioningJob(saga, jobId, fast), 'rolled_back');
    await assertRolledBack(jobId, tenantId);
  });

  it('retries an undo that Stripe fails once, and still rolls back cleanly', async () => {
    const { jobId, tenantId } = await provisionTenant(deps, request());
    fake.failNext({ method: 'DELETE', path: '/v1/customers', status: 503, times: 1 });
    const outcome = await runProvisioningJob(saga, jobId, { ...fast, faults: [{ step: 'seedSampleData', at: 'before', kind: 'fail' }] });
    assert.equal(outcome, 'rolled_back');
    await assertRolledBack(jobId, tenantId);
  });

  it('knows a create that Stripe refused made nothing, and rolls back cleanly', async () => {
    const { jobId, tenantId } = await provisionTenant(deps, request());
    // A client error Stripe stores under the key: every replay, the undo's included, answers the same.
    fake.failNext({ method: 'POST', path: '/v1/subscriptions', status: 400, code: 'resource_missing', store: true });
    assert.equal(await runProvisioningJob(saga, jobId, fast), 'rolled_back');
    await assertRolledBack(jobId, tenantId);
    assert.equal(fake.state().subscriptions.length, 0);
  });

  it('records a failed undo for operators and refuses a retry of the key until it is finished', async () => {
    const { jobId } = await provisionTenant(deps, request());
    // Stripe keeps failing the delete, past every retry.
    fake.failNext({ method: 'DELETE', path: '/v1/customers', status: 500, times: 10 });
    const outcome = await runProvisioningJob(saga, jobId, { ...fast, faults: [{ step: 'seedSampleData', at: 'before', kind: 'fail' }] });
    assert.equal(outcome, 'failed');
    const record = await job(jobId);
    assert.deepEqual(record.undoErrors.map((e: { step: string }) => e.step), ['createStripeCustomer']);
    assert.equal(liveCustomers().length, 1, 'the customer that could not be deleted is still there');
    assert.ok((await orphans()).some((p) => p.includes('stripe customer')), 'the orphan scan surfaces it');
    await assert.rejects(provisionTenant(deps, request()), (e: DomainError) => e.code === 'failed-precondition');
  });

  it('starts a clean new attempt when the same key comes again after a rollback', async () => {
    const first = await provisionTenant(deps, request());
    await runProvisioningJob(saga, first.jobId, { ...fast, faults: [{ step: 'markTenantReady', at: 'before', kind: 'fail' }] });
    assert.equal((await job(first.jobId)).status, 'rolled_back');
    const second = await provisionTenant(deps, request());
    assert.equal(second.jobId, first.jobId);
    assert.notEqual(second.tenantId, first.tenantId);
    const record = await job(second.jobId);
    assert.deepEqual([record.status, record.attempt, record.completedSteps.length], ['pending', 2, 0]);
    assert.equal(await runProvisioningJob(saga, second.jobId, fast), 'completed');
    assert.deepEqual(await orphans(), []);
    assert.equal(liveCustomers().length, 1);
    assert.equal((await db.doc(`tenants/${first.tenantId}`).get()).get('status'), 'failed');
  });

  it('makes one Stripe customer and one subscription from 20 duplicate requests and 20 workers at once', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => provisionTenant(deps, request())));
    const { jobId, tenantId } = results[0];
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => runProvisioningJob(saga, jobId, fast).catch((e) => e.constructor.name)));
    assert.ok(outcomes.includes('completed'), outcomes.join());
    await assertFullyProvisioned(jobId, tenantId);
    assert.equal(fake.state().subscriptions.length, 1);
  });
});

describe('sweepStuckProvisioning', () => {
  beforeEach(async () => {
    await clearEmulators();
    fake.reset();
  });
  const later = (minutes: number) => new Date(Date.now() + minutes * 60_000);

  it('leaves jobs alone that are not stuck yet', async () => {
    await provisionTenant(deps, request());
    const started: string[] = [];
    const outcome = await sweepStuckProvisioning({ ...saga, startSaga: async (id) => void started.push(id) }, later(1));
    assert.deepEqual([outcome, started], [{ resumed: [], abandoned: [] }, []]);
  });

  it('resumes a job whose hand-off was lost, then undoes it and marks it failed with a retry action', async () => {
    const { jobId, tenantId } = await provisionTenant(deps, request());
    await runProvisioningJob(saga, jobId, { ...fast, leaseMs: 0, faults: [{ step: 'seedSampleData', at: 'after', kind: 'crash' }] }).catch(() => {});
    const started: string[] = [];
    const sweepDeps = { ...saga, startSaga: async (id: string) => void started.push(id) };
    for (let i = 1; i <= MAX_RESUMES; i++) {
      assert.deepEqual(await sweepStuckProvisioning(sweepDeps, later(6 * i)), { resumed: [jobId], abandoned: [] });
    }
    assert.deepEqual(started, Array(MAX_RESUMES).fill(jobId));
    assert.deepEqual(await sweepStuckProvisioning(sweepDeps, later(6 * (MAX_RESUMES + 1))), { resumed: [], abandoned: [jobId] });
    const record = await job(jobId);
    assert.equal(record.status, 'failed');
    assert.match(record.retryAction, /resubmit with the same idempotency key/);
    assert.equal((await db.doc(`tenants/${tenantId}`).get()).get('status'), 'failed');
    assert.deepEqual(await orphans(), []);
    assert.equal(liveCustomers().length, 0);
  });
});

// Issue 9, part 2: the saga never destroys a live tenant, and never mistakes "unknown" for "nothing
// made". Real Firestore emulator, the local fake Stripe through the real stripe SDK; faults and
// frozen workers are injected through the saga's test hooks.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import type { ProvisioningRequest } from '../../functions/src/domain/provisioning';
import { provisionTenant } from '../../functions/src/provisioning/provisionTenant';
import { LostLease, runProvisioningJob, WorkerCrash, type SagaOptions } from '../../functions/src/provisioning/saga';
import { MAX_RESUMES, sweepStuckProvisioning } from '../../functions/src/provisioning/sweep';
import { startFakeStripe, type FakeStripe } from '../../tools/fake-stripe/server';
import { scanOrphans } from '../../tools/orphan-scan';
import { auth, clearEmulators, countDocs, db, deps, eventually } from '../helpers/emulators';

let fake: FakeStripe;
let saga: { db: typeof db; auth: typeof auth; stripe: Stripe };
const fast: SagaOptions = { stepAttempts: 2, backoffMs: 1, attemptBudgetMs: 0 };

beforeAll(async () => {
  fake = await startFakeStripe({ port: 0 });
  saga = { db, auth, stripe: new Stripe('sk_test_safety', { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false }) };
});
afterAll(async () => fake.close());
beforeEach(async () => {
  await clearEmulators();
  fake.reset();
});

async function provision(overrides: Partial<ProvisioningRequest> = {}) {
  const owner = await auth.createUser({ email: 'ada@acme.test', password: 'owner-password-1', displayName: 'Ada' });
  return provisionTenant(deps, {
    idempotencyKey: 'safety-key-0001',
    source: 'self_serve',
    owner: { uid: owner.uid, email: 'ada@acme.test', displayName: 'Ada' },
    companyName: 'Acme Corp',
    plan: 'team',
    requestedBy: owner.uid,
    ...overrides,
  });
}
const job = async (jobId: string) => (await db.doc(`provisioningJobs/${jobId}`).get()).data()!;
const tenant = async (tenantId: string) => (await db.doc(`tenants/${tenantId}`).get()).data()!;
const liveCustomers = () => fake.state().customers.filter((c) => !c.deleted);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000);
/** Waits until the first worker is in `step`, then until its lease (if it stopped renewing) has lapsed. */
async function whenLapsedIn(jobId: string, step: string, leaseMs: number) {
  await eventually(async () => (await job(jobId)).inFlightStep === step, `the worker to reach ${step}`);
  await sleep(leaseMs + 150);
}

describe('past the point of no return', () => {
  it('the sweeper rolls a job stuck after the welcome mail forward and raises an alert; it never compensates it', async () => {
    const { jobId, tenantId } = await provision();
    await expect(runProvisioningJob(saga, jobId, { ...fast, leaseMs: 0, faults: [{ step: 'sendWelcomeMail', at: 'after', kind: 'crash' }] })).rejects.toBeInstanceOf(WorkerCrash);
    const started: string[] = [];
    const sweepDeps = { ...saga, startSaga: async (id: string) => void started.push(id) };
    for (let i = 1; i <= MAX_RESUMES; i++) expect(await sweepStuckProvisioning(sweepDeps, inMinutes(6 * i))).toEqual({ resumed: [jobId], abandoned: [], alerted: [], errors: [] });

    expect(await sweepStuckProvisioning(sweepDeps, inMinutes(6 * (MAX_RESUMES + 1)))).toEqual({ resumed: [], abandoned: [], alerted: [jobId], errors: [] });
    expect(started).toEqual(Array(MAX_RESUMES + 1).fill(jobId));
    const stuck = await job(jobId);
    expect(stuck.status).toBe('running');
    expect(stuck.alert.reason).toMatch(/past the point of no return/);
    expect(stuck.undoneSteps).toEqual([]);
    expect((await tenant(tenantId)).status).toBe('trial');
    expect(liveCustomers()).toHaveLength(1);
    expect(await countDocs('slugs')).toBe(1);

    // The queue's resume finishes it.
    expect(await runProvisioningJob(saga, jobId, fast)).toBe('completed');
    expect(await scanOrphans(db, fake.state())).toEqual([]);
  });

  it('the ready step failing rolls forward, releasing the lease so the retry takes over at once', async () => {
    const { jobId, tenantId } = await provision();
    await expect(runProvisioningJob(saga, jobId, { ...fast, faults: [{ step: 'markTenantReady', at: 'before', kind: 'fail', times: 2 }] })).rejects.toThrow(/injected failure/);
    const failed = await job(jobId);
    expect([failed.status, failed.leaseOwner, failed.error.step]).toEqual(['running', null, 'markTenantReady']);
    expect((await tenant(tenantId)).status).toBe('provisioning');
    // With the default 60 s lease: the next worker claims it now, not a minute later.
    expect(await runProvisioningJob(saga, jobId, fast)).toBe('completed');
    expect((await tenant(tenantId)).status).toBe('trial');
  });
});

describe('step inputs and undo by metadata', () => {
  it('a tenant renamed mid-saga does not change what a resumed step sends Stripe', async () => {
    const { jobId, tenantId } = await provision();
    await expect(runProvisioningJob(saga, jobId, { ...fast, leaseMs: 0, faults: [{ step: 'createStripeCustomer', at: 'after', kind: 'crash' }] })).rejects.toBeInstanceOf(WorkerCrash);
    await db.doc(`tenants/${tenantId}`).update({ name: 'Acme Renamed Ltd' });
    expect(await runProvisioningJob(saga, jobId, fast)).toBe('completed');
    expect(fake.state().customers.map((c) => [c.name, c.deleted ?? false])).toEqual([['Acme Corp', false]]);
    expect((await tenant(tenantId)).stripeCustomerId).toBe(fake.state().customers[0].id);
    expect(await scanOrphans(db, fake.state())).toEqual([]);
  });

  it('S1: a resumed create finds the customer it made by metadata first, so a pruned or refused idempotency key cannot matter', async () => {
    const { jobId, tenantId } = await provision();
    // The customer exists; the worker died before recording it.
    await expect(runProvisioningJob(saga, jobId, { ...fast, leaseMs: 0, faults: [{ step: 'createStripeCustomer', at: 'after', kind: 'crash' }] })).rejects.toBeInstanceOf(WorkerCrash);
    expect(liveCustomers()).toHaveLength(1);
    expect(liveCustomers()[0].metadata).toMatchObject({ jobId, tenantId, attempt: '1' });
    // Were the create sent again, Stripe would answer idempotency_error: the step must not send it.
    fake.failNext({ method: 'POST', path: '/v1/customers', status: 400, type: 'idempotency_error', message: 'Keys for idempotent requests can only be used with the same parameters', store: true, times: 10 });
    expect(await runProvisioningJob(saga, jobId, fast)).toBe('completed');
    expect(liveCustomers()).toHaveLength(1);
    expect((await tenant(tenantId)).stripeCustomerId).toBe(liveCustomers()[0].id);
    expect(await scanOrphans(db, fake.state())).toEqual([]);
  });

  it("finds the subscription of a create whose answer was lost through the customer's subscriptions", async () => {
    const { jobId } = await provision();
    // The subscription is made, its worker dies before recording it, and the resumed step keeps failing.
    await expect(runProvisioningJob(saga, jobId, { ...fast, leaseMs: 0, faults: [{ step: 'createStripeSubscription', at: 'after', kind: 'crash' }] })).rejects.toBeInstanceOf(WorkerCrash);
    expect(fake.state().subscriptions.filter((s) => s.status !== 'canceled')).toHaveLength(1);
    expect(await runProvisioningJob(saga, jobId, { ...fast, faults: [{ step: 'createStripeSubscription', at: 'before', kind: 'fail' }] })).toBe('rolled_back');
    expect(fake.state().subscriptions.map((s) => s.status)).toEqual(['canceled']);
    expect(await scanOrphans(db, fake.state())).toEqual([]);
  });
});

describe('leases', () => {
  const LEASE = 400;

  it('a step slower than the lease keeps it: a second worker meanwhile finds the job leased', async () => {
    const { jobId, tenantId } = await provision();
    const first = runProvisioningJob(saga, jobId, { ...fast, leaseMs: LEASE, faults: [{ step: 'createStripeCustomer', at: 'before', kind: 'slow', ms: 3 * LEASE }] });
    await whenLapsedIn(jobId, 'createStripeCustomer', LEASE);
    expect(await runProvisioningJob(saga, jobId, { ...fast, leaseMs: LEASE })).toBe('leased');
    expect(await first).toBe('completed');
    expect(fake.state().customers).toHaveLength(1);
    expect((await tenant(tenantId)).status).toBe('trial');
  });

  it('a worker frozen past its lease writes nothing once it wakes: the tenant another worker closed stays closed and empty', async () => {
    const { jobId, tenantId } = await provision();
    const frozen = runProvisioningJob(saga, jobId, { ...fast, leaseMs: LEASE, faults: [{ step: 'seedSampleData', at: 'before', kind: 'stall', ms: 3 * LEASE }] });
    await whenLapsedIn(jobId, 'seedSampleData', LEASE);
    // The job looks abandoned: a second worker takes it and rolls it back.
    expect(await runProvisioningJob(saga, jobId, { ...fast, leaseMs: LEASE, faults: [{ step: 'seedSampleData', at: 'before', kind: 'fail' }] })).toBe('rolled_back');
    await expect(frozen).rejects.toBeInstanceOf(LostLease);
    expect((await tenant(tenantId)).status).toBe('failed');
    expect(await countDocs(`tenants/${tenantId}/records`), 'the woken worker seeded nothing').toBe(0);
    expect((await job(jobId)).status).toBe('rolled_back');
    expect(await scanOrphans(db, fake.state())).toEqual([]);
  });

  it('a worker frozen before opening the tenant cannot open it after losing the job', async () => {
    const { jobId, tenantId } = await provision();
    const frozen = runProvisioningJob(saga, jobId, { ...fast, leaseMs: LEASE, faults: [{ step: 'markTenantReady', at: 'before', kind: 'stall', ms: 3 * LEASE }] });
    await whenLapsedIn(jobId, 'markTenantReady', LEASE);
    // The second worker fails at the same step: past the point of no return, it rolls forward and lets go.
    await expect(runProvisioningJob(saga, jobId, { ...fast, leaseMs: LEASE, faults: [{ step: 'markTenantReady', at: 'before', kind: 'fail' }] })).rejects.toThrow(/injected failure/);
    // A third worker holds the job when the frozen one wakes.
    const third = runProvisioningJob(saga, jobId, { ...fast, leaseMs: 60_000, faults: [{ step: 'markTenantReady', at: 'before', kind: 'slow', ms: 3 * LEASE }] });
    await expect(frozen).rejects.toBeInstanceOf(LostLease);
    expect(await third).toBe('completed');
    const opened = await db.collection(`tenants/${tenantId}/history`).where('cause', '==', 'opened_trial').get();
    expect(opened.size, 'opened once, by the worker that held the job').toBe(1);
    expect(opened.docs[0].get('actor')).toBe(`provisioning:${jobId}`);
    expect(await scanOrphans(db, fake.state())).toEqual([]);
  });
});

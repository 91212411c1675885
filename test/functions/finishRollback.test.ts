// Issue 9, part 2: after an undo that failed, platform staff finish it (finishProvisioningRollback, a
// callable on the Functions emulator); the job then ends rolled_back and the same key starts a fresh
// attempt. The saga runs in-process against the same local Stripe simulator as the functions.
import { beforeEach, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { DomainError } from '../../functions/src/domain/errors';
import type { ProvisioningRequest } from '../../functions/src/domain/provisioning';
import { provisionTenant } from '../../functions/src/provisioning/provisionTenant';
import { runProvisioningJob } from '../../functions/src/provisioning/saga';
import { client, rejectsWith } from '../helpers/callables';
import { auth, clearEmulators, db, deps } from '../helpers/emulators';

// The simulator the Functions emulator talks to (scripts/emulators.mjs), under the functions' own key.
const simulator = process.env.STRIPE_API_BASE!;
const base = new URL(simulator);
const stripe = new Stripe(process.env.STRIPE_SECRET_KEY ?? 'sk_test_local_placeholder', { host: base.hostname, port: Number(base.port), protocol: 'http', maxNetworkRetries: 0, telemetry: false });
const saga = { db, auth, stripe };

async function injectStripeFailure(rule: Record<string, unknown>) {
  const response = await fetch(`${simulator}/_fake/failures`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
  expect(response.status).toBe(200);
}
const customer = async (id: string) => stripe.customers.retrieve(id);

let request: ProvisioningRequest;
beforeEach(async () => {
  await clearEmulators();
  await fetch(`${simulator}/_fake/failures`, { method: 'DELETE' });
  const owner = await auth.createUser({ email: 'grace@cobol.test', password: 'owner-password-1' });
  request = {
    idempotencyKey: `self_serve:${owner.uid}`,
    source: 'self_serve',
    owner: { uid: owner.uid, email: 'grace@cobol.test', displayName: 'Grace' },
    companyName: 'Cobol Systems',
    plan: 'starter',
    requestedBy: owner.uid,
  };
});

/** A job whose compensation could not delete its Stripe customer: failed, with undoErrors. */
async function failedUndo() {
  const { jobId, tenantId } = await provisionTenant(deps, request);
  await injectStripeFailure({ method: 'DELETE', path: '/v1/customers', status: 500, times: 4 });
  expect(await runProvisioningJob(saga, jobId, { stepAttempts: 2, backoffMs: 1, faults: [{ step: 'seedSampleData', at: 'before', kind: 'fail' }] })).toBe('failed');
  await fetch(`${simulator}/_fake/failures`, { method: 'DELETE' });
  const job = (await db.doc(`provisioningJobs/${jobId}`).get()).data()!;
  expect(job.undoErrors.map((e: { step: string }) => e.step)).toEqual(['createStripeCustomer']);
  expect(job.retryAction).toMatch(/finishProvisioningRollback/);
  return { jobId, tenantId, customerId: job.completedSteps[0].output.customerId as string };
}

describe('finishProvisioningRollback', () => {
  it('re-runs a failed undo for super_admin; the job ends rolled_back and the same key then provisions afresh', async () => {
    const { jobId, tenantId, customerId } = await failedUndo();
    expect((await customer(customerId)).deleted).toBeFalsy();
    // Until then, the self-serve account cannot get a tenant: the retry is refused.
    await expect(provisionTenant(deps, request)).rejects.toSatisfy((e: DomainError) => e.code === 'failed-precondition');

    const superAdmin = await client('root@platform.test', { platform: 'super_admin' });
    const outcome = await superAdmin.call<{ jobId: string; status: string; undoErrors: unknown[] }>('finishProvisioningRollback', { jobId });
    expect(outcome).toEqual({ jobId, status: 'rolled_back', undoErrors: [] });
    expect((await customer(customerId)).deleted).toBe(true);
    const job = (await db.doc(`provisioningJobs/${jobId}`).get()).data()!;
    expect([job.status, job.retryAction, job.lastOperatorAction.by]).toEqual(['rolled_back', null, superAdmin.uid]);
    expect((await db.doc(`tenants/${tenantId}`).get()).get('status')).toBe('failed');

    const retry = await provisionTenant(deps, request);
    expect(retry.jobId).toBe(jobId);
    expect(retry.tenantId).not.toBe(tenantId);
    expect((await db.doc(`provisioningJobs/${jobId}`).get()).get('attempt')).toBe(2);
    expect(await runProvisioningJob(saga, jobId, { backoffMs: 1 })).toBe('completed');
  });

  it('keeps the job failed, with the new undo errors, when the undo fails again', async () => {
    const { jobId } = await failedUndo();
    await injectStripeFailure({ method: 'DELETE', path: '/v1/customers', status: 500, times: 10 });
    const superAdmin = await client('root2@platform.test', { platform: 'super_admin' });
    const outcome = await superAdmin.call<{ status: string; undoErrors: { step: string }[] }>('finishProvisioningRollback', { jobId });
    expect([outcome.status, outcome.undoErrors.map((e) => e.step)]).toEqual(['failed', ['createStripeCustomer']]);
  });

  it('refuses everyone but super_admin, a malformed or unknown job id, and a job that is not a failed undo, changing nothing', async () => {
    const { jobId } = await failedUndo();
    const before = (await db.doc(`provisioningJobs/${jobId}`).get()).data();
    await rejectsWith((await client('')).call('finishProvisioningRollback', { jobId }), 'unauthenticated');
    await rejectsWith((await client('sally@platform.test', { platform: 'sales' })).call('finishProvisioningRollback', { jobId }), 'permission-denied', /super_admin/);
    await rejectsWith((await client('owner@customer.test')).call('finishProvisioningRollback', { jobId }), 'permission-denied');
    const superAdmin = await client('root3@platform.test', { platform: 'super_admin' });
    await rejectsWith(superAdmin.call('finishProvisioningRollback', { jobId: 'not-a-job' }), 'invalid-argument', /jobId: a provisioning job id/);
    await rejectsWith(superAdmin.call('finishProvisioningRollback', { jobId, extra: true }), 'invalid-argument');
    await rejectsWith(superAdmin.call('finishProvisioningRollback', { jobId: `job_${'0'.repeat(40)}` }), 'not-found');
    expect((await db.doc(`provisioningJobs/${jobId}`).get()).data()).toEqual(before);

    const { jobId: completed } = await provisionTenant(deps, { ...request, idempotencyKey: 'another-key-0001', companyName: 'Other Co' });
    expect(await runProvisioningJob(saga, completed, { backoffMs: 1 })).toBe('completed');
    await rejectsWith(superAdmin.call('finishProvisioningRollback', { jobId: completed }), 'failed-precondition', /is 'completed'/);
    expect((await db.doc(`provisioningJobs/${completed}`).get()).get('status')).toBe('completed');
  });
});

// The admin console's backend on the emulators: the provisioning timeline on the job, staff retries of a
// rolled-back provisioning, the lifecycle history callable and the tenants table's search fields kept in
// step with a rename made under the security rules.
import { doc, updateDoc } from 'firebase/firestore';
import Stripe from 'stripe';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ProvisioningRequest, ProvisioningResult } from '../../functions/src/domain/provisioning';
import { provisionTenant } from '../../functions/src/provisioning/provisionTenant';
import { runProvisioningJob } from '../../functions/src/provisioning/saga';
import { client, rejectsWith } from '../helpers/callables';
import { signedInFirestore } from '../helpers/clientFirestore';
import { auth, clearEmulators, countDocs, db, deps, eventually, settledJob } from '../helpers/emulators';

// The simulator the Functions emulator talks to (scripts/emulators.mjs), under the functions' own key.
const base = new URL(process.env.STRIPE_API_BASE!);
const stripe = new Stripe(process.env.STRIPE_SECRET_KEY ?? 'sk_test_local_placeholder', { host: base.hostname, port: Number(base.port), protocol: 'http', maxNetworkRetries: 0, telemetry: false });
const saga = { db, auth, stripe };
const OWNER_PASSWORD = 'owner-password-1';
const FAIL_SUBSCRIPTION = { step: 'createStripeSubscription', at: 'before', kind: 'fail' } as const;

interface Entry {
  attempt: number;
  tenantId: string;
  kind: 'step' | 'undo';
  step: string;
  try: number;
  ok: boolean;
  error?: string;
  startedAt: FirebaseFirestore.Timestamp;
}

let request: ProvisioningRequest;
beforeEach(async () => {
  await clearEmulators();
  const owner = await auth.createUser({ email: 'grace@cobol.test', password: OWNER_PASSWORD });
  request = {
    idempotencyKey: `self_serve:${owner.uid}`,
    source: 'self_serve',
    owner: { uid: owner.uid, email: 'grace@cobol.test', displayName: 'Grace' },
    companyName: 'Cobol Systems',
    plan: 'starter',
    requestedBy: owner.uid,
  };
});

const job = async (jobId: string) => (await db.doc(`provisioningJobs/${jobId}`).get()).data()!;
const timeline = async (jobId: string) => ((await job(jobId)).timeline ?? []) as Entry[];
const tries = (entries: Entry[], step: string, kind: Entry['kind'] = 'step') =>
  entries.filter((e) => e.step === step && e.kind === kind).map((e) => [e.try, e.ok, e.error ?? null]);

/** A self-serve signup whose Stripe subscription never gets created: rolled back, the tenant `failed`. */
async function rolledBack(): Promise<ProvisioningResult> {
  const result = await provisionTenant(deps, request);
  expect(await runProvisioningJob(saga, result.jobId, { stepAttempts: 3, backoffMs: 1, faults: [{ ...FAIL_SUBSCRIPTION }] })).toBe('rolled_back');
  return result;
}

async function detailsOf(promise: Promise<unknown>): Promise<{ code: string; details: Record<string, unknown> | undefined }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; details: Record<string, unknown> | undefined };
  }
  expect.fail('expected the call to be refused');
}

describe('the provisioning timeline on the job', () => {
  it('records every try of every step: a failed try with its error, the retry that worked, each with its attempt and tenant', async () => {
    const { jobId, tenantId } = await provisionTenant(deps, request);
    expect(await runProvisioningJob(saga, jobId, { backoffMs: 1, faults: [{ ...FAIL_SUBSCRIPTION, times: 1 }] })).toBe('completed');
    const entries = await timeline(jobId);
    expect(tries(entries, 'createStripeSubscription')).toEqual([
      [1, false, 'injected failure before createStripeSubscription'],
      [2, true, null],
    ]);
    const planned = (await job(jobId)).plannedSteps as string[];
    for (const step of planned) expect(tries(entries, step).at(-1), step).toEqual([expect.any(Number), true, null]);
    expect(entries.every((e) => e.attempt === 1 && e.tenantId === tenantId && e.kind === 'step')).toBe(true);
    expect((await job(jobId)).inFlightSince).toBeNull();
  });

  it('records the undos after the failed tries, the tenant closed first and the steps undone newest first', async () => {
    const { jobId } = await rolledBack();
    const entries = await timeline(jobId);
    expect(tries(entries, 'createStripeSubscription')).toEqual([1, 2, 3].map((n) => [n, false, 'injected failure before createStripeSubscription']));
    const undos = entries.filter((e) => e.kind === 'undo').sort((a, b) => a.startedAt.toMillis() - b.startedAt.toMillis());
    expect(undos.map((e) => [e.step, e.ok])).toEqual([
      ['releaseTenant', true],
      ['createStripeSubscription', true],
      ['createStripeCustomer', true],
    ]);
    // Nothing after the failed step ran, so nothing of it is on the timeline.
    expect(entries.some((e) => e.step === 'seedSampleData')).toBe(false);
  });
});

describe('retryProvisioning', () => {
  it('lets sales start a clean attempt of a rolled-back signup: a new tenant, the reason in its history, the earlier attempt kept', async () => {
    const first = await rolledBack();
    const sales = await client('sally@platform.test', { platform: 'sales' });
    const reason = 'Stripe was down during the signup; retrying for the customer';
    const second = await sales.call<ProvisioningResult>('retryProvisioning', { jobId: first.jobId, attempt: 1, reason });

    expect(second.jobId).toBe(first.jobId);
    expect(second.tenantId).not.toBe(first.tenantId);
    const settled = await settledJob(first.jobId);
    expect([settled.status, settled.attempt, settled.tenantId, settled.requestedBy]).toEqual(['completed', 2, second.tenantId, request.requestedBy]);
    expect(settled.operatorActions).toEqual([expect.objectContaining({ action: 'retryProvisioning', by: sales.uid, reason, tenantId: second.tenantId })]);

    const history = (await db.collection(`tenants/${second.tenantId}/history`).where('cause', '==', 'provisioned').get()).docs.map((d) => d.data());
    expect(history).toEqual([expect.objectContaining({ from: null, actor: sales.uid, reason })]);
    expect((await db.doc(`tenants/${first.tenantId}`).get()).get('status')).toBe('failed');
    expect((await db.doc(`tenants/${second.tenantId}`).get()).get('status')).toBe('trial');
    // The timeline keeps attempt 1 beside attempt 2, each under its own tenant.
    const entries = await timeline(first.jobId);
    expect([...new Set(entries.map((e) => `${e.attempt}:${e.tenantId}`))].sort()).toEqual([`1:${first.tenantId}`, `2:${second.tenantId}`]);
  });

  it('starts one attempt for two clicks, at once or one after the other: the second gets the first one’s result', async () => {
    const first = await rolledBack();
    const sales = await client('sally@platform.test', { platform: 'sales' });
    const colleague = await client('sam@platform.test', { platform: 'super_admin' });
    const input = { jobId: first.jobId, attempt: 1, reason: 'customer asked us to retry' };
    const [a, b] = await Promise.all([sales.call<ProvisioningResult>('retryProvisioning', input), colleague.call<ProvisioningResult>('retryProvisioning', input)]);
    expect(a).toEqual(b);
    await settledJob(first.jobId);
    expect(await sales.call('retryProvisioning', input)).toEqual(a);
    expect(await countDocs('tenants')).toBe(2);
    expect((await job(first.jobId)).attempt).toBe(2);
    expect((await job(first.jobId)).operatorActions.length).toBe(1);
  });

  it('refuses anyone but platform staff, a missing reason, an unknown job and a job that did not roll back, writing nothing', async () => {
    const first = await rolledBack();
    const before = await job(first.jobId);
    const owner = await client('grace-other@cobol.test');
    await rejectsWith(owner.call('retryProvisioning', { jobId: first.jobId, attempt: 1, reason: 'let me in' }), 'permission-denied', /sales|super_admin/);
    await rejectsWith((await client('')).call('retryProvisioning', { jobId: first.jobId, attempt: 1, reason: 'let me in' }), 'unauthenticated');

    const sales = await client('sally@platform.test', { platform: 'sales' });
    const refused = await detailsOf(sales.call('retryProvisioning', { jobId: first.jobId, attempt: 1, reason: '' }));
    expect(refused.code).toBe('functions/invalid-argument');
    expect(refused.details?.fieldErrors).toEqual({ reason: 'at least 3 characters: say why, for the history' });
    await rejectsWith(sales.call('retryProvisioning', { jobId: `job_${'0'.repeat(40)}`, attempt: 1, reason: 'no such job' }), 'not-found');

    expect(await job(first.jobId)).toEqual(before);
    expect(await countDocs('tenants')).toBe(1);

    const done = await provisionTenant(deps, { ...request, idempotencyKey: 'another-signup-key', owner: { ...request.owner } });
    expect(await runProvisioningJob(saga, done.jobId, { backoffMs: 1 })).toBe('completed');
    await rejectsWith(sales.call('retryProvisioning', { jobId: done.jobId, attempt: 1, reason: 'why not' }), 'failed-precondition', /'completed'/);
  });
});

describe('listTenantHistory', () => {
  it('gives platform staff a tenant’s history newest first, with actor and reason; refuses everyone else', async () => {
    const { tenantId } = await rolledBack();
    const sales = await client('sally@platform.test', { platform: 'sales' });
    const superAdmin = await client('root@platform.test', { platform: 'super_admin' });
    for (const staff of [sales, superAdmin]) {
      const { entries } = await staff.call<{ entries: Array<{ from: string | null; to: string; cause: string; actor: string; at: string; reason?: string }> }>(
        'listTenantHistory',
        { tenantId },
      );
      expect(entries.map((e) => [e.from, e.to, e.cause])).toEqual([
        ['provisioning', 'failed', 'provisioning_rolled_back'],
        [null, 'provisioning', 'provisioned'],
      ]);
      expect(entries[0].reason).toBe('injected failure before createStripeSubscription');
      expect(Date.parse(entries[0].at) >= Date.parse(entries[1].at)).toBe(true);
    }
    const { entries } = await sales.call<{ entries: unknown[] }>('listTenantHistory', { tenantId, limit: 1 });
    expect(entries.length).toBe(1);

    await rejectsWith((await client('grace-other@cobol.test')).call('listTenantHistory', { tenantId }), 'permission-denied');
    await rejectsWith((await client('')).call('listTenantHistory', { tenantId }), 'unauthenticated');
    await rejectsWith(sales.call('listTenantHistory', { tenantId: 'no-such-tenant' }), 'not-found');
    const refused = await detailsOf(sales.call('listTenantHistory', { tenantId: 'a/b', limit: 500 }));
    expect(refused.details?.fieldErrors).toEqual({ tenantId: 'a tenant id (letters, digits, _ and -)', limit: 'at most 200' });
  });
});

describe('indexTenantName', () => {
  it('keeps the search fields in step with a rename the owner makes through the rules, and then writes nothing more', async () => {
    const { jobId, tenantId } = await provisionTenant(deps, request);
    expect(await runProvisioningJob(saga, jobId, { backoffMs: 1 })).toBe('completed');
    const tenant = db.doc(`tenants/${tenantId}`);
    expect((await tenant.get()).get('searchKeys')).toContain('cobol');

    const owner = await signedInFirestore('grace@cobol.test', OWNER_PASSWORD);
    await updateDoc(doc(owner.db, 'tenants', tenantId), { name: 'Fortran Works' });
    await owner.close();

    const renamed = await eventually(async () => {
      const snap = await tenant.get();
      return snap.get('nameSort') === 'fortran works' ? snap : null;
    }, 'the search fields to follow the rename');
    expect(renamed.get('searchKeys')).toEqual(expect.arrayContaining(['fortran', 'works', 'fortran w', 'cobol-systems']));
    expect(renamed.get('searchKeys')).not.toContain('cobol systems');
    // Its own write fired the trigger again; that run found nothing to change.
    const settledAt = renamed.updateTime!.toMillis();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect((await tenant.get()).updateTime!.toMillis()).toBe(settledAt);
  });
});

// Issue 9, part 1: a tenant is fully ready or not usable. It opens in `provisioning` (no reads, no
// writes, for its own owner too), and only the saga's ready step opens it, through the one transition
// path with a history entry; a rollback fails it. Real Firestore emulator and rules, real web SDK.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { addDoc, collection, doc, getDoc, serverTimestamp, updateDoc } from 'firebase/firestore';
import { provisionTenant } from '../../functions/src/provisioning/provisionTenant';
import { runProvisioningJob, type SagaOptions } from '../../functions/src/provisioning/saga';
import { expireTrials } from '../../functions/src/lifecycle/sweeps';
import { changeTenantStatus } from '../../functions/src/lifecycle/staffActions';
import { startFakeStripe, type FakeStripe } from '../../tools/fake-stripe/server';
import { scanOrphans } from '../../tools/orphan-scan';
import { signedInFirestore } from '../helpers/clientFirestore';
import { auth, clearEmulators, db, deps } from '../helpers/emulators';

const PASSWORD = 'owner-password-1';
let fake: FakeStripe;
let saga: { db: typeof db; auth: typeof auth; stripe: Stripe };
const fast: SagaOptions = { stepAttempts: 2, backoffMs: 1 };

beforeAll(async () => {
  fake = await startFakeStripe({ port: 0 });
  saga = { db, auth, stripe: new Stripe('sk_test_status', { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false }) };
});
afterAll(async () => fake.close());
beforeEach(async () => {
  await clearEmulators();
  fake.reset();
});

async function selfServeTenant(email = 'ada@acme.test') {
  const owner = await auth.createUser({ email, password: PASSWORD, displayName: 'Ada' });
  const result = await provisionTenant(deps, {
    idempotencyKey: `self_serve:${owner.uid}`,
    source: 'self_serve',
    owner: { uid: owner.uid, email, displayName: 'Ada' },
    companyName: 'Acme Corp',
    plan: 'team',
    requestedBy: owner.uid,
  });
  return { ...result, ownerUid: owner.uid, email };
}

const history = async (tenantId: string) =>
  (await db.collection(`tenants/${tenantId}/history`).orderBy('at').get()).docs
    .map((entry) => entry.data())
    .sort((a, b) => (a.from === null ? -1 : b.from === null ? 1 : 0))
    .map(({ from, to, cause }) => ({ from, to, cause }));

const record = (uid: string) => ({ title: 'Plan', body: 'Written by the owner', createdBy: uid, createdAt: serverTimestamp(), updatedAt: serverTimestamp() });

describe('a tenant opens in provisioning', () => {
  it('is created provisioning, with no provisioningState, and its owner can neither read it nor write records until the saga opens it', async () => {
    const { tenantId, jobId, status, email } = await selfServeTenant();
    expect(status).toBe('provisioning');
    const tenant = (await db.doc(`tenants/${tenantId}`).get()).data()!;
    expect(tenant.status).toBe('provisioning');
    expect(tenant).not.toHaveProperty('provisioningState');
    expect(await history(tenantId)).toEqual([{ from: null, to: 'provisioning', cause: 'provisioned' }]);

    const owner = await signedInFirestore(email, PASSWORD);
    try {
      await expect(getDoc(doc(owner.db, 'tenants', tenantId))).rejects.toMatchObject({ code: 'permission-denied' });
      await expect(addDoc(collection(owner.db, `tenants/${tenantId}/records`), record(owner.uid))).rejects.toMatchObject({ code: 'permission-denied' });
      await expect(updateDoc(doc(owner.db, 'tenants', tenantId), { name: 'Renamed early' })).rejects.toMatchObject({ code: 'permission-denied' });
      // The job is theirs to follow meanwhile, and their membership names it.
      expect((await getDoc(doc(owner.db, 'provisioningJobs', jobId))).get('status')).toBe('pending');
      expect((await getDoc(doc(owner.db, `tenants/${tenantId}/members/${owner.uid}`))).get('provisioningJobId')).toBe(jobId);
      expect((await db.collection(`tenants/${tenantId}/records`).get()).size, 'nothing written by the refused client').toBe(0);

      expect(await runProvisioningJob(saga, jobId, fast)).toBe('completed');
      expect((await getDoc(doc(owner.db, 'tenants', tenantId))).get('status')).toBe('trial');
      await addDoc(collection(owner.db, `tenants/${tenantId}/records`), record(owner.uid));
      expect((await db.collection(`tenants/${tenantId}/records`).get()).size).toBe(4); // 3 samples + theirs
    } finally {
      await owner.close();
    }
    expect(await history(tenantId)).toEqual([
      { from: null, to: 'provisioning', cause: 'provisioned' },
      { from: 'provisioning', to: 'trial', cause: 'opened_trial' },
    ]);
    const opened = (await db.doc(`tenants/${tenantId}`).get()).data()!;
    expect(opened.stripeCustomerId).toMatch(/^cus_/);
    expect(opened.stripeSubscriptionId).toMatch(/^sub_/);
    expect(opened).not.toHaveProperty('provisioningState');
  });

  it('opens a sales tenant whose go-live has come as active, with no trial', async () => {
    const { tenantId, jobId } = await provisionTenant(deps, {
      idempotencyKey: 'sales-live-0001',
      source: 'sales',
      owner: { email: 'cto@big.test', displayName: 'C. T. O.' },
      companyName: 'BigCorp',
      plan: 'enterprise',
      requestedBy: 'staff-1',
    });
    expect((await db.doc(`tenants/${tenantId}`).get()).get('status')).toBe('provisioning');
    expect(await runProvisioningJob(saga, jobId, fast)).toBe('completed');
    const tenant = (await db.doc(`tenants/${tenantId}`).get()).data()!;
    expect([tenant.status, tenant.trialEndsAt]).toEqual(['active', null]);
    expect((await history(tenantId)).at(-1)).toEqual({ from: 'provisioning', to: 'active', cause: 'opened_active' });
  });

  it('a rollback moves it from provisioning to failed, and nothing a client tried to write during the saga is left', async () => {
    const { tenantId, jobId, email } = await selfServeTenant();
    const owner = await signedInFirestore(email, PASSWORD);
    await expect(addDoc(collection(owner.db, `tenants/${tenantId}/records`), record(owner.uid))).rejects.toMatchObject({ code: 'permission-denied' });
    await owner.close();
    expect(await runProvisioningJob(saga, jobId, { ...fast, faults: [{ step: 'seedSampleData', at: 'after', kind: 'fail' }] })).toBe('rolled_back');
    expect((await db.doc(`tenants/${tenantId}`).get()).get('status')).toBe('failed');
    expect(await history(tenantId)).toEqual([
      { from: null, to: 'provisioning', cause: 'provisioned' },
      { from: 'provisioning', to: 'failed', cause: 'provisioning_rolled_back' },
    ]);
    expect((await db.collection(`tenants/${tenantId}/records`).get()).size).toBe(0);
    expect(await scanOrphans(db, fake.state())).toEqual([]);
  });

  it('sweeps and staff actions do not move a tenant that is still provisioning', async () => {
    const { tenantId } = await selfServeTenant();
    const farFuture = new Date(Date.now() + 400 * 86_400_000);
    const swept = await expireTrials(db, farFuture);
    expect(swept.changed).toEqual([]);
    await expect(
      changeTenantStatus({ db, stripe: () => saga.stripe }, { uid: 'staff-1', platformRole: 'super_admin' }, { tenantId, action: 'activate', reason: 'trying to skip setup' }),
    ).rejects.toMatchObject({ code: 'failed-precondition' });
    expect((await db.doc(`tenants/${tenantId}`).get()).get('status')).toBe('provisioning');
    expect(await history(tenantId)).toHaveLength(1);
  });
});

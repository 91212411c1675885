// provisioningJobs: the requester and the owner of the job's tenant follow its progress, in every
// tenant status; staff read all jobs; nobody else reads one, and no client writes one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertFails, assertSucceeds, type RulesTestEnvironment } from '@firebase/rules-unit-testing';
import { collection, doc, getDoc, getDocs, query, setDoc, updateDoc, where, type Firestore } from 'firebase/firestore';
import { canAccess } from '../../functions/src/domain/policy';
import { rulesOnlyProject, rulesTestEnvironment, seed } from '../helpers/rules';

let env: RulesTestEnvironment;
const dbOf = (uid: string, claims: Record<string, unknown> = {}) => env.authenticatedContext(uid, claims).firestore() as unknown as Firestore;
const job = (tenantId: string, requestedBy: string) => ({ idempotencyKey: `key-${tenantId}`, tenantId, requestedBy, status: 'completed', completedSteps: [], error: null });

beforeAll(async () => {
  env = await rulesTestEnvironment(rulesOnlyProject());
  await env.clearFirestore();
  await seed(
    env,
    [
      { tenantId: 'sold', status: 'active', ownerUid: 'customer', members: { customer: 'owner', colleague: 'admin' } },
      { tenantId: 'stuck', status: 'provisioning', ownerUid: 'customer', members: { customer: 'owner' } },
      { tenantId: 'rolled-back', status: 'failed', ownerUid: 'customer', members: { customer: 'owner' } },
      { tenantId: 'other', status: 'active', ownerUid: 'someone', members: { someone: 'owner' } },
    ],
    {
      // Sales-assisted: a salesperson asked, the customer owns the tenant.
      'provisioningJobs/job-sold': job('sold', 'seller'),
      'provisioningJobs/job-stuck': job('stuck', 'seller'),
      'provisioningJobs/job-rolled-back': job('rolled-back', 'seller'),
      'provisioningJobs/job-other': job('other', 'someone'),
      // A job whose tenant was never created (or was removed by the rollback).
      'provisioningJobs/job-orphan': job('never-created', 'seller'),
    },
  );
});

afterAll(async () => {
  await env?.cleanup();
});

describe('provisioningJobs', () => {
  it('the policy grants the requester and the tenant owner single-job reads', () => {
    expect(canAccess({ uid: 'seller' }, 'active', 'provisioningJobs', 'get', { ownDocument: true })).toBe(true);
    expect(canAccess({ uid: 'customer' }, 'active', 'provisioningJobs', 'get', { tenantOwner: true })).toBe(true);
    expect(canAccess({ uid: 'customer' }, 'active', 'provisioningJobs', 'list', { tenantOwner: true })).toBe(false);
    expect(canAccess({ uid: 'colleague', tenantRole: 'admin' }, 'active', 'provisioningJobs', 'get')).toBe(false);
  });

  it('the requester reads their job, even when its tenant does not exist; another user does not', async () => {
    await assertSucceeds(getDoc(doc(dbOf('seller'), 'provisioningJobs/job-sold')));
    await assertSucceeds(getDoc(doc(dbOf('seller'), 'provisioningJobs/job-orphan')));
    await assertFails(getDoc(doc(dbOf('stranger'), 'provisioningJobs/job-orphan')));
    await assertFails(getDoc(doc(dbOf('seller'), 'provisioningJobs/job-other')));
  });

  it('the requester lists their own jobs with requestedBy == me, but not all jobs nor anyone else\'s', async () => {
    const mine = await assertSucceeds(getDocs(query(collection(dbOf('seller'), 'provisioningJobs'), where('requestedBy', '==', 'seller'))));
    expect(mine.size).toBe(4);
    await assertFails(getDocs(collection(dbOf('seller'), 'provisioningJobs')));
    await assertFails(getDocs(query(collection(dbOf('seller'), 'provisioningJobs'), where('requestedBy', '==', 'someone'))));
  });

  it("the tenant's owner reads its job in every status, provisioning and failed included; not another tenant's", async () => {
    for (const jobId of ['job-sold', 'job-stuck', 'job-rolled-back']) {
      await assertSucceeds(getDoc(doc(dbOf('customer'), `provisioningJobs/${jobId}`)));
    }
    await assertFails(getDoc(doc(dbOf('customer'), 'provisioningJobs/job-other')));
    await assertFails(getDoc(doc(dbOf('customer'), 'provisioningJobs/job-orphan')));
  });

  it("an admin of the tenant who is neither requester nor owner cannot read its job", async () => {
    await assertFails(getDoc(doc(dbOf('colleague'), 'provisioningJobs/job-sold')));
    await assertSucceeds(getDoc(doc(dbOf('customer'), 'provisioningJobs/job-sold')));
  });

  it('staff read and list every job; a forged claim value reads nothing', async () => {
    for (const platform of ['sales', 'super_admin']) {
      await assertSucceeds(getDoc(doc(dbOf(`staff-${platform}`, { platform }), 'provisioningJobs/job-orphan')));
      await assertSucceeds(getDocs(collection(dbOf(`staff-${platform}`, { platform }), 'provisioningJobs')));
    }
    await assertFails(getDoc(doc(dbOf('staff-x', { platform: 'support' }), 'provisioningJobs/job-orphan')));
    await assertFails(getDocs(collection(dbOf('staff-y', { platform: true }), 'provisioningJobs')));
  });

  it('no client writes a job: not the requester, the owner, nor staff', async () => {
    for (const [uid, claims] of [['seller', {}], ['customer', {}], ['staff', { platform: 'super_admin' }]] as const) {
      await assertFails(updateDoc(doc(dbOf(uid, claims), 'provisioningJobs/job-sold'), { status: 'failed' }));
      await assertFails(setDoc(doc(dbOf(uid, claims), `provisioningJobs/new-${uid}`), job('sold', uid)));
    }
  });
});

// The team in the rules: memberships, invites and domain claims are written by functions only (the
// seat ledger), every member reads the team per the policy table, and the probes a hostile client
// would try are denied: a membership for someone else, a self-promotion, a removed member reading on.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { assertFails, assertSucceeds, type RulesTestEnvironment } from '@firebase/rules-unit-testing';
import { collection, deleteDoc, doc, getDoc, getDocs, serverTimestamp, setDoc, updateDoc, type Firestore } from 'firebase/firestore';
import { TENANT_ROLES, type TenantRole } from '../../functions/src/domain/status';
import { invite, membership, record, rulesOnlyProject, rulesTestEnvironment, seed } from '../helpers/rules';

let env: RulesTestEnvironment;
const T = 'tenant-team';
const uidOf = (role: TenantRole) => `u-${role}`;
const dbOf = (uid: string) => env.authenticatedContext(uid).firestore() as unknown as Firestore;
const claim = { tenantId: T, domain: 'acme.test', status: 'pending', recordName: '_tenancy-challenge.acme.test', recordValue: 'tenancy-domain-verification=x' };

beforeAll(async () => {
  env = await rulesTestEnvironment(rulesOnlyProject());
  await env.clearFirestore();
  await seed(
    env,
    [
      {
        tenantId: T,
        status: 'active',
        ownerUid: uidOf('owner'),
        members: { ...Object.fromEntries(TENANT_ROLES.map((role) => [uidOf(role), role])), 'u-fired': 'member' },
        docs: { 'records/r1': record(uidOf('member')), 'invites/inv-1': invite('new@acme.test', 'viewer'), 'domains/acme.test': claim },
      },
    ],
    { 'verifiedDomains/acme.test': { tenantId: T, domain: 'acme.test' } },
  );
});

afterAll(async () => {
  await env?.cleanup();
});

describe('memberships: read by every member, written by no client', () => {
  for (const role of TENANT_ROLES) {
    it(`a ${role} lists the team and reads a teammate's membership`, async () => {
      await assertSucceeds(getDocs(collection(dbOf(uidOf(role)), `tenants/${T}/members`)));
      await assertSucceeds(getDoc(doc(dbOf(uidOf(role)), `tenants/${T}/members/${uidOf('viewer')}`)));
    });

    it(`a ${role} cannot create a membership for someone else, nor for themselves elsewhere`, async () => {
      const db = dbOf(uidOf(role));
      await assertFails(setDoc(doc(db, `tenants/${T}/members/u-friend`), { ...membership('u-friend', 'viewer'), joinedAt: serverTimestamp() }));
      await assertFails(setDoc(doc(db, `tenants/${T}/members/u-friend`), { ...membership('u-friend', 'admin'), joinedAt: serverTimestamp() }));
    });

    it(`a ${role} cannot change any role, their own included (no self-promotion)`, async () => {
      const db = dbOf(uidOf(role));
      await assertFails(updateDoc(doc(db, `tenants/${T}/members/${uidOf(role)}`), { role: 'owner' }));
      await assertFails(updateDoc(doc(db, `tenants/${T}/members/${uidOf(role)}`), { role: 'admin' }));
      await assertFails(updateDoc(doc(db, `tenants/${T}/members/${uidOf('viewer')}`), { role: 'member' }));
    });

    it(`a ${role} cannot delete a membership (removal is the removeMember function)`, async () => {
      await assertFails(deleteDoc(doc(dbOf(uidOf(role)), `tenants/${T}/members/${uidOf('viewer')}`)));
    });
  }

  it('someone outside the tenant cannot write themselves in', async () => {
    const db = dbOf('u-stranger');
    await assertFails(setDoc(doc(db, `tenants/${T}/members/u-stranger`), { ...membership('u-stranger', 'viewer'), joinedAt: serverTimestamp() }));
    await assertFails(getDocs(collection(db, `tenants/${T}/members`)));
  });
});

describe('a removed member reads nothing any more', () => {
  it('before: reads records and the team; after the membership is deleted (as removeMember does): denied', async () => {
    const fired = dbOf('u-fired');
    await assertSucceeds(getDoc(doc(fired, `tenants/${T}/records/r1`)));
    await assertSucceeds(getDocs(collection(fired, `tenants/${T}/records`)));
    await env.withSecurityRulesDisabled(async (context) => {
      await deleteDoc(doc(context.firestore() as unknown as Firestore, `tenants/${T}/members/u-fired`));
    });
    await assertFails(getDoc(doc(fired, `tenants/${T}/records/r1`)));
    await assertFails(getDocs(collection(fired, `tenants/${T}/records`)));
    await assertFails(getDocs(collection(fired, `tenants/${T}/members`)));
    await assertFails(getDoc(doc(fired, `tenants/${T}`)));
    await assertFails(setDoc(doc(fired, `tenants/${T}/records/sneaky`), { title: 'x', body: '', createdBy: 'u-fired', createdAt: serverTimestamp(), updatedAt: serverTimestamp() }));
  });
});

describe('invites and domain claims: read by owner and admin, written by no client', () => {
  for (const role of TENANT_ROLES) {
    const reads = role === 'owner' || role === 'admin';
    it(`a ${role} ${reads ? 'reads' : 'does not read'} invites and domain claims, and writes neither`, async () => {
      const db = dbOf(uidOf(role));
      const check = reads ? assertSucceeds : assertFails;
      await check(getDocs(collection(db, `tenants/${T}/invites`)));
      await check(getDoc(doc(db, `tenants/${T}/invites/inv-1`)));
      await check(getDocs(collection(db, `tenants/${T}/domains`)));
      await check(getDoc(doc(db, `tenants/${T}/domains/acme.test`)));
      await assertFails(setDoc(doc(db, `tenants/${T}/invites/mine`), invite('friend@acme.test', 'admin')));
      await assertFails(updateDoc(doc(db, `tenants/${T}/invites/inv-1`), { role: 'admin' }));
      await assertFails(updateDoc(doc(db, `tenants/${T}/invites/inv-1`), { status: 'accepted' }));
      await assertFails(deleteDoc(doc(db, `tenants/${T}/invites/inv-1`)));
      await assertFails(updateDoc(doc(db, `tenants/${T}/domains/acme.test`), { status: 'verified' }));
      await assertFails(setDoc(doc(db, `tenants/${T}/domains/evil.test`), { ...claim, domain: 'evil.test', status: 'verified' }));
      await assertFails(getDoc(doc(db, 'verifiedDomains/acme.test')));
      await assertFails(setDoc(doc(db, 'verifiedDomains/evil.test'), { tenantId: T }));
    });
  }

  it("M4: the invite quotas and address pointers are server-only: no client reads or writes them, and nobody resets the tenant's count", async () => {
    for (const role of ['owner', 'admin'] as const) {
      const db = dbOf(uidOf(role));
      await assertFails(getDoc(doc(db, `tenants/${T}/inviteAddresses/new@acme.test`)));
      await assertFails(setDoc(doc(db, `tenants/${T}/inviteAddresses/x@acme.test`), { inviteId: 'inv-1' }));
      await assertFails(getDoc(doc(db, 'inviteRecipients/new@acme.test')));
      await assertFails(setDoc(doc(db, 'inviteRecipients/new@acme.test'), { day: '2026-12-02', sent: 0 }));
      await assertFails(updateDoc(doc(db, `tenants/${T}`), { inviteMails: { day: '2026-12-02', sent: 0 } }));
      await assertSucceeds(updateDoc(doc(db, `tenants/${T}`), { name: `Renamed again by ${role}` }));
    }
  });

  it('nobody writes the seat ledger from a client: owner and admin may rename, not change seats', async () => {
    for (const role of ['owner', 'admin'] as const) {
      const db = dbOf(uidOf(role));
      await assertFails(updateDoc(doc(db, `tenants/${T}`), { seats: { members: 0, pendingInvites: 0 } }));
      await assertFails(updateDoc(doc(db, `tenants/${T}`), { seatCap: 1000 }));
      await assertSucceeds(updateDoc(doc(db, `tenants/${T}`), { name: `Renamed by ${role}` }));
    }
  });
});

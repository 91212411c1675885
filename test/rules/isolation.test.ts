// Cross-tenant isolation: a member of tenant A, whatever their role there, reaches nothing of tenant B,
// including through queries that name no tenant and collection-group queries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertFails, assertSucceeds, type RulesTestEnvironment } from '@firebase/rules-unit-testing';
import {
  collection,
  collectionGroup,
  deleteDoc,
  doc,
  getDoc,
  getDocs,
  query,
  serverTimestamp,
  setDoc,
  updateDoc,
  where,
  type Firestore,
} from 'firebase/firestore';
import { TENANT_ROLES, type TenantRole } from '../../functions/src/domain/status';
import { invite, membership, record, rulesOnlyProject, rulesTestEnvironment, seed } from '../helpers/rules';

let env: RulesTestEnvironment;
const A = 'tenant-a';
const B = 'tenant-b';
const uidIn = (role: TenantRole) => `a-${role}`;
const dbOf = (uid: string) => env.authenticatedContext(uid).firestore() as unknown as Firestore;

beforeAll(async () => {
  env = await rulesTestEnvironment(rulesOnlyProject());
  await env.clearFirestore();
  await seed(env, [
    {
      tenantId: A,
      status: 'active',
      ownerUid: uidIn('owner'),
      members: Object.fromEntries(TENANT_ROLES.map((role) => [uidIn(role), role])),
      docs: { 'records/a-1': record(uidIn('member')), 'invites/a-inv': invite() },
    },
    {
      tenantId: B,
      status: 'active',
      ownerUid: 'b-owner',
      members: { 'b-owner': 'owner', 'b-member': 'member' },
      docs: { 'records/b-1': record('b-member'), 'invites/b-inv': invite() },
    },
  ]);
});

afterAll(async () => {
  await env?.cleanup();
});

for (const role of TENANT_ROLES) {
  describe(`a ${role} of tenant A`, () => {
    const db = () => dbOf(uidIn(role));
    const newRecord = () => ({ title: 'Sneaky', body: '', createdBy: uidIn(role), createdAt: serverTimestamp(), updatedAt: serverTimestamp() });

    it('reads their own tenant document, but not tenant B', async () => {
      await assertSucceeds(getDoc(doc(db(), `tenants/${A}`)));
      await assertFails(getDoc(doc(db(), `tenants/${B}`)));
    });

    it("reads tenant A's records, but cannot get or list tenant B's", async () => {
      await assertSucceeds(getDoc(doc(db(), `tenants/${A}/records/a-1`)));
      await assertSucceeds(getDocs(collection(db(), `tenants/${A}/records`)));
      await assertFails(getDoc(doc(db(), `tenants/${B}/records/b-1`)));
      await assertFails(getDocs(collection(db(), `tenants/${B}/records`)));
    });

    it("reads tenant A's members, but cannot get or list tenant B's", async () => {
      await assertSucceeds(getDocs(collection(db(), `tenants/${A}/members`)));
      await assertFails(getDoc(doc(db(), `tenants/${B}/members/b-owner`)));
      await assertFails(getDocs(collection(db(), `tenants/${B}/members`)));
    });

    it("cannot get or list tenant B's invites", async () => {
      await assertFails(getDoc(doc(db(), `tenants/${B}/invites/b-inv`)));
      await assertFails(getDocs(collection(db(), `tenants/${B}/invites`)));
    });

    it('cannot create, update or delete records of tenant B', async () => {
      await assertFails(setDoc(doc(db(), `tenants/${B}/records/from-a-${role}`), newRecord()));
      await assertFails(updateDoc(doc(db(), `tenants/${B}/records/b-1`), { title: 'Defaced', updatedAt: serverTimestamp() }));
      await assertFails(deleteDoc(doc(db(), `tenants/${B}/records/b-1`)));
    });

    it('cannot rename tenant B, nor join it by writing a membership, nor remove its members', async () => {
      await assertFails(updateDoc(doc(db(), `tenants/${B}`), { name: 'Taken over' }));
      for (const joinAs of TENANT_ROLES) {
        await assertFails(setDoc(doc(db(), `tenants/${B}/members/${uidIn(role)}`), { ...membership(uidIn(role), joinAs), joinedAt: serverTimestamp() }));
      }
      await assertFails(updateDoc(doc(db(), `tenants/${B}/members/b-member`), { role: 'viewer' }));
      await assertFails(deleteDoc(doc(db(), `tenants/${B}/members/b-member`)));
    });

    it('cannot list the tenants collection, even filtered to tenant B or to their own tenant', async () => {
      await assertFails(getDocs(collection(db(), 'tenants')));
      await assertFails(getDocs(query(collection(db(), 'tenants'), where('slug', '==', 'tenant-b'))));
      await assertFails(getDocs(query(collection(db(), 'tenants'), where('ownerUid', '==', uidIn(role)))));
    });

    it("cannot run collection-group queries over records or invites, not even for A's", async () => {
      await assertFails(getDocs(collectionGroup(db(), 'records')));
      await assertFails(getDocs(query(collectionGroup(db(), 'records'), where('createdBy', '==', 'b-member'))));
      await assertFails(getDocs(query(collectionGroup(db(), 'records'), where('createdBy', '==', uidIn(role)))));
      await assertFails(getDocs(collectionGroup(db(), 'invites')));
    });

    it("finds their own memberships with collectionGroup('members') where uid == me, and nothing wider", async () => {
      const mine = await assertSucceeds(getDocs(query(collectionGroup(db(), 'members'), where('uid', '==', uidIn(role)))));
      expect(mine.docs.map((d) => d.ref.path)).toEqual([`tenants/${A}/members/${uidIn(role)}`]);
      await assertFails(getDocs(collectionGroup(db(), 'members')));
      await assertFails(getDocs(query(collectionGroup(db(), 'members'), where('uid', '==', 'b-owner'))));
      await assertFails(getDocs(query(collectionGroup(db(), 'members'), where('role', '==', 'owner'))));
    });
  });
}

describe('a signed-in user of no tenant', () => {
  it('reads no tenant, member, record or invite, directly or by query', async () => {
    const db = dbOf('stranger');
    await assertFails(getDoc(doc(db, `tenants/${B}`)));
    await assertFails(getDocs(collection(db, 'tenants')));
    await assertFails(getDocs(collection(db, `tenants/${B}/records`)));
    await assertFails(getDocs(collectionGroup(db, 'records')));
    await assertFails(getDocs(collectionGroup(db, 'members')));
    await assertFails(getDocs(collectionGroup(db, 'invites')));
    // Beside the denials: their own (empty) membership lookup is allowed.
    const none = await assertSucceeds(getDocs(query(collectionGroup(db, 'members'), where('uid', '==', 'stranger'))));
    expect(none.size).toBe(0);
  });
});

// What clients may write inside documents they can reach: the tenant's server-owned fields (only a
// rename is theirs), the shape of records, and that no client writes a membership or a role.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertFails, assertSucceeds, type RulesTestEnvironment } from '@firebase/rules-unit-testing';
import { collection, deleteDoc, deleteField, doc, getDocs, serverTimestamp, setDoc, Timestamp, updateDoc, type Firestore } from 'firebase/firestore';
import { canAccess, TENANT_CLIENT_FIELDS, type Principal } from '../../functions/src/domain/policy';
import type { NewTenant } from '../../functions/src/domain/provisioning';
import { PLATFORM_ROLES, TENANT_ROLES, type TenantRole } from '../../functions/src/domain/status';
import { membership, record, rulesOnlyProject, rulesTestEnvironment, seed, tenantFixture } from '../helpers/rules';

let env: RulesTestEnvironment;
const T = 'tenant-fields';
const dbOf = (p: Principal) =>
  (p.uid === null ? env.unauthenticatedContext() : env.authenticatedContext(p.uid, p.platformRole ? { platform: p.platformRole } : {})).firestore() as unknown as Firestore;

const ROLE_PRINCIPALS = TENANT_ROLES.map((role) => ({ name: role, uid: `u-${role}`, tenantRole: role }) as const);
const STAFF_PRINCIPALS = PLATFORM_ROLES.map((role) => ({ name: role, uid: `u-${role}`, platformRole: role }) as const);

beforeAll(async () => {
  env = await rulesTestEnvironment(rulesOnlyProject());
  await env.clearFirestore();
  await seed(env, [
    {
      tenantId: T,
      status: 'active',
      members: { ...Object.fromEntries(TENANT_ROLES.map((role) => [`u-${role}`, role])), 'u-member2': 'member' },
      docs: { 'records/by-member': record('u-member'), 'records/by-member2': record('u-member2') },
    },
  ]);
});

afterAll(async () => {
  await env?.cleanup();
});

describe('tenant document: server-owned fields', () => {
  const later = Timestamp.fromDate(new Date('2027-06-01T00:00:00Z'));
  // A changed value for every field of the tenant but the client's; typed so a new NewTenant field must be listed.
  const ATTACKS: Record<Exclude<keyof NewTenant, (typeof TENANT_CLIENT_FIELDS)[number]>, unknown> = {
    slug: 'taken-over',
    plan: 'enterprise',
    status: 'trial',
    seatCap: 10_000,
    pendingInviteLimit: 10_000,
    seats: { members: 0, pendingInvites: 0 },
    trialEndsAt: later,
    goLiveAt: later,
    daysUntilDue: 365,
    ownerUid: 'u-admin',
    source: 'sales',
    stripeCustomerId: 'cus_attacker',
    stripeSubscriptionId: 'sub_attacker',
    billingEmail: 'attacker@evil.test',
    failedPaymentRetries: 0.5,
    provisioningJobId: 'job-other',
    ownerEmailVerified: false,
    // The admin console's search fields: a client could hide a tenant from staff search, or plant it under another name.
    searchKeys: ['someone-else'],
    nameSort: 'aaa',
    createdAt: later,
    updatedAt: later,
  };

  it('covers every server-owned field of the contract', () => {
    const required = [
      'status', 'plan', 'seatCap', 'trialEndsAt', 'goLiveAt', 'ownerUid', 'source', 'billingEmail', 'failedPaymentRetries',
      'stripeCustomerId', 'stripeSubscriptionId', 'pendingInviteLimit', 'provisioningJobId', 'slug', 'createdAt',
      'ownerEmailVerified', 'seats',
    ];
    const attacked = Object.keys(ATTACKS);
    for (const field of required) expect(attacked.includes(field), field).toBeTruthy();
    expect(new Set([...attacked, ...TENANT_CLIENT_FIELDS])).toEqual(new Set(Object.keys(tenantFixture(T))));
  });

  for (const principal of [...ROLE_PRINCIPALS, ...STAFF_PRINCIPALS]) {
    for (const [field, value] of Object.entries(ATTACKS)) {
      it(`${principal.name} may not change ${field}`, async () => {
        await assertFails(updateDoc(doc(dbOf(principal), `tenants/${T}`), { [field]: value }));
      });
    }
    const mayRename = canAccess(principal, 'active', 'tenant', 'update');
    it(`${principal.name} ${mayRename ? 'may' : 'may not'} rename the tenant`, async () => {
      const rename = updateDoc(doc(dbOf(principal), `tenants/${T}`), { name: `Renamed by ${principal.name}` });
      if (mayRename) await assertSucceeds(rename);
      else await assertFails(rename);
    });
    it(`${principal.name} may not change status together with the name`, async () => {
      await assertFails(updateDoc(doc(dbOf(principal), `tenants/${T}`), { name: 'Renamed again', status: 'active', plan: 'enterprise' }));
    });
  }

  it('the owner may not delete the name or add a field', async () => {
    const db = dbOf(ROLE_PRINCIPALS[0]);
    await assertFails(updateDoc(doc(db, `tenants/${T}`), { name: deleteField() }));
    await assertFails(updateDoc(doc(db, `tenants/${T}`), { discount: 100 }));
    // The lifecycle's own fields, written by the webhook and staff actions only: no client lifts a hold.
    await assertFails(updateDoc(doc(db, `tenants/${T}`), { staffHold: false }));
    await assertFails(updateDoc(doc(db, `tenants/${T}`), { cancelAt: null }));
    await assertSucceeds(updateDoc(doc(db, `tenants/${T}`), { name: 'Acme Corp' }));
  });

  for (const [label, name] of [
    ['1 character', 'A'],
    ['101 characters', 'A'.repeat(101)],
    ['blank', '  '],
    ['surrounded by spaces', ' Acme '],
    ['a number', 42],
  ] as const) {
    it(`a name that is ${label} is refused; 2 and 100 characters are allowed`, async () => {
      const db = dbOf(ROLE_PRINCIPALS[1]);
      await assertFails(updateDoc(doc(db, `tenants/${T}`), { name }));
      await assertSucceeds(updateDoc(doc(db, `tenants/${T}`), { name: 'AB' }));
      await assertSucceeds(updateDoc(doc(db, `tenants/${T}`), { name: 'A'.repeat(100) }));
    });
  }

  it('no role may create or delete a tenant', async () => {
    for (const principal of [...ROLE_PRINCIPALS, ...STAFF_PRINCIPALS]) {
      await assertFails(setDoc(doc(dbOf(principal), `tenants/new-by-${principal.name}`), tenantFixture('new')));
      await assertFails(deleteDoc(doc(dbOf(principal), `tenants/${T}`)));
    }
  });
});

describe('records: validated documents', () => {
  const member = ROLE_PRINCIPALS.find((p) => p.name === 'member')!;
  const manager = ROLE_PRINCIPALS.find((p) => p.name === 'manager')!;
  let n = 0;
  const newPath = () => `tenants/${T}/records/r-${++n}`;
  const good = (createdBy = 'u-member') => ({ title: 'Title', body: 'Body', createdBy, createdAt: serverTimestamp(), updatedAt: serverTimestamp() });

  it('a member creates a valid record of their own, with titles of 1 and 200 and a body of 10000 characters', async () => {
    await assertSucceeds(setDoc(doc(dbOf(member), newPath()), good()));
    await assertSucceeds(setDoc(doc(dbOf(member), newPath()), { ...good(), title: 'T' }));
    await assertSucceeds(setDoc(doc(dbOf(member), newPath()), { ...good(), title: 'T'.repeat(200), body: 'b'.repeat(10_000) }));
    await assertSucceeds(setDoc(doc(dbOf(member), newPath()), { ...good(), body: '' }));
  });

  const { title: _t, ...noTitle } = good();
  const { body: _b, ...noBody } = good();
  const { updatedAt: _u, ...noUpdatedAt } = good();
  const BAD: Array<[string, Record<string, unknown>]> = [
    ['without a title', noTitle],
    ['with an empty title', { ...good(), title: '' }],
    ['with a 201-character title', { ...good(), title: 'T'.repeat(201) }],
    ['with a title that is not a string', { ...good(), title: 7 }],
    ['without a body', noBody],
    ['with a 10001-character body', { ...good(), body: 'b'.repeat(10_001) }],
    ['with a body that is not a string', { ...good(), body: ['x'] }],
    ['with another key', { ...good(), priority: 1 }],
    ["with someone else's uid as createdBy", good('u-member2')],
    ['with createdAt set by the client clock', { ...good(), createdAt: Timestamp.fromDate(new Date('2020-01-01T00:00:00Z')) }],
    ['with createdAt that is not a timestamp', { ...good(), createdAt: 'yesterday' }],
    ['without updatedAt', noUpdatedAt],
  ];
  for (const [label, data] of BAD) {
    it(`a record ${label} is refused, a valid one beside it is allowed`, async () => {
      await assertFails(setDoc(doc(dbOf(member), newPath()), data));
      await assertSucceeds(setDoc(doc(dbOf(member), newPath()), good()));
    });
  }

  it('a member updates their own record, not one by another member', async () => {
    await assertSucceeds(updateDoc(doc(dbOf(member), `tenants/${T}/records/by-member`), { title: 'Mine', updatedAt: serverTimestamp() }));
    await assertFails(updateDoc(doc(dbOf(member), `tenants/${T}/records/by-member2`), { title: 'Theirs', updatedAt: serverTimestamp() }));
  });

  it('a manager updates a record by someone else; createdBy and createdAt stay as they were', async () => {
    const path = `tenants/${T}/records/by-member2`;
    await assertSucceeds(updateDoc(doc(dbOf(manager), path), { title: 'Edited', updatedAt: serverTimestamp() }));
    await assertFails(updateDoc(doc(dbOf(manager), path), { createdBy: 'u-manager', updatedAt: serverTimestamp() }));
    await assertFails(updateDoc(doc(dbOf(manager), path), { createdAt: serverTimestamp(), updatedAt: serverTimestamp() }));
  });

  it('an update must set updatedAt to the request time, and may not add keys or break the shape', async () => {
    const path = `tenants/${T}/records/by-member`;
    await assertFails(updateDoc(doc(dbOf(member), path), { title: 'No time' }));
    await assertFails(updateDoc(doc(dbOf(member), path), { title: 'Old time', updatedAt: Timestamp.fromDate(new Date('2020-01-01T00:00:00Z')) }));
    await assertFails(updateDoc(doc(dbOf(member), path), { extra: true, updatedAt: serverTimestamp() }));
    await assertFails(updateDoc(doc(dbOf(member), path), { title: '', updatedAt: serverTimestamp() }));
    await assertSucceeds(updateDoc(doc(dbOf(member), path), { title: 'Fine', updatedAt: serverTimestamp() }));
  });

  it('a member may not delete even their own record; a manager may delete any', async () => {
    await assertFails(deleteDoc(doc(dbOf(member), `tenants/${T}/records/by-member`)));
    await assertSucceeds(deleteDoc(doc(dbOf(manager), `tenants/${T}/records/by-member`)));
  });
});

describe('memberships: no client writes them (the team functions do, with the seat ledger)', () => {
  const OTHER: Record<Exclude<TenantRole, 'owner'>, string> = { admin: 'o-admin', manager: 'o-manager', member: 'o-member', viewer: 'o-viewer' };
  const SEEDED: Record<string, TenantRole> = Object.fromEntries([
    ...TENANT_ROLES.map((role) => [`u-${role}`, role] as const),
    ...(Object.entries(OTHER) as Array<[TenantRole, string]>).map(([role, uid]) => [uid, role] as const),
  ]);
  beforeAll(async () => {
    await seed(env, [{ tenantId: T, status: 'active', members: SEEDED }]);
  });

  it('the policy table grants no role a write to members', () => {
    for (const actor of ROLE_PRINCIPALS) {
      for (const operation of ['create', 'update', 'delete'] as const) expect(canAccess(actor, 'active', 'members', operation)).toBe(false);
    }
  });

  for (const actor of ROLE_PRINCIPALS) {
    const targets = [
      { label: 'their own role', uid: actor.uid },
      { label: "the owner's role", uid: 'u-owner' },
      ...Object.entries(OTHER).map(([role, uid]) => ({ label: `another ${role}'s role`, uid })),
    ].filter((t, i, all) => all.findIndex((u) => u.uid === t.uid) === i);
    for (const target of targets) {
      for (const newRole of TENANT_ROLES) {
        it(`${actor.name} may not change ${target.label} (${SEEDED[target.uid]}) to ${newRole}`, async () => {
          await assertFails(updateDoc(doc(dbOf(actor), `tenants/${T}/members/${target.uid}`), { role: newRole }));
        });
      }
    }
    for (const target of [{ label: "the owner's membership", uid: 'u-owner' }, { label: "a viewer's membership", uid: OTHER.viewer }, { label: 'their own membership', uid: actor.uid }]) {
      it(`${actor.name} may not delete ${target.label}`, async () => {
        await assertFails(deleteDoc(doc(dbOf(actor), `tenants/${T}/members/${target.uid}`)));
      });
    }
  }

  const outsider = { name: 'signed-in non-member', uid: 'u-outsider', tenantRole: null };
  for (const actor of [...ROLE_PRINCIPALS, outsider]) {
    for (const newRole of TENANT_ROLES) {
      it(`${actor.name} may not create a membership with role ${newRole}, for someone else or for themselves`, async () => {
        const uid = `n-${actor.name.replace(/\W+/g, '-')}-${newRole}`;
        await assertFails(setDoc(doc(dbOf(actor), `tenants/${T}/members/${uid}`), { ...membership(uid, newRole), joinedAt: serverTimestamp() }));
        await assertFails(setDoc(doc(dbOf(actor), `tenants/${T}/members/${actor.uid}`), { ...membership(actor.uid, newRole), joinedAt: serverTimestamp() }));
      });
    }
  }

  it('every member still reads the team', async () => {
    for (const actor of ROLE_PRINCIPALS) await assertSucceeds(getDocs(collection(dbOf(actor), `tenants/${T}/members`)));
  });
});

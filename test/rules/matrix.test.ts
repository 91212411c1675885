// Every principal x tenant status x collection x operation, expected allow or deny computed by
// canAccess of functions/src/domain/policy.ts (never re-derived here), asserted on the real rules engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertFails, assertSucceeds, type RulesTestEnvironment } from '@firebase/rules-unit-testing';
import {
  collection,
  deleteDoc,
  doc,
  getDoc,
  getDocs,
  serverTimestamp,
  setDoc,
  updateDoc,
  type Firestore,
} from 'firebase/firestore';
import {
  canAccess,
  OPERATIONS,
  POLICY_COLLECTIONS,
  type Operation,
  type PolicyCollection,
  type Principal,
} from '../../functions/src/domain/policy';
import { PLATFORM_ROLES, TENANT_ROLES, TENANT_STATUSES, type TenantStatus } from '../../functions/src/domain/status';
import { invite, membership, record, rulesOnlyProject, rulesTestEnvironment, seed, type SeedTenant } from '../helpers/rules';

interface MatrixPrincipal extends Principal {
  name: string;
}

const PRINCIPALS: MatrixPrincipal[] = [
  { name: 'unauthenticated', uid: null },
  { name: 'signed-in non-member', uid: 'u-outsider' },
  ...TENANT_ROLES.map((role) => ({ name: role, uid: `u-${role}`, tenantRole: role })),
  ...PLATFORM_ROLES.map((role) => ({ name: role, uid: `u-${role}`, platformRole: role })),
];

/** Every status; past_due twice, since its writes stop at the first failed payment retry. */
interface TenantState {
  name: string;
  status: TenantStatus;
  failedPaymentRetries: number;
}
const STATES: TenantState[] = TENANT_STATUSES.flatMap((status): TenantState[] =>
  status === 'past_due'
    ? [
        { name: 'past_due (no failed retry)', status, failedPaymentRetries: 0 },
        { name: 'past_due (1 failed retry)', status, failedPaymentRetries: 1 },
      ]
    : [{ name: status, status, failedPaymentRetries: 0 }],
);

const tenantIdOf = (state: TenantState) => `t-${state.status}-${state.failedPaymentRetries}`;
const authorOf = (p: MatrixPrincipal) => p.uid ?? 'anonymous';
/** Per-principal documents that a delete case removes, so deletes never change what other cases see. */
const deletable = (p: MatrixPrincipal) => `del-${p.name.replace(/[^a-z_-]+/g, '-')}`;
const OWNER_UID = 'u-owner';
/** A domain claim as claimDomain stores it. */
const domainClaim = (domain: string) => ({ domain, status: 'pending', recordName: `_tenancy-challenge.${domain}`, recordValue: 'tenancy-domain-verification=x' });

interface Case {
  principal: MatrixPrincipal;
  state: TenantState;
  collection: PolicyCollection;
  operation: Operation;
  expected: boolean;
}

/** What each case does, and the context canAccess needs to know about its target document. */
const TARGET_IS_OWN: Record<PolicyCollection, Partial<Record<Operation, boolean>>> = {
  tenant: {},
  members: {},
  invites: {},
  domains: {},
  // Writes go to the caller's own records (create sets createdBy to the caller); reads to someone else's.
  records: { create: true, update: true, delete: true },
  // Jobs are requested by 'u-requester', a uid no matrix principal has (the requester path has its own test).
  provisioningJobs: {},
  mail: {},
};

const CASES: Case[] = [];
for (const state of STATES) {
  for (const principal of PRINCIPALS) {
    for (const collectionName of POLICY_COLLECTIONS) {
      for (const operation of OPERATIONS) {
        const expected = canAccess(principal, state.status, collectionName, operation, {
          failedPaymentRetries: state.failedPaymentRetries,
          ownDocument: TARGET_IS_OWN[collectionName][operation] === true,
          tenantOwner: principal.uid === OWNER_UID,
        });
        CASES.push({ principal, state, collection: collectionName, operation, expected });
      }
    }
  }
}

let sequence = 0;
const fresh = () => `new-${++sequence}`;

function perform(db: Firestore, c: Case): Promise<unknown> {
  const tenant = `tenants/${tenantIdOf(c.state)}`;
  const mine = deletable(c.principal);
  const author = authorOf(c.principal);
  const newId = fresh();
  const byOperation = (paths: { one: string; all: string; update: Record<string, unknown>; create: Record<string, unknown>; remove: string }) => {
    switch (c.operation) {
      case 'get':
        return getDoc(doc(db, paths.one));
      case 'list':
        return getDocs(collection(db, paths.all));
      case 'create':
        return setDoc(doc(db, `${paths.all}/${newId}`), paths.create);
      case 'update':
        return updateDoc(doc(db, paths.one), paths.update);
      case 'delete':
        return deleteDoc(doc(db, paths.remove));
    }
  };
  switch (c.collection) {
    case 'tenant':
      return byOperation({ one: tenant, all: 'tenants', create: { name: 'New tenant', status: 'active' }, update: { name: `Renamed ${sequence++}` }, remove: tenant });
    case 'members':
      return byOperation({
        one: `${tenant}/members/u-subject`,
        all: `${tenant}/members`,
        // Alternates a non-owner's role: no rule depends on which of the two it holds.
        update: { role: sequence++ % 2 ? 'member' : 'viewer' },
        create: { ...membership(newId, 'viewer'), joinedAt: serverTimestamp() },
        remove: `${tenant}/members/${mine}`,
      });
    case 'invites':
      return byOperation({
        one: `${tenant}/invites/inv-1`,
        all: `${tenant}/invites`,
        update: { status: 'revoked' },
        create: invite('someone@acme.test'),
        remove: `${tenant}/invites/${mine}`,
      });
    case 'domains':
      return byOperation({
        one: `${tenant}/domains/acme.test`,
        all: `${tenant}/domains`,
        update: { status: 'verified' },
        create: domainClaim('new.test'),
        remove: `${tenant}/domains/${mine}.test`,
      });
    case 'records':
      if (c.operation === 'update') {
        return updateDoc(doc(db, `${tenant}/records/own-${mine}`), { title: `Edited ${sequence++}`, updatedAt: serverTimestamp() });
      }
      return byOperation({
        one: `${tenant}/records/shared`,
        all: `${tenant}/records`,
        update: {},
        create: { title: 'New', body: '', createdBy: author, createdAt: serverTimestamp(), updatedAt: serverTimestamp() },
        remove: `${tenant}/records/${mine}`,
      });
    case 'provisioningJobs':
      return byOperation({
        one: `provisioningJobs/job-${tenantIdOf(c.state)}`,
        all: 'provisioningJobs',
        update: { status: 'completed' },
        create: { tenantId: tenantIdOf(c.state), requestedBy: author, status: 'pending' },
        remove: `provisioningJobs/job-${tenantIdOf(c.state)}-${mine}`,
      });
    case 'mail':
      return byOperation({
        one: 'mail/m-1',
        all: 'mail',
        update: { to: 'x@acme.test' },
        create: { to: 'x@acme.test', message: { subject: 'Hi', text: 'Hi' } },
        remove: `mail/${tenantIdOf(c.state)}-${mine}`,
      });
  }
}

let env: RulesTestEnvironment;
const dbs = new Map<string, Firestore>();
const contextOf = (p: MatrixPrincipal) =>
  p.uid === null ? env.unauthenticatedContext() : env.authenticatedContext(p.uid, p.platformRole ? { platform: p.platformRole } : {});
let ran = 0;

beforeAll(async () => {
  env = await rulesTestEnvironment(rulesOnlyProject());
  await env.clearFirestore();
  const tenants: SeedTenant[] = [];
  const topLevel: Record<string, Record<string, unknown>> = { 'mail/m-1': { to: 'a@acme.test', message: { subject: 'Hi', text: 'Hi' } } };
  for (const state of STATES) {
    const tenantId = tenantIdOf(state);
    const docs: Record<string, Record<string, unknown>> = { 'invites/inv-1': invite(), 'domains/acme.test': domainClaim('acme.test'), 'records/shared': record('u-author') };
    for (const p of PRINCIPALS) {
      const mine = deletable(p);
      docs[`members/${mine}`] = membership(mine, 'viewer');
      docs[`invites/${mine}`] = invite(`${mine}@acme.test`);
      docs[`domains/${mine}.test`] = domainClaim(`${mine}.test`);
      docs[`records/${mine}`] = record(authorOf(p));
      docs[`records/own-${mine}`] = record(authorOf(p));
      topLevel[`provisioningJobs/job-${tenantId}-${mine}`] = { tenantId, requestedBy: 'u-requester', status: 'completed' };
      topLevel[`mail/${tenantId}-${mine}`] = { to: 'a@acme.test', message: { subject: 'Hi', text: 'Hi' } };
    }
    topLevel[`provisioningJobs/job-${tenantId}`] = { tenantId, requestedBy: 'u-requester', status: 'completed' };
    tenants.push({
      tenantId,
      status: state.status,
      failedPaymentRetries: state.failedPaymentRetries,
      ownerUid: OWNER_UID,
      members: { ...Object.fromEntries(TENANT_ROLES.map((role) => [`u-${role}`, role])), 'u-subject': 'member' },
      docs,
    });
  }
  await seed(env, tenants, topLevel);
  for (const p of PRINCIPALS) dbs.set(p.name, contextOf(p).firestore() as unknown as Firestore);
});

afterAll(async () => {
  await env?.cleanup();
});

describe('the matrix is complete', () => {
  it('has one case per principal x tenant status x collection x operation', () => {
    const expectedCount = PRINCIPALS.length * STATES.length * POLICY_COLLECTIONS.length * OPERATIONS.length;
    console.log(
      `rules matrix: ${CASES.length} cases = ${PRINCIPALS.length} principals x ${STATES.length} tenant states ` +
        `(${TENANT_STATUSES.length} statuses, past_due with and without a failed retry) x ${POLICY_COLLECTIONS.length} collections x ${OPERATIONS.length} operations; ` +
        `${CASES.filter((c) => c.expected).length} allowed, ${CASES.filter((c) => !c.expected).length} denied`,
    );
    expect(CASES.length).toBe(expectedCount);
    expect(new Set(CASES.map((c) => `${c.principal.name}|${c.state.name}|${c.collection}|${c.operation}`)).size).toBe(expectedCount);
    expect(new Set(STATES.map((s) => s.status))).toEqual(new Set(TENANT_STATUSES));
  });

  it('every collection and operation that is allowed somewhere is also denied somewhere', () => {
    for (const collectionName of POLICY_COLLECTIONS) {
      for (const operation of OPERATIONS) {
        const outcomes = new Set(CASES.filter((c) => c.collection === collectionName && c.operation === operation).map((c) => c.expected));
        if (outcomes.has(true)) expect(outcomes.has(false), `${collectionName}.${operation} is allowed to everyone`).toBeTruthy();
      }
    }
  });
});

// One batch per tenant state and principal: its cases go to the emulator at once from the principal's
// client (the cases touch disjoint documents, so their order does not matter), and each case is still
// its own named test, asserting the outcome its batch recorded.
async function runBatch(principal: MatrixPrincipal, cases: Case[]): Promise<Map<Case, PromiseSettledResult<unknown>>> {
  const db = dbs.get(principal.name)!;
  const run = (c: Case) => (c.expected ? assertSucceeds(perform(db, c)) : assertFails(perform(db, c)));
  const settled = await Promise.allSettled(cases.map(run));
  // The emulator's rules engine now and then denies one of many concurrent writes (seen on record
  // creates): a case whose batch outcome is wrong runs once more alone, and only that answer counts.
  // A rule that is really wrong gives the same wrong outcome alone, so no failure is hidden.
  for (const [i, c] of cases.entries()) {
    if (settled[i].status === 'rejected') [settled[i]] = await Promise.allSettled([run(c)]);
  }
  return new Map(cases.map((c, i) => [c, settled[i]]));
}

for (const state of STATES) {
  describe(`tenant ${state.name}`, () => {
    const outcomes = new Map<Case, PromiseSettledResult<unknown>>();
    beforeAll(async () => {
      const batches = await Promise.all(PRINCIPALS.map((p) => runBatch(p, CASES.filter((x) => x.state === state && x.principal === p))));
      for (const batch of batches) for (const [c, outcome] of batch) outcomes.set(c, outcome);
    });
    for (const c of CASES.filter((x) => x.state === state)) {
      it(`${c.principal.name} ${c.expected ? 'may' : 'may not'} ${c.operation} ${c.collection}`, () => {
        const outcome = outcomes.get(c);
        expect(outcome, 'the batch ran this case').toBeDefined();
        if (outcome!.status === 'rejected') throw outcome!.reason;
        ran++;
      });
    }
  });
}

describe('the matrix ran', () => {
  it('ran every case', () => {
    expect(ran).toBe(CASES.length);
  });
});

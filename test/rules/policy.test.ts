// The policy table says what CONTRACT.md says: the access-by-status table, staff and role rights.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ASSIGNABLE_ROLES,
  canAccess,
  membershipChangeAllowed,
  OPERATIONS,
  POLICY_COLLECTIONS,
  type Principal,
} from '../../functions/src/domain/policy';
import { TENANT_ROLES, TENANT_STATUSES, type TenantRole } from '../../functions/src/domain/status';

const as = (role: TenantRole): Principal => ({ uid: `u-${role}`, tenantRole: role });
const sales: Principal = { uid: 'u-sales', platformRole: 'sales' };
const superAdmin: Principal = { uid: 'u-super', platformRole: 'super_admin' };

describe('policy: access by tenant status', () => {
  it('trial and active: a member reads records and writes their own; past_due writes stop at the first failed retry', () => {
    for (const status of ['trial', 'active'] as const) {
      assert.equal(canAccess(as('member'), status, 'records', 'list'), true);
      assert.equal(canAccess(as('member'), status, 'records', 'create', { ownDocument: true }), true);
    }
    assert.equal(canAccess(as('member'), 'past_due', 'records', 'create', { ownDocument: true, failedPaymentRetries: 0 }), true);
    assert.equal(canAccess(as('member'), 'past_due', 'records', 'create', { ownDocument: true, failedPaymentRetries: 1 }), false);
    assert.equal(canAccess(as('member'), 'past_due', 'records', 'get', { failedPaymentRetries: 3 }), true);
  });

  it('trial_expired: reads by role, every write blocked, the rename included', () => {
    assert.equal(canAccess(as('viewer'), 'trial_expired', 'records', 'get'), true);
    for (const role of TENANT_ROLES) {
      for (const operation of ['create', 'update', 'delete'] as const) {
        assert.equal(canAccess(as(role), 'trial_expired', 'records', operation, { ownDocument: true }), false);
      }
    }
    assert.equal(canAccess(as('owner'), 'trial_expired', 'tenant', 'update'), false);
    assert.equal(canAccess(as('owner'), 'active', 'tenant', 'update'), true);
  });

  it("suspended and cancelled: only the owner's view of the tenant document is left", () => {
    for (const status of ['suspended', 'cancelled'] as const) {
      assert.equal(canAccess(as('owner'), status, 'tenant', 'get'), true);
      assert.equal(canAccess(as('admin'), status, 'tenant', 'get'), false);
      assert.equal(canAccess(as('owner'), status, 'records', 'get'), false);
      assert.equal(canAccess(as('owner'), status, 'members', 'list'), false);
      assert.equal(canAccess(as('owner'), status, 'tenant', 'update'), false);
    }
  });

  it('provisioning and failed: members reach nothing, the tenant document included; staff still read it', () => {
    for (const status of ['provisioning', 'failed'] as const) {
      for (const role of TENANT_ROLES) {
        for (const collection of POLICY_COLLECTIONS) {
          // Own records included; their own membership (collection-group lookup) is the one exception, below.
          const context = { ownDocument: collection === 'records' };
          for (const operation of OPERATIONS) assert.equal(canAccess(as(role), status, collection, operation, context), false);
        }
      }
      assert.equal(canAccess(sales, status, 'tenant', 'get'), true);
    }
  });

  it('a member reads their own membership in every status, through the collection-group lookup', () => {
    for (const status of TENANT_STATUSES) {
      assert.equal(canAccess({ uid: 'u-x', tenantRole: 'viewer' }, status, 'members', 'get', { ownDocument: true }), true);
      assert.equal(canAccess({ uid: 'u-x', tenantRole: 'viewer' }, 'failed', 'members', 'get', { ownDocument: false }), false);
    }
  });
});

describe('policy: principals', () => {
  it("sales reads tenants and jobs but no tenant's records, members or invites; super_admin reads them all", () => {
    assert.equal(canAccess(sales, 'active', 'tenant', 'list'), true);
    assert.equal(canAccess(sales, 'active', 'provisioningJobs', 'get'), true);
    for (const collection of ['records', 'members', 'invites'] as const) {
      assert.equal(canAccess(sales, 'active', collection, 'get'), false);
      assert.equal(canAccess(superAdmin, 'suspended', collection, 'list'), true);
    }
  });

  it('staff, the unauthenticated and everyone on mail: never a write; the unauthenticated: nothing at all', () => {
    for (const status of TENANT_STATUSES) {
      for (const collection of POLICY_COLLECTIONS) {
        for (const operation of OPERATIONS) {
          assert.equal(canAccess({ uid: null }, status, collection, operation, { ownDocument: true }), false);
          if (!['get', 'list'].includes(operation)) {
            assert.equal(canAccess(sales, status, collection, operation), false);
            assert.equal(canAccess(superAdmin, status, collection, operation), false);
          }
        }
        for (const role of TENANT_ROLES) assert.equal(canAccess(as(role), 'active', 'mail', 'get'), false);
      }
    }
  });

  it('records: a member writes only their own, a viewer writes nothing, a manager deletes', () => {
    assert.equal(canAccess(as('member'), 'active', 'records', 'update', { ownDocument: false }), false);
    assert.equal(canAccess(as('member'), 'active', 'records', 'update', { ownDocument: true }), true);
    assert.equal(canAccess(as('member'), 'active', 'records', 'delete', { ownDocument: true }), false);
    assert.equal(canAccess(as('viewer'), 'active', 'records', 'create', { ownDocument: true }), false);
    assert.equal(canAccess(as('manager'), 'active', 'records', 'delete'), true);
  });

  it("nobody gives the owner role or touches the owner's membership; an admin may demote themselves, not raise", () => {
    for (const role of TENANT_ROLES) assert.ok(!ASSIGNABLE_ROLES[role].includes('owner'));
    const admin = { uid: 'a', role: 'admin' as const };
    assert.equal(membershipChangeAllowed(admin, { uid: 'o', role: 'owner' }, 'admin'), false);
    assert.equal(membershipChangeAllowed(admin, { uid: 'o', role: 'owner' }, null), false);
    assert.equal(membershipChangeAllowed(admin, { uid: 'm', role: 'member' }, 'owner'), false);
    assert.equal(membershipChangeAllowed(admin, { uid: 'a', role: 'admin' }, 'manager'), true);
    assert.equal(membershipChangeAllowed({ uid: 'v', role: 'viewer' }, { uid: 'v', role: 'viewer' }, 'member'), false);
    assert.equal(membershipChangeAllowed(admin, { uid: 'm', role: 'member' }, 'admin'), true);
  });
});

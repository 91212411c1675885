// The policy table says what CONTRACT.md says: the access-by-status table, staff and role rights.
import { describe, expect, it } from 'vitest';
import {
  ASSIGNABLE_ROLES,
  canAccess,
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
      expect(canAccess(as('member'), status, 'records', 'list')).toBe(true);
      expect(canAccess(as('member'), status, 'records', 'create', { ownDocument: true })).toBe(true);
    }
    expect(canAccess(as('member'), 'past_due', 'records', 'create', { ownDocument: true, failedPaymentRetries: 0 })).toBe(true);
    expect(canAccess(as('member'), 'past_due', 'records', 'create', { ownDocument: true, failedPaymentRetries: 1 })).toBe(false);
    expect(canAccess(as('member'), 'past_due', 'records', 'get', { failedPaymentRetries: 3 })).toBe(true);
  });

  it('trial_expired: reads by role, every write blocked, the rename included', () => {
    expect(canAccess(as('viewer'), 'trial_expired', 'records', 'get')).toBe(true);
    for (const role of TENANT_ROLES) {
      for (const operation of ['create', 'update', 'delete'] as const) {
        expect(canAccess(as(role), 'trial_expired', 'records', operation, { ownDocument: true })).toBe(false);
      }
    }
    expect(canAccess(as('owner'), 'trial_expired', 'tenant', 'update')).toBe(false);
    expect(canAccess(as('owner'), 'active', 'tenant', 'update')).toBe(true);
  });

  it("suspended and cancelled: only the owner's view of the tenant document is left", () => {
    for (const status of ['suspended', 'cancelled'] as const) {
      expect(canAccess(as('owner'), status, 'tenant', 'get')).toBe(true);
      expect(canAccess(as('admin'), status, 'tenant', 'get')).toBe(false);
      expect(canAccess(as('owner'), status, 'records', 'get')).toBe(false);
      expect(canAccess(as('owner'), status, 'members', 'list')).toBe(false);
      expect(canAccess(as('owner'), status, 'tenant', 'update')).toBe(false);
    }
  });

  it('provisioning and failed: members reach nothing, the tenant document included; staff still read it', () => {
    for (const status of ['provisioning', 'failed'] as const) {
      for (const role of TENANT_ROLES) {
        for (const collection of POLICY_COLLECTIONS) {
          // Own records included; their own membership (collection-group lookup) is the one exception, below.
          const context = { ownDocument: collection === 'records' };
          for (const operation of OPERATIONS) expect(canAccess(as(role), status, collection, operation, context)).toBe(false);
        }
      }
      expect(canAccess(sales, status, 'tenant', 'get')).toBe(true);
    }
  });

  it('a member reads their own membership in every status, through the collection-group lookup', () => {
    for (const status of TENANT_STATUSES) {
      expect(canAccess({ uid: 'u-x', tenantRole: 'viewer' }, status, 'members', 'get', { ownDocument: true })).toBe(true);
      expect(canAccess({ uid: 'u-x', tenantRole: 'viewer' }, 'failed', 'members', 'get', { ownDocument: false })).toBe(false);
    }
  });
});

describe('policy: principals', () => {
  it("sales reads tenants and jobs but no tenant's records, members, invites or domain claims; super_admin reads them all", () => {
    expect(canAccess(sales, 'active', 'tenant', 'list')).toBe(true);
    expect(canAccess(sales, 'active', 'provisioningJobs', 'get')).toBe(true);
    for (const collection of ['records', 'members', 'invites', 'domains'] as const) {
      expect(canAccess(sales, 'active', collection, 'get')).toBe(false);
      expect(canAccess(superAdmin, 'suspended', collection, 'list')).toBe(true);
    }
  });

  it('staff, the unauthenticated and everyone on mail: never a write; the unauthenticated: nothing at all', () => {
    for (const status of TENANT_STATUSES) {
      for (const collection of POLICY_COLLECTIONS) {
        for (const operation of OPERATIONS) {
          expect(canAccess({ uid: null }, status, collection, operation, { ownDocument: true })).toBe(false);
          if (!['get', 'list'].includes(operation)) {
            expect(canAccess(sales, status, collection, operation)).toBe(false);
            expect(canAccess(superAdmin, status, collection, operation)).toBe(false);
          }
        }
        for (const role of TENANT_ROLES) expect(canAccess(as(role), 'active', 'mail', 'get')).toBe(false);
      }
    }
  });

  it('records: a member writes only their own, a viewer writes nothing, a manager deletes', () => {
    expect(canAccess(as('member'), 'active', 'records', 'update', { ownDocument: false })).toBe(false);
    expect(canAccess(as('member'), 'active', 'records', 'update', { ownDocument: true })).toBe(true);
    expect(canAccess(as('member'), 'active', 'records', 'delete', { ownDocument: true })).toBe(false);
    expect(canAccess(as('viewer'), 'active', 'records', 'create', { ownDocument: true })).toBe(false);
    expect(canAccess(as('manager'), 'active', 'records', 'delete')).toBe(true);
  });

  it('members, invites and domain claims: read per role, written by no client (the team functions own them)', () => {
    for (const collection of ['members', 'invites', 'domains'] as const) {
      for (const role of TENANT_ROLES) {
        for (const operation of ['create', 'update', 'delete'] as const) expect(canAccess(as(role), 'active', collection, operation, { ownDocument: true })).toBe(false);
      }
    }
    for (const role of TENANT_ROLES) expect(canAccess(as(role), 'active', 'members', 'list')).toBe(true);
    for (const role of TENANT_ROLES) {
      const managesPeople = role === 'owner' || role === 'admin';
      expect(canAccess(as(role), 'active', 'invites', 'list')).toBe(managesPeople);
      expect(canAccess(as(role), 'active', 'domains', 'get')).toBe(managesPeople);
    }
  });

  it("nobody gives the owner role; only the owner gives admin; roles below admin give none", () => {
    for (const role of TENANT_ROLES) expect(ASSIGNABLE_ROLES[role]).not.toContain('owner');
    expect(ASSIGNABLE_ROLES.owner).toEqual(['admin', 'manager', 'member', 'viewer']);
    expect(ASSIGNABLE_ROLES.admin).toEqual(['manager', 'member', 'viewer']);
    for (const role of ['manager', 'member', 'viewer'] as const) expect(ASSIGNABLE_ROLES[role]).toEqual([]);
  });
});

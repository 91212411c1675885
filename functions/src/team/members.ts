import type { Auth } from 'firebase-admin/auth';
import type { Firestore } from 'firebase-admin/firestore';
import { COLLECTIONS, refs } from '../adapters/firestore';
import { queueCustomerEmailInTransaction } from '../billing/customerEmail';
import { DomainError } from '../domain/errors';
import {
  ChangeMemberRoleSchema,
  checkLeave,
  checkRemoval,
  checkRoleChange,
  checkTeamStatus,
  checkTransfer,
  MemberRefSchema,
  releaseMemberSeat,
  seatUsage,
  TenantRefSchema,
  type Account,
} from '../domain/team';
import { parseOrThrow } from '../domain/validation';
import { readTeamTenant, TEAM_TRANSACTION_ATTEMPTS, writeSeats } from './tenant';

export interface MemberDeps {
  db: Firestore;
}

function notAMember(uid: string, tenantName: string): DomainError {
  return new DomainError('not-found', `uid: ${uid} is not a member of ${tenantName}`, { field: 'uid', reason: 'not-a-member' });
}

/** Removes a member and frees their seat. Allowed in every status where the tenant can still be seen. */
export async function removeMember(deps: MemberDeps, account: Account, input: unknown, now = new Date()) {
  const { tenantId, uid } = parseOrThrow(MemberRefSchema, input);
  return deps.db.runTransaction(
    async (tx) => {
      const { tenant, members } = await readTeamTenant(tx, deps.db, tenantId, [account.uid, uid]);
      const target = members.get(uid);
      // Checked as if the target were a viewer first: only owner and admin learn whether someone is a member.
      checkRemoval(members.get(account.uid) ?? null, target ?? { uid, role: 'viewer' });
      if (!target) throw notAMember(uid, tenant.name);
      checkTeamStatus('removeMember', tenant);
      const seats = releaseMemberSeat(tenant.seats);
      tx.delete(refs(deps.db).member(tenantId, uid));
      writeSeats(tx, tenant, seats);
      tx.create(deps.db.collection(COLLECTIONS.auditLog).doc(), { type: 'member.removed', tenantId, uid, email: target.email, role: target.role, by: account.uid, at: now });
      return { tenantId, uid, removed: true, seats: seatUsage(seats, tenant.seatCap) };
    },
    { maxAttempts: TEAM_TRANSACTION_ATTEMPTS },
  );
}

/** Raising a role is a grow action (blocked with writes); lowering one is allowed wherever removal is. */
export async function changeMemberRole(deps: MemberDeps, account: Account, input: unknown, now = new Date()) {
  const { tenantId, uid, role } = parseOrThrow(ChangeMemberRoleSchema, input);
  return deps.db.runTransaction(
    async (tx) => {
      const { tenant, members } = await readTeamTenant(tx, deps.db, tenantId, [account.uid, uid]);
      const actor = members.get(account.uid) ?? null;
      const target = members.get(uid);
      if (!target) {
        checkRoleChange(actor, { uid, role: 'viewer' }, 'viewer');
        throw notAMember(uid, tenant.name);
      }
      const change = checkRoleChange(actor, target, role);
      if (change === 'same') return { tenantId, uid, role, changed: false };
      checkTeamStatus(change === 'raise' ? 'raiseRole' : 'lowerRole', tenant);
      tx.update(refs(deps.db).member(tenantId, uid), { role, roleChangedAt: now, roleChangedBy: account.uid });
      tx.create(deps.db.collection(COLLECTIONS.auditLog).doc(), { type: 'member.role_changed', tenantId, uid, from: target.role, to: role, by: account.uid, at: now });
      return { tenantId, uid, role, changed: true };
    },
    { maxAttempts: TEAM_TRANSACTION_ATTEMPTS },
  );
}

/** The caller leaves; the owner cannot (ownership must be transferred first). */
export async function leaveTenant(deps: MemberDeps, account: Account, input: unknown, now = new Date()) {
  const { tenantId } = parseOrThrow(TenantRefSchema, input);
  return deps.db.runTransaction(
    async (tx) => {
      const { tenant, members } = await readTeamTenant(tx, deps.db, tenantId, [account.uid]);
      const self = members.get(account.uid) ?? null;
      checkLeave(self);
      checkTeamStatus('leaveTenant', tenant);
      const seats = releaseMemberSeat(tenant.seats);
      tx.delete(refs(deps.db).member(tenantId, account.uid));
      writeSeats(tx, tenant, seats);
      tx.create(deps.db.collection(COLLECTIONS.auditLog).doc(), { type: 'member.left', tenantId, uid: account.uid, role: self!.role, at: now });
      return { tenantId, left: true };
    },
    { maxAttempts: TEAM_TRANSACTION_ATTEMPTS },
  );
}

export interface TransferDeps extends MemberDeps {
  auth: Auth;
}

/**
 * The owner hands the tenant to another member: in one transaction the target becomes owner, the old
 * owner admin, and the tenant's `ownerUid` and `billingEmail` move to the target. The billing email
 * must be an address its holder has proven.
 */
export async function transferOwnership(deps: TransferDeps, account: Account, input: unknown, now = new Date()) {
  const { tenantId, uid } = parseOrThrow(MemberRefSchema, input);
  const targetAccount = await deps.auth.getUser(uid).catch(() => null);
  return deps.db.runTransaction(
    async (tx) => {
      const { tenant, members } = await readTeamTenant(tx, deps.db, tenantId, [account.uid, uid]);
      const target = checkTransfer(members.get(account.uid) ?? null, tenant.ownerUid, members.get(uid) ?? null, uid);
      checkTeamStatus('transferOwnership', tenant);
      if (!targetAccount?.email || !targetAccount.emailVerified) {
        throw new DomainError(
          'failed-precondition',
          `${target.email || uid} has not verified their email address yet; billing mail goes to the owner, so they verify it first`,
          { reason: 'target-email-unverified' },
        );
      }
      const ref = refs(deps.db);
      tx.update(ref.member(tenantId, uid), { role: 'owner', roleChangedAt: now, roleChangedBy: account.uid });
      tx.update(ref.member(tenantId, account.uid), { role: 'admin', roleChangedAt: now, roleChangedBy: account.uid });
      tx.update(tenant.ref, { ownerUid: uid, billingEmail: targetAccount.email.toLowerCase(), updatedAt: now });
      queueCustomerEmailInTransaction(tx, deps.db, tenantId, targetAccount.email.toLowerCase(), now);
      tx.create(deps.db.collection(COLLECTIONS.auditLog).doc(), {
        type: 'tenant.ownership_transferred',
        tenantId,
        from: account.uid,
        to: uid,
        billingEmail: { from: tenant.billingEmail, to: targetAccount.email.toLowerCase() },
        at: now,
      });
      return { tenantId, ownerUid: uid, previousOwnerRole: 'admin' as const, billingEmail: targetAccount.email.toLowerCase() };
    },
    { maxAttempts: TEAM_TRANSACTION_ATTEMPTS },
  );
}

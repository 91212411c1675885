// What the signed-in member may do in their tenant, and why not: the same policy table the security
// rules are generated from (functions/src/domain/policy.ts), so the controls and the rules agree.
import { canAccess, POLICY, statusAllowsWrite, type Operation, type PolicyCollection } from '../../../functions/src/domain/policy';
import { TENANT_ROLES, type TenantRole, type TenantStatus } from '../../../functions/src/domain/status';

export interface Member {
  uid: string;
  role: TenantRole;
  status: TenantStatus;
  failedPaymentRetries: number;
}

export function may(member: Member, collection: PolicyCollection, operation: Operation, ownDocument = false): boolean {
  return canAccess({ uid: member.uid, tenantRole: member.role }, member.status, collection, operation, {
    failedPaymentRetries: member.failedPaymentRetries,
    ownDocument,
  });
}

/** Why the tenant's status blocks every write, or null when it does not. */
export function statusBlockReason(status: TenantStatus, failedPaymentRetries: number): string | null {
  if (statusAllowsWrite(status, failedPaymentRetries)) return null;
  switch (status) {
    case 'trial_expired':
      return 'Your trial has ended: the workspace is read-only until a plan is chosen. Your data is kept.';
    case 'past_due':
      return 'A payment retry failed: the workspace is read-only until the payment method is updated.';
    case 'suspended':
      return 'The organisation is suspended: its data is locked.';
    case 'cancelled':
      return 'The organisation is cancelled: its data is locked.';
    case 'provisioning':
      return 'The organisation is still being set up.';
    default:
      return 'Setting up this organisation failed.';
  }
}

const VERBS: Record<Operation, string> = { get: 'read', list: 'list', create: 'add', update: 'change', delete: 'delete' };
const NOUNS: Partial<Record<PolicyCollection, string>> = { tenant: "the organisation's settings", records: 'records', members: 'members' };

/** Why the member's role does not allow `operation` (in a status that would), or null when it does. */
export function roleBlockReason(member: Member, collection: PolicyCollection, operation: Operation, ownDocument = false): string | null {
  const grants = POLICY[collection].operations[operation].roles ?? {};
  const grant = grants[member.role];
  if (grant === 'any' || (grant === 'own' && ownDocument)) return null;
  const noun = NOUNS[collection] ?? collection;
  if (grant === 'own') return `As a ${member.role}, you can ${VERBS[operation]} only the ${noun} you created.`;
  const allowed = TENANT_ROLES.filter((role) => grants[role] !== undefined);
  return `As a ${member.role}, you can read ${noun} but not ${VERBS[operation]} them: that takes ${list(allowed.map(plural))}.`;
}

/** The reason a control is off (status first: it applies to everyone), or null when the write is allowed. */
export function blockReason(member: Member, collection: PolicyCollection, operation: Operation, ownDocument = false): string | null {
  if (may(member, collection, operation, ownDocument)) return null;
  return statusBlockReason(member.status, member.failedPaymentRetries) ?? roleBlockReason(member, collection, operation, ownDocument);
}

const plural = (role: string) => `${role}s`;
function list(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? 'nobody') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

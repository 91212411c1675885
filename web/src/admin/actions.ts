import type { DocumentData } from 'firebase/firestore';
import { PROVISIONING_ACTION_ROLES } from '../../../functions/src/domain/console';
import { LIFECYCLE, STAFF_ACTION_ROLES, type StaffAction } from '../../../functions/src/domain/lifecycle';
import type { PlatformRole, TenantStatus } from '../../../functions/src/domain/status';

export type ActionId = 'retry' | 'finishRollback' | StaffAction;

/** A staff action of the tenant detail page: who may take it (the server's own table), when it applies, what it calls. */
export interface ActionSpec {
  id: ActionId;
  label: string;
  /** What confirming does, in the dialog. */
  consequence: string;
  roles: readonly PlatformRole[];
  applies: (tenant: DocumentData, job: DocumentData | null, tenantId: string) => boolean;
  danger?: boolean;
  /** extend_trial asks for the new end. */
  needsDate?: boolean;
  callable: 'retryProvisioning' | 'finishProvisioningRollback' | 'changeTenantStatus';
}

const statusAllows = (action: StaffAction) => (tenant: DocumentData) => LIFECYCLE[action].from.includes(tenant.status as TenantStatus);

function statusAction(id: StaffAction, label: string, consequence: string, danger = false): ActionSpec {
  return { id, label, consequence, roles: STAFF_ACTION_ROLES[id], applies: statusAllows(id), danger, callable: 'changeTenantStatus', ...(id === 'extend_trial' ? { needsDate: true } : {}) };
}

export const ACTIONS: ActionSpec[] = [
  {
    id: 'retry',
    label: 'Retry provisioning',
    consequence: 'Starts a clean attempt of the same request: a new tenant with a new id, the same owner, plan and subdomain. This failed tenant stays as the record of the last attempt.',
    roles: PROVISIONING_ACTION_ROLES.retry,
    // Only from the tenant of the job's latest attempt, and only once that attempt was fully undone.
    applies: (_tenant, job, tenantId) =>
      Boolean(job && job.tenantId === tenantId && (job.status === 'rolled_back' || (job.status === 'failed' && !job.undoErrors?.length))),
    callable: 'retryProvisioning',
  },
  {
    id: 'finishRollback',
    label: 'Finish the failed undo',
    consequence:
      'Runs the undo of this provisioning again, including the steps whose undo failed (see the timeline). Once nothing is left to undo, the provisioning can be retried.',
    roles: PROVISIONING_ACTION_ROLES.finishRollback,
    applies: (_tenant, job, tenantId) => Boolean(job && job.tenantId === tenantId && job.status === 'failed' && job.undoErrors?.length),
    callable: 'finishProvisioningRollback',
  },
  statusAction('extend_trial', 'Extend the trial', 'The tenant goes back to (or stays in) its trial until the new end; writes are allowed again.'),
  statusAction('activate', 'Activate', 'The tenant becomes active, as if paid: writes allowed, failed payment retries cleared.'),
  statusAction('suspend', 'Suspend', 'The tenant is locked: its members can neither read nor write; the owner keeps the billing view.', true),
  statusAction('cancel', 'Cancel', 'The tenant is cancelled: locked for its members, the owner keeps the billing view. It can be activated again later.', true),
];

export const actionsFor = (platform: PlatformRole) => ACTIONS.filter((action) => action.roles.includes(platform));

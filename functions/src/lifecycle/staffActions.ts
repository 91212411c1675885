import type { Firestore } from 'firebase-admin/firestore';
import { checkTrialEnd, requireStaffRole, StaffActionSchema, type LifecycleEvent, type StaffAction } from '../domain/lifecycle';
import { parseOrThrow } from '../domain/validation';
import { applyTransition, type TransitionResult } from './transition';

const EVENT_OF: Record<StaffAction, LifecycleEvent> = {
  extend_trial: 'extend_trial',
  activate: 'activate',
  suspend: 'suspend',
  cancel: 'cancel',
};

/**
 * A platform staff member changes a tenant's status: validated, authorised by role for the action,
 * then applied through the one transition path with the staff uid as actor and the reason in history.
 */
export async function changeTenantStatus(
  db: Firestore,
  staff: { uid: string; platformRole: unknown },
  input: unknown,
  now: Date = new Date(),
): Promise<Pick<TransitionResult, 'tenantId' | 'from' | 'to' | 'historyId'>> {
  const request = parseOrThrow(StaffActionSchema, input);
  requireStaffRole(staff.platformRole, request.action);
  if (request.trialEndsAt) checkTrialEnd(request.trialEndsAt, now);
  const { tenantId, from, to, historyId } = await applyTransition(db, request.tenantId, EVENT_OF[request.action], {
    actor: staff.uid,
    now,
    reason: request.reason,
    trialEndsAt: request.trialEndsAt,
  });
  return { tenantId, from, to, historyId };
}

import { FieldValue, Timestamp } from 'firebase-admin/firestore';
import { refs } from '../adapters/firestore';
import { checkRetryable, PROVISIONING_ACTION_ROLES, requirePlatformRole, RetryProvisioningSchema } from '../domain/console';
import { DomainError } from '../domain/errors';
import type { ProvisioningResult } from '../domain/provisioning';
import type { JobStatus } from '../domain/status';
import { parseOrThrow } from '../domain/validation';
import { provisionTenant, type ProvisioningDeps } from './provisionTenant';

/**
 * Platform staff start a clean attempt of a provisioning that rolled back: the request kept on the job,
 * replayed under its own idempotency key (so the routine's transaction decides, and two clicks make one
 * attempt), with the staff member as the actor and their reason in the new tenant's first history entry.
 */
export async function retryProvisioning(
  deps: ProvisioningDeps,
  staff: { uid: string; platformRole: unknown },
  input: unknown,
  now: Date = new Date(),
): Promise<ProvisioningResult> {
  const { jobId, attempt, reason } = parseOrThrow(RetryProvisioningSchema, input);
  requirePlatformRole(staff.platformRole, PROVISIONING_ACTION_ROLES.retry, 'retry a provisioning');
  const job = await refs(deps.db).job(jobId).get();
  if (!job.exists) throw new DomainError('not-found', `Provisioning job ${jobId} does not exist`);
  // Already retried (a double click, a colleague): the answer is that retry's result, nothing new is started.
  if (Number(job.get('attempt')) > attempt) return job.get('result') as ProvisioningResult;
  checkRetryable({ status: job.get('status') as JobStatus, undoErrors: job.get('undoErrors') });
  const stored = job.get('request') as Record<string, unknown> | undefined;
  if (!stored) {
    throw new DomainError('failed-precondition', 'This job predates requests kept on the job: resubmit it from its form with the same idempotency key');
  }
  // Timestamps back to Dates: the routine validates exactly what a caller would send.
  const asked = Object.fromEntries(Object.entries(stored).map(([key, value]) => [key, value instanceof Timestamp ? value.toDate() : value]));
  const result = await provisionTenant(deps, { ...asked, requestedBy: staff.uid, reason }, now);
  // Staff interventions stay on the job beside its timeline (an attempt's own fields are reset by the next
  // one), once per attempt started: of two retries at once, the one that lost got the winner's result.
  await deps.db.runTransaction(async (tx) => {
    const current = await tx.get(job.ref);
    const actions = (current.get('operatorActions') ?? []) as Array<{ action: string; tenantId?: string }>;
    if (actions.some((a) => a.action === 'retryProvisioning' && a.tenantId === result.tenantId)) return;
    tx.update(job.ref, { operatorActions: FieldValue.arrayUnion({ action: 'retryProvisioning', by: staff.uid, at: now, reason, tenantId: result.tenantId }) });
  });
  return result;
}

import { logger } from 'firebase-functions';
import { FieldValue } from 'firebase-admin/firestore';
import { emailVerifiedOf } from '../adapters/auth';
import { COLLECTIONS, refs } from '../adapters/firestore';
import { DomainError } from '../domain/errors';
import { FinishRollbackSchema } from '../domain/provisioning';
import { parseOrThrow } from '../domain/validation';
import type { ProvisioningDeps } from './provisionTenant';
import { runProvisioningJob, type SagaDeps, type SagaOptions } from './saga';
import { provisionSelfServe } from './selfServe';

/**
 * Platform staff run the compensation of a job whose undo failed once more (`finishProvisioningRollback`).
 * Once nothing is left to undo the job is `rolled_back`, so the same idempotency key starts a clean
 * attempt; an undo that still fails keeps it `failed` with the new `undoErrors`.
 */
export async function finishProvisioningRollback(deps: SagaDeps, staffUid: string, input: unknown, saga: SagaOptions = {}) {
  const { jobId, reason } = parseOrThrow(FinishRollbackSchema, input);
  const outcome = await runProvisioningJob(deps, jobId, { ...saga, finishRollback: true });
  if (outcome === 'missing') throw new DomainError('not-found', `jobId: no provisioning job '${jobId}'`, { field: 'jobId' });
  const job = refs(deps.db).job(jobId);
  const action = { action: 'finishProvisioningRollback', by: staffUid, at: new Date(), outcome, ...(reason ? { reason } : {}) };
  await job.update({ lastOperatorAction: action, operatorActions: FieldValue.arrayUnion(action) });
  const undoErrors = ((await job.get()).get('undoErrors') ?? []) as { step: string; message: string }[];
  return { jobId, status: outcome, undoErrors };
}

/**
 * Copies the signed-in person's Auth `emailVerified` onto the tenants they own (`ownerEmailVerified`),
 * after they confirmed their address (or set a password from a mailed link). Auth is the source: the
 * caller's word is not taken. A self-serve signup that waited for this confirmation is provisioned now.
 */
export async function syncEmailVerified(deps: ProvisioningDeps, uid: string): Promise<{ emailVerified: boolean; tenantIds: string[] }> {
  const emailVerified = await emailVerifiedOf(deps.auth, uid);
  const owned = await deps.db.collection(COLLECTIONS.tenants).where('ownerUid', '==', uid).get();
  const stale = owned.docs.filter((tenant) => tenant.get('ownerEmailVerified') !== emailVerified);
  const batch = deps.db.batch();
  for (const tenant of stale) batch.update(tenant.ref, { ownerEmailVerified: emailVerified, updatedAt: new Date() });
  if (stale.length) await batch.commit();
  if (emailVerified) await provisionWaitingSignup(deps, uid);
  return { emailVerified, tenantIds: stale.map((tenant) => tenant.id) };
}

/** The signup page reports a refusal when it sends the form again; here it is only logged. */
async function provisionWaitingSignup(deps: ProvisioningDeps, uid: string): Promise<void> {
  try {
    const result = await provisionSelfServe(deps, uid);
    if (result) logger.info('self-serve signup provisioned once its address was confirmed', { uid, ...result });
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    logger.warn('self-serve provisioning refused after the confirmation', { uid, code: error.code, message: error.message });
  }
}

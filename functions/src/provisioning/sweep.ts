import { FieldValue } from 'firebase-admin/firestore';
import { logger } from 'firebase-functions';
import { COLLECTIONS } from '../adapters/firestore';
import { runProvisioningJob, type SagaDeps, type SagaOptions } from './saga';

export const STUCK_AFTER_MS = Number(process.env.PROVISIONING_STUCK_AFTER_MS ?? 5 * 60_000);
/** A stuck job is handed back to the queue this many times before it is undone for good. */
export const MAX_RESUMES = 2;

export interface SweepDeps extends SagaDeps {
  startSaga: (jobId: string) => Promise<void>;
}

/**
 * Finds jobs that made no progress for `stuckAfterMs` (a lost hand-off, a worker that died past its
 * retries): resumes them, and after MAX_RESUMES compensates them and marks them `failed` with a
 * retry action. Safe to run twice at once: compensation claims the job like any worker.
 */
export async function sweepStuckProvisioning(
  deps: SweepDeps,
  now: Date,
  options: { stuckAfterMs?: number; saga?: SagaOptions } = {},
): Promise<{ resumed: string[]; abandoned: string[] }> {
  const cutoff = new Date(now.getTime() - (options.stuckAfterMs ?? STUCK_AFTER_MS));
  const stuck = await deps.db
    .collection(COLLECTIONS.provisioningJobs)
    .where('status', 'in', ['pending', 'running', 'compensating'])
    .where('updatedAt', '<', cutoff)
    .orderBy('updatedAt')
    .limit(200)
    .get();
  const outcome = { resumed: [] as string[], abandoned: [] as string[] };
  for (const job of stuck.docs) {
    const resumes = Number(job.get('resumes') ?? 0);
    if (resumes < MAX_RESUMES) {
      await job.ref.update({ resumes: FieldValue.increment(1), updatedAt: now });
      await deps.startSaga(job.id);
      outcome.resumed.push(job.id);
    } else {
      const minutes = Math.round((now.getTime() - job.get('updatedAt').toDate().getTime()) / 60_000);
      await runProvisioningJob(deps, job.id, { ...options.saga, now: () => now, abandonReason: `stuck for ${minutes} min after ${resumes} resumes` });
      outcome.abandoned.push(job.id);
    }
  }
  if (stuck.size) logger.info('swept stuck provisioning jobs', outcome);
  return outcome;
}

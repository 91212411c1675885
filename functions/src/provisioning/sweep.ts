import { FieldValue, type QueryDocumentSnapshot } from 'firebase-admin/firestore';
import { logger } from 'firebase-functions';
import { COLLECTIONS } from '../adapters/firestore';
import { runProvisioningJob, type SagaDeps, type SagaOptions } from './saga';

export const STUCK_AFTER_MS = Number(process.env.PROVISIONING_STUCK_AFTER_MS ?? 5 * 60_000);
/** A stuck job is handed back to the queue this many times before it is undone (or, past the point of no return, reported). */
export const MAX_RESUMES = 2;

export interface SweepDeps extends SagaDeps {
  startSaga: (jobId: string) => Promise<void>;
}

export interface SweepOutcome {
  resumed: string[];
  abandoned: string[];
  /** Past the point of no return and still stuck: handed back to the queue again, and an operator alerted. */
  alerted: string[];
  /** Jobs whose handling threw (a refused hand-off, a Firestore error): logged, left for the next run; the others were still handled. */
  errors: Array<{ jobId: string; message: string }>;
}

/**
 * Finds jobs that made no progress for `stuckAfterMs` (a lost hand-off, a worker that died past its
 * retries): resumes them, and after MAX_RESUMES undoes them and marks them `failed` with a retry
 * action. A job that may have opened its tenant or mailed its owner is never undone: it is resumed
 * again and raises an alert (`alert` on the job, an error in the log) for an operator.
 * `now` says which jobs are stuck; the saga's leases use the real clock. Safe to run twice at once:
 * an abandon claims the job like any worker, and a job leased by a live worker is left alone.
 */
export async function sweepStuckProvisioning(
  deps: SweepDeps,
  now: Date,
  options: { stuckAfterMs?: number; saga?: SagaOptions } = {},
): Promise<SweepOutcome> {
  const cutoff = new Date(now.getTime() - (options.stuckAfterMs ?? STUCK_AFTER_MS));
  const stuck = await deps.db
    .collection(COLLECTIONS.provisioningJobs)
    .where('status', 'in', ['pending', 'running', 'compensating'])
    .where('updatedAt', '<', cutoff)
    .orderBy('updatedAt')
    .limit(200)
    .get();
  const outcome: SweepOutcome = { resumed: [], abandoned: [], alerted: [], errors: [] };
  for (const job of stuck.docs) {
    // One job's failure (the first one each run, ordered by updatedAt) must not starve the jobs after it.
    try {
      await sweepJob(deps, job, now, options, outcome);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      logger.error('sweepStuckProvisioning: a job could not be handled; the others go on', { jobId: job.id, message });
      outcome.errors.push({ jobId: job.id, message });
    }
  }
  if (stuck.size) logger.info('swept stuck provisioning jobs', outcome);
  return outcome;
}

async function sweepJob(deps: SweepDeps, job: QueryDocumentSnapshot, now: Date, options: { saga?: SagaOptions }, outcome: SweepOutcome): Promise<void> {
  const resumes = Number(job.get('resumes') ?? 0);
  const resume = async () => {
    await job.ref.update({ resumes: FieldValue.increment(1), updatedAt: now });
    await deps.startSaga(job.id);
  };
  if (resumes < MAX_RESUMES) {
    await resume();
    outcome.resumed.push(job.id);
    return;
  }
  const minutes = Math.round((now.getTime() - job.get('updatedAt').toDate().getTime()) / 60_000);
  const reason = `stuck for ${minutes} min after ${resumes} resumes`;
  const ran = await runProvisioningJob(deps, job.id, { ...options.saga, abandonReason: reason });
  if (ran === 'past_no_return') {
    const alert = { reason: `${reason}, past the point of no return (the tenant may be open, its owner mailed): rolling forward; find out why it cannot finish`, raisedAt: now };
    logger.error('provisioning job stuck past the point of no return; an operator must look', { jobId: job.id, reason: alert.reason });
    await job.ref.update({ alert });
    await resume();
    outcome.alerted.push(job.id);
  } else if (ran === 'failed') {
    outcome.abandoned.push(job.id);
  }
}

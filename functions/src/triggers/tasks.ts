import { onTaskDispatched } from 'firebase-functions/v2/tasks';
import { z } from 'zod';
import { COLLECTIONS, firebase } from '../adapters/firestore';
import { parseOrThrow } from '../domain/validation';
import { runProvisioningJob } from '../provisioning/saga';
import { sagaDeps } from './deps';
import { WITH_STRIPE } from './options';

/** Runs a provisioning job's external steps; a throw makes the queue retry it with backoff. */
export const runProvisioningSteps = onTaskDispatched(
  { ...WITH_STRIPE, retryConfig: { maxAttempts: 6, minBackoffSeconds: 2, maxBackoffSeconds: 60 }, rateLimits: { maxConcurrentDispatches: 20 } },
  async (request) => {
    const { jobId } = parseOrThrow(z.object({ jobId: z.string().min(1) }), request.data);
    const outcome = await runProvisioningJob(sagaDeps(), jobId);
    // Another worker holds the job: come back when its lease has lapsed, in case it died.
    if (outcome === 'leased') throw new Error(`provisioning job ${jobId} is leased by another worker`);
  },
);

/**
 * Does nothing but record that it ran (`taskQueueProbes/{probeId}`): what a task costs to reach a
 * handler, the floor under the provisioning saga's latency (`npm run bench`), and a liveness check of
 * the queue in production. Enqueued by the bench and operators only.
 */
export const probeTaskQueue = onTaskDispatched({ retryConfig: { maxAttempts: 1 } }, async (request) => {
  const { probeId } = parseOrThrow(z.object({ probeId: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/) }), request.data);
  await firebase().db.collection(COLLECTIONS.taskQueueProbes).doc(probeId).set({ handledAt: new Date() });
});

import { onTaskDispatched } from 'firebase-functions/v2/tasks';
import { z } from 'zod';
import { parseOrThrow } from '../domain/validation';
import { runProvisioningJob } from '../provisioning/saga';
import { sagaDeps } from './deps';

/** Runs a provisioning job's external steps; a throw makes the queue retry it with backoff. */
export const runProvisioningSteps = onTaskDispatched(
  { retryConfig: { maxAttempts: 6, minBackoffSeconds: 2, maxBackoffSeconds: 60 }, rateLimits: { maxConcurrentDispatches: 20 } },
  async (request) => {
    const { jobId } = parseOrThrow(z.object({ jobId: z.string().min(1) }), request.data);
    const outcome = await runProvisioningJob(sagaDeps(), jobId);
    // Another worker holds the job: come back when its lease has lapsed, in case it died.
    if (outcome === 'leased') throw new Error(`provisioning job ${jobId} is leased by another worker`);
  },
);

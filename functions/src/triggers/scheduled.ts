import { onSchedule } from 'firebase-functions/v2/scheduler';
import { sweepStuckProvisioning as sweep } from '../provisioning/sweep';
import { provisioningDeps, sagaDeps } from './deps';

/** Resumes or undoes provisioning jobs that stopped making progress. */
export const sweepStuckProvisioning = onSchedule('every 5 minutes', async () => {
  const outcome = await sweep({ ...sagaDeps(), startSaga: provisioningDeps().startSaga }, new Date());
  // Every job was tried; the failed ones are logged one by one and the run is marked failed.
  if (outcome.errors.length) throw new Error(`sweepStuckProvisioning: ${outcome.errors.length} jobs failed (see the log)`);
});

import { getFunctions } from 'firebase-admin/functions';

/** The task queue that runs provisioning sagas: the name of its function (case-sensitive). */
export const PROVISIONING_QUEUE = 'runProvisioningSteps';

export async function enqueueProvisioning(jobId: string): Promise<void> {
  await getFunctions().taskQueue(PROVISIONING_QUEUE).enqueue({ jobId });
}

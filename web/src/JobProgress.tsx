import { doc, onSnapshot, type DocumentData } from 'firebase/firestore';
import { useEffect, useState } from 'react';
import { firebase } from './firebase';
import { errorMessage, formatStatus } from './format';

export type JobOutcome = 'completed' | 'rolled_back' | 'failed';

/** "createStripeCustomer" → "Create Stripe customer": step names are data on the job. */
function stepLabel(name: string): string {
  const words = name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return (words[0].toUpperCase() + words.slice(1)).replace('stripe', 'Stripe');
}

/** Live progress of one provisioning job (provisioningJobs/{jobId}), with the failure reason if any. */
export function JobProgress({ jobId, onSettled }: { jobId: string; onSettled?: (outcome: JobOutcome) => void }) {
  const [job, setJob] = useState<DocumentData | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);

  useEffect(
    () =>
      onSnapshot(
        doc(firebase().db, 'provisioningJobs', jobId),
        (snapshot) => setJob(snapshot.data()),
        (failure) => setError(errorMessage(failure)),
      ),
    [jobId],
  );
  const status: string | undefined = job?.status;
  useEffect(() => {
    if (status === 'completed' || status === 'rolled_back' || status === 'failed') onSettled?.(status);
  }, [status, onSettled]);

  if (error) return <p className="alert error" role="alert">{error}</p>;
  if (!job) return <p className="muted small">Waiting for the provisioning job…</p>;

  const done = new Set<string>((job.completedSteps ?? []).map((step: { name: string }) => step.name));
  const undone = new Set<string>(job.undoneSteps ?? []);
  const planned: string[] = job.plannedSteps ?? [];
  const settledBadly = status === 'rolled_back' || status === 'failed';
  return (
    <div className="job" data-testid="job-progress" data-status={status}>
      <p className="job-status">
        Provisioning: <span className={`badge job-${status}`}>{formatStatus(status)}</span>
      </p>
      {planned.length > 0 && (
        <ol className="steps">
          {planned.map((name) => {
            const state = undone.has(name) ? 'undone' : done.has(name) ? 'done' : job.inFlightStep === name ? 'running' : 'waiting';
            return (
              <li key={name} className={`step step-${state}`} data-step={name} data-state={state}>
                {stepLabel(name)}
              </li>
            );
          })}
        </ol>
      )}
      {settledBadly && job.error && (
        <p className="alert error" role="alert">
          {stepLabel(job.error.step)} failed: {job.error.message}. {status === 'rolled_back' ? 'Everything was undone; nothing was charged.' : job.retryAction}
        </p>
      )}
    </div>
  );
}

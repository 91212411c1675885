import type { DocumentData } from 'firebase/firestore';
import { useEffect } from 'react';
import { customerFailureWording, type FailedJobView } from '../../../functions/src/domain/jobFailure';
import { formatStatus } from '../format';
import { ErrorAlert, Loading } from '../ui/states';
import { SETTLED, stepLabel, type JobOutcome } from './steps';
import { useDocument } from './useDocument';

export type { JobOutcome } from './steps';

/**
 * Live progress of one provisioning job (provisioningJobs/{jobId}), with the failure reason if any:
 * in customer words (L6), or, for platform staff (`audience="operator"`), the raw error and what to do next.
 */
export default function JobProgress({
  jobId,
  onSettled,
  audience = 'customer',
}: {
  jobId: string;
  onSettled?: (outcome: JobOutcome) => void;
  audience?: 'customer' | 'operator';
}) {
  const live = useDocument(`provisioningJobs/${jobId}`);
  const job = live.state === 'ready' ? live.data : undefined;
  const status: string | undefined = job?.status;
  useEffect(() => {
    if (status && SETTLED.includes(status)) onSettled?.(status as JobOutcome);
  }, [status, onSettled]);

  if (live.state === 'error') return <ErrorAlert>{live.message}</ErrorAlert>;
  if (live.state === 'denied') return <ErrorAlert>You cannot see this provisioning job.</ErrorAlert>;
  if (!job) return <Loading>Waiting for the provisioning job…</Loading>;

  const done = new Set<string>((job.completedSteps ?? []).map((step: { name: string }) => step.name));
  const undone = new Set<string>(job.undoneSteps ?? []);
  const planned: string[] = job.plannedSteps ?? [];
  const settledBadly = status === 'rolled_back' || status === 'failed';
  return (
    <div className="job" data-testid="job-progress" data-status={status} role="status" aria-live="polite">
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
                <span className="visually-hidden">: {state}</span>
              </li>
            );
          })}
        </ol>
      )}
      {settledBadly && audience === 'customer' && <CustomerFailure job={job} />}
      {settledBadly && audience === 'operator' && job.error && (
        <p className="alert error">
          {stepLabel(job.error.step)} failed: {job.error.message}.{' '}
          {status === 'rolled_back' ? 'Everything was undone; nothing was charged.' : job.retryAction}
        </p>
      )}
    </div>
  );
}

function CustomerFailure({ job }: { job: DocumentData }) {
  const { cause, next } = customerFailureWording(job as FailedJobView);
  return (
    <p className="alert error" data-testid="job-failure">
      {cause} {next}
    </p>
  );
}

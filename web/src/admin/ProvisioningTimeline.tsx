import type { DocumentData } from 'firebase/firestore';
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { formatStatus } from '../format';
import { stepLabel } from '../provisioning/steps';
import { attemptsOf, duration, type Attempt, type Bar } from './timeline';

/**
 * The provisioning of a tenant drawn from its job: per attempt, one row per step, a bar per try
 * (its start and duration on the attempt's time axis), failed tries in red, undos hatched, the step
 * in flight growing live. The words beside each row say the same for screen readers and for copying.
 */
export function ProvisioningTimeline({ job, tenantId }: { job: DocumentData; tenantId: string }) {
  const running = ['pending', 'running', 'compensating'].includes(String(job.status));
  const now = useTicking(running);
  const attempts = attemptsOf(job, now);
  return (
    <div className="timeline" data-testid="provisioning-timeline" data-job-status={job.status}>
      <div className="timeline-summary">
        <p>
          Job <code>{job.idempotencyKey ? String(job.idempotencyKey) : ''}</code> · <span className={`badge job-${job.status}`}>{formatStatus(String(job.status))}</span> · attempt{' '}
          {String(job.attempt ?? 1)}
        </p>
        {job.error && (
          <p className="alert error">
            <strong>{stepLabel(String(job.error.step))} failed:</strong> {String(job.error.message)}
          </p>
        )}
        {job.undoErrors?.length > 0 && (
          <div className="alert error">
            <strong>Undo failed, cleanup needed:</strong>
            <ul>
              {job.undoErrors.map((undo: DocumentData) => (
                <li key={String(undo.step)}>
                  {stepLabel(String(undo.step))}: {String(undo.message)}
                </li>
              ))}
            </ul>
          </div>
        )}
        {job.retryAction && <p className="muted">Next: {String(job.retryAction)}</p>}
        {job.operatorActions?.length > 0 && (
          <div>
            <h3 className="small-heading">Staff actions on this job</h3>
            <ul className="operator-actions">
              {job.operatorActions.map((action: DocumentData, i: number) => (
                <li key={i}>
                  {new Date(action.at?.toMillis?.() ?? 0).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' })}:{' '}
                  {action.action === 'retryProvisioning' ? 'retried' : 'finished the failed undo'} by <code>{String(action.by)}</code>
                  {action.reason ? `: “${String(action.reason)}”` : ''}
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
      <ul className="legend" aria-label="Legend">
        <li><span className="swatch ok" aria-hidden="true" /> step done</li>
        <li><span className="swatch error" aria-hidden="true" /> try failed</li>
        <li><span className="swatch undo" aria-hidden="true" /> undo</li>
        <li><span className="swatch running" aria-hidden="true" /> running</li>
      </ul>
      {attempts.map((attempt) => (
        <AttemptChart key={attempt.attempt} attempt={attempt} here={attempt.tenantId === tenantId} />
      ))}
    </div>
  );
}

function AttemptChart({ attempt, here }: { attempt: Attempt; here: boolean }) {
  const span = Math.max(attempt.end - attempt.start, 1);
  const pct = (ms: number) => `${Math.min(100, Math.max(0, (ms / span) * 100)).toFixed(2)}%`;
  return (
    <section className={`attempt${here ? '' : ' other-tenant'}`} aria-label={`Attempt ${attempt.attempt}`} data-attempt={attempt.attempt} data-outcome={attempt.outcome}>
      <h4>
        Attempt {attempt.attempt} · {formatStatus(attempt.outcome)} · {duration(attempt.end - attempt.start)}
        {attempt.tenantId && !here && (
          <>
            {' '}
            · tenant <Link to={`/admin/tenants/${attempt.tenantId}`}>{attempt.tenantId}</Link>
          </>
        )}
      </h4>
      <table className="chart">
        <thead className="visually-hidden">
          <tr>
            <th scope="col">Step</th>
            <th scope="col">Bars</th>
            <th scope="col">What happened</th>
          </tr>
        </thead>
        <tbody>
          {attempt.rows.map((row) => (
            <tr key={row.step} data-step={row.step}>
              <th scope="row">{stepLabel(row.step)}</th>
              <td className="lane" aria-hidden="true">
                {row.bars.map((bar, i) => (
                  <span
                    key={i}
                    className={`bar ${bar.kind === 'step' ? (bar.ok ? 'ok' : 'error') : bar.kind}${bar.kind === 'undo' && !bar.ok ? ' error' : ''}`}
                    style={{ left: pct(bar.start - attempt.start), width: `max(3px, ${pct(bar.ms)})` }}
                    title={describe(bar)}
                  />
                ))}
              </td>
              <td className="what">{row.bars.length ? row.bars.map(describe).join('; ') : 'not started'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function describe(bar: Bar): string {
  if (bar.kind === 'running') return `running for ${duration(bar.ms)}`;
  const what = bar.kind === 'undo' ? 'undo' : bar.try > 1 ? `retry ${bar.try - 1}` : 'try 1';
  return bar.ok ? `${what} done in ${duration(bar.ms)}` : `${what} failed after ${duration(bar.ms)}: ${bar.error ?? 'error'}`;
}

/** Re-renders every half second while the job runs, so the bar in flight grows. */
function useTicking(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, [active]);
  return active ? now : Date.now();
}

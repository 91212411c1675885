import { collection, limit, onSnapshot, orderBy, query, where, type DocumentData } from 'firebase/firestore';
import { lazy, Suspense, useEffect, useState, type ReactNode } from 'react';
import { Link, Navigate } from 'react-router';
import { firestore } from '../firestore';
import { customerFailureWording, type FailedJobView } from '../../../functions/src/domain/jobFailure';
import { failureOf } from '../ui/failure';
import { Empty, ErrorAlert, Loading, StatusBadge } from '../ui/states';
import { DomainJoinOrElse } from '../team/DomainJoinOffer';
import { useSubmitOnce } from '../useSubmitOnce';
import { tenantName, useWorkspace, type TenantEntry } from './useWorkspace';

const JobProgress = lazy(() => import('../provisioning/JobProgress'));

/** /app: straight into the one tenant, a choice among several, or what happened to a signup. */
export function Component() {
  const { user, entries, error } = useWorkspace();
  if (error) return <Page><ErrorAlert title="Your organisations could not be loaded.">{error}</ErrorAlert></Page>;
  if (!entries || entries.some((entry) => entry.tenant.state === 'loading')) return <Page><Loading>Loading your organisations…</Loading></Page>;
  if (entries.length === 1) return <Navigate to={entries[0].key} replace />;
  if (entries.length === 0) return <Page><NoTenantYet uid={user.uid} /></Page>;
  return (
    <Page>
      <ul className="tenant-list" aria-label="Your organisations">
        {entries.map((entry) => (
          <TenantChoice key={entry.tenantId} entry={entry} />
        ))}
      </ul>
    </Page>
  );
}

function Page({ children }: { children: ReactNode }) {
  return (
    <div className="page">
      <h1>Your organisations</h1>
      {children}
    </div>
  );
}

function TenantChoice({ entry }: { entry: TenantEntry }) {
  const ready = entry.tenant.state === 'ready' ? entry.tenant.data : null;
  return (
    <li className="card tenant-choice">
      <Link to={entry.key} className="tenant-choice-link">
        <span className="tenant-choice-name">{tenantName(entry)}</span>
        {ready && <span className="muted small">{String(ready.slug)}</span>}
      </Link>
      <span className="muted small">{entry.role}</span>
      {ready ? <StatusBadge status={String(ready.status)} /> : <span className="badge">not available</span>}
    </li>
  );
}

/**
 * No membership: a signup still being provisioned (its job, which the requester may read), one that
 * failed (what happened, and a way to try again), or nothing at all.
 */
function NoTenantYet({ uid }: { uid: string }) {
  const [job, setJob] = useState<{ id: string; data: DocumentData } | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const mine = query(
      collection(firestore(), 'provisioningJobs'),
      where('requestedBy', '==', uid),
      where('source', '==', 'self_serve'),
      orderBy('createdAt', 'desc'),
      limit(1),
    );
    return onSnapshot(
      mine,
      (snapshot) => setJob(snapshot.empty ? null : { id: snapshot.docs[0].id, data: snapshot.docs[0].data() }),
      (failure) => setError(failure.message),
    );
  }, [uid]);
  // A signup form that waited for its address (M5), confirmed on another device while the signup page was closed: provisioned now, and its job shows up above.
  const noJob = job === null;
  useEffect(() => {
    if (noJob) void import('../functions').then(({ call }) => call('syncEmailVerified', {})).catch(() => undefined);
  }, [noJob, uid]);

  if (error) return <ErrorAlert>{error}</ErrorAlert>;
  if (job === undefined) return <Loading />;
  if (!job) {
    // A verified domain's tenant may be waiting for this person (or be full: "ask your admin for a seat").
    return (
      <DomainJoinOrElse
        uid={uid}
        fallback={
          <Empty title="You are not a member of any organisation yet.">
            <p>
              <Link to="/">Start a free trial</Link> to create one, or ask your organisation's admin to invite this account.
            </p>
          </Empty>
        }
      />
    );
  }
  const status = String(job.data.status);
  if (status === 'rolled_back' || status === 'failed') return <FailedSignup jobId={job.id} job={job.data} />;
  return (
    <section className="banner info" aria-label="Organisation status">
      <span className="spinner" aria-hidden="true" />
      <div>
        <p className="banner-title">Setting up your organisation…</p>
        <p>This takes a few seconds; the page updates by itself.</p>
        <Suspense fallback={<Loading />}>
          <JobProgress jobId={job.id} />
        </Suspense>
      </div>
    </section>
  );
}

/** The `failed` banner of a self-serve signup: what happened, and the same form sent again (a clean attempt). */
function FailedSignup({ jobId, job }: { jobId: string; job: DocumentData }) {
  const [failure, setFailure] = useState<string | null>(null);
  const { busy, submitWith } = useSubmitOnce();
  const wording = customerFailureWording(job as FailedJobView);
  const undoFailed = !wording.canRetry;
  const request = job.request as { companyName?: string; plan?: string; slug?: string; owner?: { displayName?: string } } | undefined;
  const retry = submitWith(async () => {
    setFailure(null);
    try {
      const { call } = await import('../functions');
      await call('submitSignup', {
        companyName: request?.companyName,
        ownerName: request?.owner?.displayName,
        plan: request?.plan,
        ...(request?.slug ? { slug: request.slug } : {}),
      });
    } catch (error) {
      setFailure(failureOf(error).message);
    }
  });
  return (
    <section className="banner error" aria-label="Organisation status" data-testid="failed-signup">
      <div>
        <p className="banner-title">We could not set up {request?.companyName ?? 'your organisation'}.</p>
        <p>
          {wording.cause} {wording.next}
        </p>
        {failure && <ErrorAlert>{failure}</ErrorAlert>}
        {request && !undoFailed ? (
          <form onSubmit={retry}>
            <button type="submit" className="primary" disabled={busy}>
              {busy ? 'Trying again…' : 'Try again'}
            </button>
          </form>
        ) : undoFailed ? null : (
          <p>
            <Link to="/">Sign up again</Link> with the same details.
          </p>
        )}
        <p className="muted small">Job {jobId}</p>
      </div>
    </section>
  );
}

import type { DocumentData } from 'firebase/firestore';
import { lazy, Suspense, useCallback, type ReactNode } from 'react';
import { Link, Navigate, NavLink, Outlet, useOutletContext, useParams } from 'react-router';
import { PLANS, type PlanId } from '../../../functions/src/domain/plans';
import type { TenantStatus } from '../../../functions/src/domain/status';
import type { JobOutcome } from '../provisioning/steps';
import { useDocument } from '../provisioning/useDocument';
import { useAppNow } from '../shell/useAppNow';
import { Empty, ErrorAlert, Loading, StatusBadge } from '../ui/states';
import type { Member } from './access';
import { LifecycleBanner } from './LifecycleBanner';
import { tenantName, useWorkspace, type TenantEntry, type Workspace } from './useWorkspace';

const JobProgress = lazy(() => import('../provisioning/JobProgress'));

/** What every page of one tenant gets from this layout. */
export interface TenantContext {
  workspace: Workspace;
  entry: TenantEntry;
  tenantId: string;
  tenant: DocumentData;
  member: Member;
  now: Date;
}

export const useTenant = () => useOutletContext<TenantContext>();

/** /app/:tenant: the tenant's header, the switcher, the lifecycle banner and its pages. */
export function Component() {
  const workspace = useWorkspace();
  const { tenant: key } = useParams();
  const now = useAppNow();
  const { entries, error } = workspace;
  if (error) return <Frame><ErrorAlert>{error}</ErrorAlert></Frame>;
  if (!entries) return <Frame><Loading /></Frame>;
  const entry = entries.find((e) => e.key === key || e.tenantId === key);
  if (!entry) {
    return (
      <Frame>
        <h1>Organisation not found</h1>
        <Empty title={`You are not a member of an organisation at “${key}”.`}>
          <p>
            <Link to="/app">See your organisations</Link>.
          </p>
        </Empty>
      </Frame>
    );
  }
  const live = entry.tenant;
  if (live.state === 'loading') return <Frame><Loading>Loading {key}…</Loading></Frame>;
  if (live.state === 'error') return <Frame><ErrorAlert>{live.message}</ErrorAlert></Frame>;
  if (live.state === 'missing') return <Frame><Empty title="This organisation no longer exists." /></Frame>;
  if (live.state === 'denied') {
    return (
      <Frame>
        <Header entry={entry} entries={entries} />
        <Unavailable entry={entry} lookAgain={workspace.lookAgain} />
      </Frame>
    );
  }
  // Found by id while it could not be read; now that it can, its address is its slug.
  if (key !== entry.key) return <Navigate to={`/app/${entry.key}`} replace />;
  const tenant = live.data;
  const member: Member = {
    uid: workspace.user.uid,
    role: entry.role,
    status: tenant.status as TenantStatus,
    failedPaymentRetries: Number(tenant.failedPaymentRetries ?? 0),
  };
  const context: TenantContext = { workspace, entry, tenantId: entry.tenantId, tenant, member, now };
  const billing = entry.role === 'owner' || entry.role === 'admin';
  return (
    <Frame>
      <Header entry={entry} entries={entries} tenant={tenant} />
      <LifecycleBanner tenantId={entry.tenantId} tenant={tenant} member={member} now={now} />
      <nav className="tabs" aria-label={`${tenant.name} pages`}>
        <NavLink to="." end>
          Records
        </NavLink>
        <NavLink to="team">Team</NavLink>
        {billing && <NavLink to="domains">Domains</NavLink>}
        {billing && <NavLink to="billing">Billing</NavLink>}
        <NavLink to="settings">Settings</NavLink>
      </nav>
      <Outlet context={context} />
    </Frame>
  );
}

function Frame({ children }: { children: ReactNode }) {
  return <div className="page wide workspace">{children}</div>;
}

function Header({ entry, entries, tenant }: { entry: TenantEntry; entries: TenantEntry[]; tenant?: DocumentData }) {
  return (
    <div className="page-header">
      <div>
        <div className="tenant-title">
          <h1>{tenantName(entry)}</h1>
          {tenant && <StatusBadge status={String(tenant.status)} />}
        </div>
        <p className="muted small">
          {tenant ? `${tenant.slug} · ${PLANS[tenant.plan as PlanId]?.label ?? tenant.plan} plan · ` : ''}you are {article(entry.role)} {entry.role}
        </p>
      </div>
      {entries.length > 1 && (
        <details className="switcher">
          <summary>Switch organisation</summary>
          <ul aria-label="Your organisations">
            {entries.map((other) => (
              <li key={other.tenantId}>
                <Link to={`/app/${other.key}`} aria-current={other.tenantId === entry.tenantId ? 'page' : undefined}>
                  {tenantName(other)}
                </Link>
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

const article = (role: string) => (/^[aeiou]/.test(role) ? 'an' : 'a');

/**
 * The rules hide the tenant from this member: it is being set up (its owner follows the job named on
 * their membership), or it is suspended or cancelled (then only its owner may open it, for billing).
 */
function Unavailable({ entry, lookAgain }: { entry: TenantEntry; lookAgain: (tenantId: string) => void }) {
  const job = useDocument(entry.provisioningJobId ? `provisioningJobs/${entry.provisioningJobId}` : null);
  const opened = useCallback((outcome: JobOutcome) => outcome === 'completed' && lookAgain(entry.tenantId), [entry.tenantId, lookAgain]);
  if (job.state === 'loading') return <Loading />;
  if (job.state === 'ready' && job.data.status !== 'rolled_back' && job.data.status !== 'failed') {
    return (
      <section className="banner info" aria-label="Organisation being set up" data-status="provisioning" data-testid="lifecycle-banner">
        <span className="spinner" aria-hidden="true" />
        <div>
          <p className="banner-title">Setting up your organisation…</p>
          <p>It opens as soon as billing and your workspace are ready; this page updates by itself.</p>
          <Suspense fallback={<Loading />}>
            <JobProgress jobId={entry.provisioningJobId!} onSettled={opened} />
          </Suspense>
        </div>
      </section>
    );
  }
  return (
    <section className="banner error" aria-label="Organisation status" data-status="unavailable" data-testid="lifecycle-banner">
      <div>
        <p className="banner-title">This organisation is not available to you right now.</p>
        <p>
          It is suspended or cancelled, or still being set up. Then only its owner can open it, to see its billing. Ask the owner, or{' '}
          <Link to="/app">open another organisation</Link>.
        </p>
      </div>
    </section>
  );
}

import { collection, onSnapshot, orderBy, query, type DocumentData } from 'firebase/firestore';
import { useCallback, useEffect, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { PLANS, type PlanId } from '../../../functions/src/domain/plans';
import { firestore } from '../firestore';
import { call } from '../functions';
import { formatDate, formatDateTime, formatSource, formatStatus } from '../format';
import { useDocument } from '../provisioning/useDocument';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { Field, focusFirstInvalid } from '../ui/Field';
import { failureOf, type Failure } from '../ui/failure';
import { Empty, ErrorAlert, Loading, StatusBadge } from '../ui/states';
import { useSubmitOnce } from '../useSubmitOnce';
import { actionsFor, type ActionSpec } from './actions';
import { useStaff } from './AdminLayout';
import { ProvisioningTimeline } from './ProvisioningTimeline';

interface HistoryEntry {
  id: string;
  from: string | null;
  to: string;
  cause: string;
  actor: string;
  at: string;
  reason?: string;
}

/** /admin/tenants/:tenantId: everything about one tenant, and what staff can do about it. */
export function Component() {
  const { tenantId = '' } = useParams();
  const live = useDocument(`tenants/${tenantId}`);
  if (live.state === 'loading') return <Loading>Loading the tenant…</Loading>;
  if (live.state === 'missing') {
    return (
      <>
        <h1>Tenant not found</h1>
        <Empty title={`There is no tenant with the id ${tenantId}.`}>
          <Link to="/admin">Back to the tenants</Link>
        </Empty>
      </>
    );
  }
  if (live.state === 'denied') return <ErrorAlert>Your platform role may not read this tenant.</ErrorAlert>;
  if (live.state === 'error') return <ErrorAlert title="The tenant could not be loaded.">{live.message}</ErrorAlert>;
  return <TenantDetail tenantId={tenantId} tenant={live.data} />;
}

function TenantDetail({ tenantId, tenant }: { tenantId: string; tenant: DocumentData }) {
  const { platform } = useStaff();
  const jobLive = useDocument(tenant.provisioningJobId ? `provisioningJobs/${tenant.provisioningJobId}` : null);
  const job = jobLive.state === 'ready' ? jobLive.data : null;
  const history = useHistory(tenantId, `${tenant.status}|${tenant.statusChangedAt?.toMillis?.() ?? ''}|${tenant.updatedAt?.toMillis?.() ?? ''}`);
  const plan = PLANS[tenant.plan as PlanId]?.label ?? String(tenant.plan);

  return (
    <article className="tenant-detail" aria-labelledby="tenant-title">
      <p className="breadcrumb">
        <Link to="/admin">Tenants</Link> / {String(tenant.slug)}
      </p>
      <div className="tenant-title">
        <h1 id="tenant-title">{String(tenant.name)}</h1>
        <StatusBadge status={String(tenant.status)} />
      </div>
      <div className="detail-grid">
        <section className="card" aria-labelledby="profile-title">
          <h2 id="profile-title">Profile and contract</h2>
          <dl className="facts two">
            <Fact label="Tenant id" value={tenantId} mono />
            <Fact label="Subdomain" value={String(tenant.slug)} />
            <Fact label="Plan" value={plan} />
            <Fact label="Seat cap" value={String(tenant.seatCap)} />
            <Fact label="Source" value={formatSource(String(tenant.source))} />
            <Fact label="Billing email" value={String(tenant.billingEmail ?? '—')} />
            <Fact label="Trial ends" value={formatDate(tenant.trialEndsAt)} />
            <Fact label="Go-live" value={formatDate(tenant.goLiveAt)} />
            <Fact label="Failed payment retries" value={String(tenant.failedPaymentRetries ?? 0)} />
            <Fact label="Past due since" value={formatDateTime(tenant.pastDueSince)} />
            <Fact label="Created" value={formatDateTime(tenant.createdAt)} />
            <Fact label="Status changed" value={formatDateTime(tenant.statusChangedAt)} />
          </dl>
        </section>
        <div className="detail-side">
          <Actions tenantId={tenantId} tenant={tenant} job={job} platform={platform} onDone={history.reload} />
          <section className="card" aria-labelledby="stripe-title">
            <h2 id="stripe-title">Stripe</h2>
            <dl className="facts">
              <Fact label="Customer" value={String(tenant.stripeCustomerId ?? '—')} mono testId="stripe-customer" />
              <Fact label="Subscription" value={String(tenant.stripeSubscriptionId ?? '—')} mono testId="stripe-subscription" />
            </dl>
          </section>
        </div>
      </div>

      <section className="card" aria-labelledby="timeline-title">
        <h2 id="timeline-title">Provisioning</h2>
        {!tenant.provisioningJobId ? (
          <Empty title="No provisioning job is linked to this tenant." />
        ) : jobLive.state === 'loading' ? (
          <Loading>Loading the provisioning job…</Loading>
        ) : jobLive.state === 'error' ? (
          <ErrorAlert>{jobLive.message}</ErrorAlert>
        ) : !job ? (
          <Empty title="The provisioning job cannot be read." />
        ) : (
          <ProvisioningTimeline job={job} tenantId={tenantId} />
        )}
      </section>

      <section className="card" aria-labelledby="history-title">
        <h2 id="history-title">Lifecycle history</h2>
        {history.error ? (
          <ErrorAlert>{history.error}</ErrorAlert>
        ) : !history.entries ? (
          <Loading>Loading the history…</Loading>
        ) : history.entries.length === 0 ? (
          <Empty title="No history entries." />
        ) : (
          <div className="table-scroll" tabIndex={0} role="region" aria-label="Lifecycle history table">
            <table data-testid="history-table">
              <caption className="visually-hidden">Lifecycle history, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Change</th>
                  <th scope="col">Cause</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {history.entries.map((entry) => (
                  <tr key={entry.id}>
                    <td>{new Date(entry.at).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' })}</td>
                    <td>
                      {entry.from ? formatStatus(entry.from) : 'new'} → {formatStatus(entry.to)}
                    </td>
                    <td>{entry.cause.replace(/_/g, ' ')}</td>
                    <td className="mono small wrap">{entry.actor}</td>
                    <td className="wrap">{entry.reason ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section className="card" aria-labelledby="members-title">
        <h2 id="members-title">Members</h2>
        {platform === 'super_admin' ? (
          <Members tenantId={tenantId} />
        ) : (
          <p className="muted">
            Member lists are tenant data: only super admins see them (see docs/rules.md). The billing contact is {String(tenant.billingEmail ?? '—')}.
          </p>
        )}
      </section>
    </article>
  );
}

function Fact({ label, value, mono, testId }: { label: string; value: string; mono?: boolean; testId?: string }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd className={mono ? 'mono' : undefined} data-testid={testId}>
        {value}
      </dd>
    </div>
  );
}

/** History is server-only in the rules: staff read it through the `listTenantHistory` callable, again when the tenant changes. */
function useHistory(tenantId: string, version: string) {
  const [entries, setEntries] = useState<HistoryEntry[] | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let current = true;
    call<{ entries: HistoryEntry[] }>('listTenantHistory', { tenantId }).then(
      (result) => current && (setEntries(result.entries), setError(null)),
      (failure) => current && setError(failureOf(failure).message),
    );
    return () => {
      current = false;
    };
  }, [tenantId, version, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { entries, error, reload };
}

function Members({ tenantId }: { tenantId: string }) {
  const [members, setMembers] = useState<DocumentData[] | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  useEffect(
    () =>
      onSnapshot(
        query(collection(firestore(), 'tenants', tenantId, 'members'), orderBy('email')),
        (snapshot) => setMembers(snapshot.docs.map((member) => member.data())),
        (failure) => setError(failure.message),
      ),
    [tenantId],
  );
  if (error) return <ErrorAlert>{error}</ErrorAlert>;
  if (!members) return <Loading />;
  if (!members.length) return <Empty title="No members (a rolled-back tenant has none left)." />;
  return (
    <table data-testid="members-table">
      <caption className="visually-hidden">Members</caption>
      <thead>
        <tr>
          <th scope="col">Email</th>
          <th scope="col">Name</th>
          <th scope="col">Role</th>
          <th scope="col">Joined</th>
        </tr>
      </thead>
      <tbody>
        {members.map((member) => (
          <tr key={String(member.uid)}>
            <td>{String(member.email)}</td>
            <td>{String(member.displayName ?? '—')}</td>
            <td>{String(member.role)}</td>
            <td>{formatDateTime(member.joinedAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The actions this staff member may take, the ones the tenant's state allows, each confirmed with a reason. */
function Actions({ tenantId, tenant, job, platform, onDone }: { tenantId: string; tenant: DocumentData; job: DocumentData | null; platform: Parameters<typeof actionsFor>[0]; onDone: () => void }) {
  const mine = actionsFor(platform);
  const available = mine.filter((action) => action.applies(tenant, job, tenantId));
  const [open, setOpen] = useState<ActionSpec | null>(null);
  const [done, setDone] = useState<{ label: string; newTenantId?: string } | null>(null);
  return (
    <section className="card" aria-labelledby="actions-title">
      <h2 id="actions-title">Actions</h2>
      {available.length === 0 ? (
        <p className="muted">No action of your role ({platform.replace('_', ' ')}) applies to a tenant that is {formatStatus(String(tenant.status))}.</p>
      ) : (
        <div className="action-buttons">
          {available.map((action) => (
            <button key={action.id} type="button" className={action.danger ? 'danger-outline' : undefined} onClick={() => (setDone(null), setOpen(action))}>
              {action.label}
            </button>
          ))}
        </div>
      )}
      {done && (
        <p className="alert success" role="status">
          {done.label}: done.{' '}
          {done.newTenantId && (
            <Link to={`/admin/tenants/${done.newTenantId}`}>Open the new tenant</Link>
          )}
        </p>
      )}
      {open && (
        <ActionDialog
          action={open}
          tenantId={tenantId}
          tenant={tenant}
          job={job}
          onClose={() => setOpen(null)}
          onDone={(newTenantId) => {
            setDone({ label: open.label, newTenantId });
            setOpen(null);
            onDone();
          }}
        />
      )}
    </section>
  );
}

function defaultTrialEnd(): string {
  return new Date(Date.now() + 14 * 86_400_000).toISOString().slice(0, 10);
}

function ActionDialog({
  action,
  tenantId,
  tenant,
  job,
  onClose,
  onDone,
}: {
  action: ActionSpec;
  tenantId: string;
  tenant: DocumentData;
  job: DocumentData | null;
  onClose: () => void;
  onDone: (newTenantId?: string) => void;
}) {
  const [reason, setReason] = useState('');
  const [trialEndsAt, setTrialEndsAt] = useState(defaultTrialEnd);
  const [failure, setFailure] = useState<Failure | null>(null);
  const { busy, submitWith } = useSubmitOnce();
  const body = useRef<HTMLDivElement>(null);

  const confirm = submitWith(async () => {
    setFailure(null);
    try {
      if (action.callable === 'retryProvisioning') {
        const result = await call<{ tenantId: string }>('retryProvisioning', { jobId: tenant.provisioningJobId, attempt: job?.attempt ?? 1, reason });
        onDone(result.tenantId);
      } else if (action.callable === 'finishProvisioningRollback') {
        const result = await call<{ status: string; undoErrors: Array<{ step: string; message: string }> }>('finishProvisioningRollback', {
          jobId: tenant.provisioningJobId,
          reason,
        });
        if (result.undoErrors.length) throw new Error(`The undo failed again: ${result.undoErrors.map((e) => `${e.step}: ${e.message}`).join('; ')}`);
        onDone();
      } else {
        await call('changeTenantStatus', { tenantId, action: action.id, reason, ...(action.needsDate ? { trialEndsAt } : {}) });
        onDone();
      }
    } catch (error) {
      setFailure(failureOf(error));
      focusFirstInvalid(body.current);
    }
  });

  const errors = failure?.fieldErrors ?? {};
  const placed = ['reason', 'trialEndsAt'].some((field) => errors[field]);
  return (
    <ConfirmDialog open title={`${action.label}: ${tenant.name}`} confirmLabel={action.label} danger={action.danger} busy={busy} onConfirm={confirm} onClose={onClose}>
      <div ref={body}>
        <p>{action.consequence}</p>
        {action.id === 'retry' && job?.error && (
          <p className="muted small">
            The last attempt failed at {String(job.error.step)}: {String(job.error.message)}
          </p>
        )}
        {action.needsDate && (
          <Field label="New trial end" name="trialEndsAt" error={errors.trialEndsAt} hint="At most two years ahead (Stripe’s limit).">
            {(control) => <input {...control} type="date" required value={trialEndsAt} onChange={(e) => setTrialEndsAt(e.target.value)} />}
          </Field>
        )}
        <Field label="Reason" name="reason" error={errors.reason} hint="Kept in the tenant’s history with your name.">
          {(control) => <textarea {...control} rows={3} required autoFocus value={reason} onChange={(e) => setReason(e.target.value)} />}
        </Field>
        {failure && (!placed || failure.code !== 'functions/invalid-argument') && <ErrorAlert>{failure.message}</ErrorAlert>}
      </div>
    </ConfirmDialog>
  );
}

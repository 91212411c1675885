import type { User } from 'firebase/auth';
import { signOut } from 'firebase/auth';
import { collectionGroup, doc, onSnapshot, query, where, type DocumentData } from 'firebase/firestore';
import { useCallback, useEffect, useState } from 'react';
import { PLANS } from '../../functions/src/domain/plans';
import { firebase } from './firebase';
import { JobProgress, type JobOutcome } from './JobProgress';
import { errorMessage, formatDate, formatStatus } from './format';
import { Link } from './navigation';
import { SignedIn } from './SignInForm';
import { DomainJoinOrElse } from './team/DomainJoinOffer';

interface Membership {
  tenantId: string;
  role: string;
  /** On the owner's membership: the job that provisions the tenant, readable while the tenant is not. */
  provisioningJobId?: string;
}

export function TenantHome() {
  return (
    <SignedIn title="Sign in to your organisation" intro="Use the email and password you signed up with.">
      {(user) => <Memberships user={user} />}
    </SignedIn>
  );
}

function Memberships({ user }: { user: User }) {
  const [memberships, setMemberships] = useState<Membership[] | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);

  // Provisioning runs after signup returns (or in the Auth trigger): listen until the membership appears.
  useEffect(() => {
    const mine = query(collectionGroup(firebase().db, 'members'), where('uid', '==', user.uid));
    return onSnapshot(
      mine,
      (snapshot) =>
        setMemberships(
          snapshot.docs.map((member) => ({
            tenantId: member.ref.parent.parent!.id,
            role: String(member.get('role')),
            provisioningJobId: member.get('provisioningJobId'),
          })),
        ),
      (failure) => setError(errorMessage(failure)),
    );
  }, [user.uid]);

  return (
    <main className="page">
      <div className="page-header">
        <div>
          <h1>Your organisation</h1>
          <p className="muted">Signed in as {user.email}</p>
        </div>
        <button type="button" onClick={() => signOut(firebase().auth)}>
          Sign out
        </button>
      </div>
      {error ? (
        <p className="alert error" role="alert">{error}</p>
      ) : memberships === undefined ? (
        <p className="muted">Loading…</p>
      ) : memberships.length === 0 ? (
        <DomainJoinOrElse
          user={user}
          fallback={
            <div className="card pending" role="status">
              <span className="spinner" aria-hidden="true" />
              <div>
                <strong>Setting up your organisation…</strong>
                <p className="muted small">This takes a few seconds; the page updates by itself.</p>
              </div>
            </div>
          }
        />
      ) : (
        memberships.map((membership) => <TenantCard key={membership.tenantId} {...membership} />)
      )}
    </main>
  );
}

function TenantCard({ tenantId, role, provisioningJobId }: Membership) {
  const [tenant, setTenant] = useState<DocumentData | null | undefined>(undefined);
  const [error, setError] = useState<{ code?: string; message: string } | null>(null);
  // A tenant being provisioned cannot be read (no reads until it opens): listen again once its job completes.
  const [listen, setListen] = useState(0);
  const opened = useCallback((outcome: JobOutcome) => {
    if (outcome !== 'completed') return;
    setError(null);
    setListen((n) => n + 1);
  }, []);

  useEffect(
    () =>
      onSnapshot(
        doc(firebase().db, 'tenants', tenantId),
        (snapshot) => setTenant(snapshot.exists() ? snapshot.data() : null),
        (failure) => setError({ code: failure.code, message: errorMessage(failure) }),
      ),
    [tenantId, listen],
  );

  if (error?.code === 'permission-denied' && provisioningJobId) {
    return (
      <section className="card tenant" aria-label="Organisation being set up">
        <div className="pending" role="status">
          <span className="spinner" aria-hidden="true" />
          <div>
            <strong>Setting up your organisation…</strong>
            <p className="muted small">It opens as soon as billing and your workspace are ready; the page updates by itself.</p>
          </div>
        </div>
        <JobProgress jobId={provisioningJobId} onSettled={opened} />
      </section>
    );
  }
  if (error) return <p className="alert error" role="alert">{error.message}</p>;
  if (tenant === undefined) return <div className="card"><p className="muted">Loading…</p></div>;
  if (tenant === null) return <div className="card"><p className="muted">This organisation no longer exists.</p></div>;

  const plan = PLANS[tenant.plan as keyof typeof PLANS]?.label ?? tenant.plan;
  return (
    <section className="card tenant" aria-label={tenant.name}>
      <div className="tenant-title">
        <h2>{tenant.name}</h2>
        <span className={`badge status-${tenant.status}`} data-field="status">
          {formatStatus(tenant.status)}
        </span>
      </div>
      <dl className="facts">
        <div>
          <dt>Subdomain</dt>
          <dd data-field="slug">{tenant.slug}</dd>
        </div>
        <div>
          <dt>Plan</dt>
          <dd data-field="plan">{plan}</dd>
        </div>
        <div>
          <dt>Seats</dt>
          <dd data-field="seatCap">{tenant.seatCap}</dd>
        </div>
        {tenant.trialEndsAt && (
          <div>
            <dt>Trial ends</dt>
            <dd data-field="trialEndsAt">{formatDate(tenant.trialEndsAt)}</dd>
          </div>
        )}
        <div>
          <dt>Your role</dt>
          <dd data-field="role">{role}</dd>
        </div>
      </dl>
      <nav className="tenant-links" aria-label={`${tenant.name} sections`}>
        <Link to={`/app/team?tenant=${tenantId}`}>Team</Link>
        {(role === 'owner' || role === 'admin') && <Link to={`/app/domains?tenant=${tenantId}`}>Domains</Link>}
      </nav>
    </section>
  );
}

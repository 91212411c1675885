import type { DocumentData, Timestamp } from 'firebase/firestore';
import { lazy, Suspense, type ReactNode } from 'react';
import { Link } from 'react-router';
import { formatDate } from '../format';
import { Loading } from '../ui/states';
import type { Member } from './access';

const DAY_MS = 86_400_000;
const JobProgress = lazy(() => import('../provisioning/JobProgress'));

/** Days left until `end`, counting a part day as a day (ends tomorrow morning: 1 day left). */
export function daysLeft(end: Date, now: Date): number {
  return Math.max(0, Math.ceil((end.getTime() - now.getTime()) / DAY_MS));
}

/**
 * What the tenant's status means for the person looking, and what to do about it. Every status has
 * its words; `active` needs none.
 */
export function LifecycleBanner({ tenantId, tenant, member, now }: { tenantId: string; tenant: DocumentData; member: Member; now: Date }) {
  const name = String(tenant.name);
  const pays = member.role === 'owner' || member.role === 'admin';
  const billing = (label: string) => (pays ? <Link to="billing">{label}</Link> : null);
  const askOwner = pays ? null : ' Ask your organisation’s owner.';
  const trialEnds = (tenant.trialEndsAt as Timestamp | null)?.toDate();

  switch (member.status) {
    case 'active':
      return null;
    case 'trial': {
      if (!trialEnds) return null;
      const left = daysLeft(trialEnds, now);
      const sales = tenant.source === 'sales';
      return (
        <Banner tone={left <= 3 ? 'warning' : 'info'} status="trial" title={sales ? `Goes live on ${formatDate(tenant.trialEndsAt)}` : `Trial: ${left} ${left === 1 ? 'day' : 'days'} left`}>
          {sales ? (
            <>Until then {name} runs as a trial with everything enabled.</>
          ) : (
            <>
              Your trial of {name} ends on {formatDate(tenant.trialEndsAt)}. Choose a plan before then to keep working; your data stays either way.{' '}
              {billing('Choose a plan')}
              {askOwner}
            </>
          )}
        </Banner>
      );
    }
    case 'trial_expired':
      return (
        <Banner tone="warning" status="trial_expired" title="Your trial has ended: the workspace is read-only">
          Your data is kept, and everyone can still read it. Upgrade to keep working. {billing('Upgrade now')}
          {askOwner}
        </Banner>
      );
    case 'past_due':
      return member.failedPaymentRetries >= 1 ? (
        <Banner tone="error" status="past_due" title="Payment failed again: the workspace is read-only">
          The retry of your last payment failed too. Update your card to unlock changes; your data is kept. {billing('Update your card')}
          {askOwner}
        </Banner>
      ) : (
        <Banner tone="warning" status="past_due" title="Your last payment failed">
          Update your card: if the automatic retry fails too, the workspace becomes read-only. {billing('Update your card')}
          {askOwner}
        </Banner>
      );
    case 'suspended':
      return (
        <Banner tone="error" status="suspended" title={`${name} is suspended`}>
          Its data is locked for everyone; only you, as its owner, can still see its billing. Settle the open invoice to restore access.{' '}
          {billing('Open billing')}
        </Banner>
      );
    case 'cancelled':
      return (
        <Banner tone="error" status="cancelled" title={`${name} is cancelled`}>
          Its data is locked for everyone; only you, as its owner, can still see its billing. Reactivate the subscription to open it again.{' '}
          {billing('Open billing')}
        </Banner>
      );
    case 'provisioning':
      return (
        <Banner tone="info" status="provisioning" title={`Setting up ${name}…`}>
          This takes a few seconds; the page updates by itself.
          {tenant.provisioningJobId && (
            <Suspense fallback={<Loading />}>
              <JobProgress jobId={String(tenant.provisioningJobId)} />
            </Suspense>
          )}
        </Banner>
      );
    case 'failed':
      return (
        <Banner tone="error" status="failed" title={`Setting up ${name} failed`}>
          Everything that was started was undone and nothing was charged. <Link to="/app">Try again</Link> from your workspace, or contact support quoting{' '}
          <code>{tenantId}</code>.
        </Banner>
      );
  }
}

function Banner({ tone, status, title, children }: { tone: 'info' | 'warning' | 'error'; status: string; title: string; children: ReactNode }) {
  return (
    <section className={`banner ${tone}`} aria-label="Organisation status" data-status={status} data-testid="lifecycle-banner">
      <div>
        <p className="banner-title">{title}</p>
        <div>{children}</div>
      </div>
    </section>
  );
}

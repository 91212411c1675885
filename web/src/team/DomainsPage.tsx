import { collection, onSnapshot, type Timestamp } from 'firebase/firestore';
import { useEffect, useState } from 'react';
import { claimHoldsDomain, DOMAIN_JOIN_ROLES, DOMAIN_LAPSE_GRACE_DAYS, DOMAIN_VERIFY_WINDOW_DAYS, JOIN_POLICIES } from '../../../functions/src/domain/domains';
import { firestore } from '../firestore';
import { errorMessage, formatDateTime } from '../format';
import { useSubmitOnce } from '../useSubmitOnce';
import { useTenant } from '../workspace/TenantLayout';
import { team } from './callables';

interface Claim {
  domain: string;
  status: 'pending' | 'verified' | 'lapsing' | 'failed' | 'released';
  recordName: string;
  recordValue: string;
  claimedAt?: Timestamp;
  verifyBy?: Timestamp;
  nextCheckAt?: Timestamp | null;
  verifiedAt?: Timestamp | null;
  attempts?: number;
  lastCheck?: { at: Timestamp; outcome: string; seen: string[]; message: string } | null;
  failureReason?: string | null;
  releaseAt?: Timestamp | null;
  releaseReason?: string | null;
  joinPolicy?: 'off' | 'suggest' | 'auto';
  defaultRole?: string;
}

const POLICY_LABELS: Record<(typeof JOIN_POLICIES)[number], string> = {
  off: 'Off: people join only by invite',
  suggest: 'Suggest: new signups at this domain are offered to join',
  auto: 'Automatic: new signups at this domain join with the default role, and cannot create a separate organisation',
};

const OUTCOME_LABELS: Record<string, string> = {
  found: 'Record found',
  'no-record': 'No record yet',
  'other-value': 'Wrong value',
  'lookup-failed': 'Lookup failed',
};

/** /app/:tenant/domains: claim a domain, the TXT record to add, its status and checks, and who may join by it. */
export function Component() {
  const { tenantId, member } = useTenant();
  if (member.role !== 'owner' && member.role !== 'admin') {
    return <p className="alert info" role="alert">Only the owner and admins manage the organisation's domains.</p>;
  }
  return <DomainsOf tenantId={tenantId} />;
}

function DomainsOf({ tenantId }: { tenantId: string }) {
  const [claims, setClaims] = useState<Claim[] | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  useEffect(
    () =>
      onSnapshot(
        collection(firestore(), 'tenants', tenantId, 'domains'),
        (snapshot) => setClaims(snapshot.docs.map((d) => d.data() as Claim).sort((a, b) => a.domain.localeCompare(b.domain))),
        (failure) => setError(errorMessage(failure)),
      ),
    [tenantId],
  );
  return (
    <section aria-labelledby="domains-title" className="domains">
      <h2 id="domains-title" className="visually-hidden">Domains</h2>
      <ClaimForm tenantId={tenantId} />
      {error && <p className="alert error" role="alert">{error}</p>}
      {claims === undefined ? (
        <p className="muted">Loading…</p>
      ) : claims.length === 0 ? (
        <p className="muted">No domains yet. Claim your company's mail domain to let colleagues find this organisation when they sign up.</p>
      ) : (
        claims.map((claim) => <ClaimCard key={claim.domain} tenantId={tenantId} claim={claim} />)
      )}
    </section>
  );
}

function ClaimForm({ tenantId }: { tenantId: string }) {
  const [domain, setDomain] = useState('');
  const [failure, setFailure] = useState<string | null>(null);
  const { busy, submitWith } = useSubmitOnce();
  const submit = submitWith(async () => {
    setFailure(null);
    try {
      await team.claimDomain({ tenantId, domain });
      setDomain('');
    } catch (error) {
      setFailure(errorMessage(error));
    }
  });
  return (
    <form className="card" onSubmit={submit} aria-label="Claim a domain">
      <h2>Claim a domain</h2>
      <p className="muted small">
        Prove that your organisation controls a mail domain with a DNS TXT record. Then people who sign up with an address at it can be offered to join, or join
        automatically. Public mail domains (gmail.com and the like) cannot be claimed.
      </p>
      <div className="inline-form">
        <label className="grow">
          Domain
          <input name="domain" required autoCapitalize="none" spellCheck={false} placeholder="acme.com" value={domain} onChange={(e) => setDomain(e.target.value)} aria-invalid={failure ? true : undefined} />
        </label>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Claiming…' : 'Claim domain'}
        </button>
      </div>
      {failure && <p className="alert error" role="alert">{failure}</p>}
    </form>
  );
}

function CopyField({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div className="copy-field">
      <span className="copy-label">{label}</span>
      <code data-field={label.toLowerCase()}>{value}</code>
      <button type="button" onClick={copy} aria-label={`${copied ? 'Copied' : 'Copy'} ${label.toLowerCase()}`}>
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}

function ClaimCard({ tenantId, claim }: { tenantId: string; claim: Claim }) {
  const [message, setMessage] = useState<{ kind: 'error' | 'success'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirmingUnclaim, setConfirmingUnclaim] = useState(false);
  const holds = claimHoldsDomain(claim.status);
  const run = async (work: () => Promise<string>) => {
    setBusy(true);
    setMessage(null);
    try {
      const text = await work();
      // An empty outcome: the claim's own card (status, last check) already says what happened.
      if (text) setMessage({ kind: 'success', text });
    } catch (error) {
      setMessage({ kind: 'error', text: errorMessage(error) });
    }
    setBusy(false);
  };
  const check = claim.lastCheck;
  return (
    <section className="card domain" aria-label={claim.domain}>
      <div className="tenant-title">
        <h2>{claim.domain}</h2>
        <span className={`badge domain-${claim.status}`} data-field="domain-status">
          {claim.status}
        </span>
      </div>
      {claim.status === 'lapsing' && (
        <p className="alert error" data-field="lapsing">
          The TXT record is gone from your DNS. Put it back by {formatDateTime(claim.releaseAt)}, or {claim.domain} is released: colleagues then no longer join by
          their address, and another organisation may claim it. We look again every 12 hours ({DOMAIN_LAPSE_GRACE_DAYS} days in all).
        </p>
      )}
      {(claim.status === 'pending' || claim.status === 'lapsing') && (
        <>
          {claim.status === 'pending' ? (
            <p>
              Add this TXT record at your DNS provider. We check it automatically for {DOMAIN_VERIFY_WINDOW_DAYS} days (until {formatDateTime(claim.verifyBy)}); new
              records can take up to 48 hours to be seen.
            </p>
          ) : (
            <p>The record to put back at your DNS provider:</p>
          )}
          <div className="record">
            <CopyField label="Type" value="TXT" />
            <CopyField label="Name" value={claim.recordName} />
            <CopyField label="Value" value={claim.recordValue} />
          </div>
        </>
      )}
      <dl className="inline-facts">
        <dt>Last check</dt>
        <dd data-field="last-check">{check ? `${OUTCOME_LABELS[check.outcome] ?? check.outcome} · ${formatDateTime(check.at)}` : 'not checked yet'}</dd>
        {claim.status !== 'failed' && claim.status !== 'released' && (
          <>
            <dt>Next automatic check</dt>
            <dd>{formatDateTime(claim.nextCheckAt)}</dd>
          </>
        )}
        {claim.status === 'verified' && (
          <>
            <dt>Verified</dt>
            <dd>{formatDateTime(claim.verifiedAt)}</dd>
          </>
        )}
      </dl>
      {check && claim.status !== 'verified' && claim.status !== 'released' && (
        <p className={`alert ${check.outcome === 'found' ? 'success' : 'info'}`} data-field="check-message">
          {check.message}
        </p>
      )}
      {claim.status === 'failed' && claim.failureReason && (
        <p className="alert error" data-field="failure-reason">
          {claim.failureReason}
        </p>
      )}
      {claim.status === 'released' && claim.releaseReason && (
        <p className="alert error" data-field="release-reason">
          {claim.releaseReason}
        </p>
      )}
      {message && (
        <p className={`alert ${message.kind}`} role={message.kind === 'error' ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}
      <div className="actions">
        {(claim.status === 'pending' || claim.status === 'lapsing') && (
          <button
            type="button"
            className="primary"
            disabled={busy}
            onClick={() =>
              run(async () => {
                const result = await team.verifyDomain({ tenantId, domain: claim.domain });
                return result.status === 'verified' ? `${claim.domain} is verified.` : '';
              })
            }
          >
            {busy ? 'Checking…' : 'Check now'}
          </button>
        )}
        {(claim.status === 'failed' || claim.status === 'released') && (
          <button type="button" className="primary" disabled={busy} onClick={() => run(async () => (await team.claimDomain({ tenantId, domain: claim.domain }), 'A new record was issued: add it, then check.'))}>
            Claim again
          </button>
        )}
        {confirmingUnclaim ? (
          <span className="confirm" role="group" aria-label={`Unclaim ${claim.domain}?`}>
            <span className="small">
              {holds
                ? `Unclaim ${claim.domain}? Colleagues at it no longer join by their address, and another organisation may claim it.`
                : `Unclaim ${claim.domain}? Its record is no longer checked.`}
            </span>
            <button type="button" className="danger" disabled={busy} onClick={() => run(async () => (await team.unclaimDomain({ tenantId, domain: claim.domain }), ''))}>
              Unclaim
            </button>
            <button type="button" disabled={busy} onClick={() => setConfirmingUnclaim(false)}>
              Cancel
            </button>
          </span>
        ) : (
          <button type="button" disabled={busy} onClick={() => setConfirmingUnclaim(true)} aria-label={`Unclaim ${claim.domain}`}>
            Unclaim
          </button>
        )}
      </div>
      {holds && <JoinPolicyForm tenantId={tenantId} claim={claim} />}
    </section>
  );
}

function JoinPolicyForm({ tenantId, claim }: { tenantId: string; claim: Claim }) {
  const [joinPolicy, setJoinPolicy] = useState(claim.joinPolicy ?? 'off');
  const [defaultRole, setDefaultRole] = useState(claim.defaultRole ?? 'member');
  const [message, setMessage] = useState<{ kind: 'error' | 'success'; text: string } | null>(null);
  const { busy, submitWith } = useSubmitOnce();
  const submit = submitWith(async () => {
    setMessage(null);
    try {
      await team.setDomainJoinPolicy({ tenantId, domain: claim.domain, joinPolicy, defaultRole });
      setMessage({ kind: 'success', text: 'Saved.' });
    } catch (error) {
      setMessage({ kind: 'error', text: errorMessage(error) });
    }
  });
  return (
    <form onSubmit={submit} aria-label={`Who joins by ${claim.domain}`} className="join-policy">
      <fieldset>
        <legend>New signups at {claim.domain}</legend>
        {JOIN_POLICIES.map((policy) => (
          <label key={policy} className="radio">
            <input type="radio" name={`policy-${claim.domain}`} value={policy} checked={joinPolicy === policy} onChange={() => setJoinPolicy(policy)} />
            {POLICY_LABELS[policy]}
          </label>
        ))}
      </fieldset>
      <div className="inline-form">
        <label>
          Default role
          <select value={defaultRole} onChange={(e) => setDefaultRole(e.target.value)} disabled={joinPolicy === 'off'}>
            {DOMAIN_JOIN_ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save'}
        </button>
      </div>
      {message && (
        <p className={`alert ${message.kind}`} role={message.kind === 'error' ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}
    </form>
  );
}

import { getIdTokenResult, signOut, type User } from 'firebase/auth';
import { collection, doc, limit, onSnapshot, orderBy, query, type DocumentData } from 'firebase/firestore';
import { httpsCallable } from 'firebase/functions';
import { useEffect, useState } from 'react';
import { PLAN_IDS, PLANS, type PlanId } from '../../functions/src/domain/plans';
import { firebase } from './firebase';
import { errorMessage, formatDate, formatDateTime, formatStatus } from './format';
import { JobProgress } from './JobProgress';
import { SignedIn } from './SignInForm';
import { useSubmitOnce } from './useSubmitOnce';

const STAFF_ROLES = ['super_admin', 'sales'];

/** The input of the `provisionTenant` callable (SalesProvisioningSchema in functions/src/domain/signup.ts). */
interface ProvisionInput {
  idempotencyKey: string;
  companyName: string;
  plan: PlanId;
  seatCap?: number;
  goLiveAt?: string;
  admin: { email: string; displayName: string };
  subdomain?: string;
}
interface ProvisioningResult {
  tenantId: string;
  status: string;
  jobId: string;
}

export function AdminPage() {
  return (
    <SignedIn title="Sales admin" intro="Sign in with your platform staff account.">
      {(user) => <StaffOnly user={user} />}
    </SignedIn>
  );
}

function StaffOnly({ user }: { user: User }) {
  const [platform, setPlatform] = useState<string | null | undefined>(undefined);

  // Claims set after the last sign-in reach only a fresh token: force a refresh.
  useEffect(() => {
    let current = true;
    getIdTokenResult(user, true).then(
      (token) => current && setPlatform(typeof token.claims.platform === 'string' ? token.claims.platform : null),
      () => current && setPlatform(null),
    );
    return () => {
      current = false;
    };
  }, [user]);

  const header = (
    <div className="page-header">
      <div>
        <h1>Sales admin</h1>
        <p className="muted">
          Signed in as {user.email}
          {platform && ` · ${platform}`}
        </p>
      </div>
      <button type="button" onClick={() => signOut(firebase().auth)}>
        Sign out
      </button>
    </div>
  );

  if (platform === undefined) return <main className="page">{header}<p className="muted">Checking your access…</p></main>;
  if (!platform || !STAFF_ROLES.includes(platform)) {
    return (
      <main className="page">
        {header}
        <p className="alert info" role="alert">
          This page is for platform staff. Your account has no platform role.
        </p>
      </main>
    );
  }
  return (
    <main className="page wide">
      {header}
      <ProvisionForm />
      <RecentTenants />
    </main>
  );
}

function ProvisionForm() {
  const [key, setKey] = useState(() => crypto.randomUUID());
  const [companyName, setCompanyName] = useState('');
  const [plan, setPlan] = useState<PlanId>('team');
  const [seatCap, setSeatCap] = useState('');
  const [goLiveAt, setGoLiveAt] = useState('');
  const [adminName, setAdminName] = useState('');
  const [adminEmail, setAdminEmail] = useState('');
  const [subdomain, setSubdomain] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<ProvisioningResult | null>(null);
  const { busy, submitWith } = useSubmitOnce();

  function reset() {
    setKey(crypto.randomUUID());
    setCompanyName('');
    setPlan('team');
    setSeatCap('');
    setGoLiveAt('');
    setAdminName('');
    setAdminEmail('');
    setSubdomain('');
    setError(null);
  }

  const submit = submitWith(async () => {
    setError(null);
    setResult(null);
    // The key stays until a success: a retry of this submission is replayed, never provisioned twice.
    const input: ProvisionInput = {
      idempotencyKey: key,
      companyName,
      plan,
      ...(seatCap.trim() ? { seatCap: Number(seatCap) } : {}),
      ...(goLiveAt ? { goLiveAt } : {}),
      admin: { email: adminEmail.trim(), displayName: adminName },
      ...(subdomain.trim() ? { subdomain: subdomain.trim() } : {}),
    };
    try {
      const { data } = await httpsCallable<ProvisionInput, ProvisioningResult>(firebase().functions, 'provisionTenant')(input);
      setResult(data);
      reset();
    } catch (failure) {
      setError(errorMessage(failure));
    }
  });

  return (
    <section className="card">
      <h2>Provision a tenant</h2>
      <form onSubmit={submit} aria-label="Provision a tenant" className="grid-form">
        <label className="span-2">
          Company name
          <input name="companyName" required value={companyName} onChange={(e) => setCompanyName(e.target.value)} />
        </label>
        <label>
          Plan
          <select name="plan" value={plan} onChange={(e) => setPlan(e.target.value as PlanId)}>
            {PLAN_IDS.map((id) => (
              <option key={id} value={id}>
                {PLANS[id].label} (default {PLANS[id].seatCap} seats)
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Seat cap <span className="optional">optional</span></span>
          <input name="seatCap" type="number" min={1} step={1} inputMode="numeric" placeholder={`plan default: ${PLANS[plan].seatCap}`} value={seatCap} onChange={(e) => setSeatCap(e.target.value)} />
        </label>
        <label>
          <span>Go-live date <span className="optional">optional</span></span>
          <input name="goLiveAt" type="date" value={goLiveAt} onChange={(e) => setGoLiveAt(e.target.value)} />
          <span className="hint">Trial until this date, then active. Empty: active today.</span>
        </label>
        <label>
          <span>Subdomain <span className="optional">optional</span></span>
          <input name="subdomain" autoCapitalize="none" spellCheck={false} placeholder="derived from the company name" value={subdomain} onChange={(e) => setSubdomain(e.target.value)} />
        </label>
        <label>
          Customer admin name
          <input name="adminName" required value={adminName} onChange={(e) => setAdminName(e.target.value)} />
        </label>
        <label>
          Customer admin email
          <input name="adminEmail" type="email" required value={adminEmail} onChange={(e) => setAdminEmail(e.target.value)} />
        </label>
        {error && (
          <p className="alert error span-2" role="alert">
            {error}
          </p>
        )}
        <div className="actions span-2">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Provisioning…' : 'Provision tenant'}
          </button>
          <button type="button" onClick={reset} disabled={busy}>
            Clear form
          </button>
          <span className="muted small" title="Sent as the idempotency key: a retry of this submission never provisions twice">
            Request {key.slice(0, 8)}
          </span>
        </div>
      </form>
      {result && (
        <div className="alert success" role="status" data-testid="provision-result">
          <strong>Tenant created.</strong>
          <dl className="inline-facts">
            <dt>Tenant id</dt>
            <dd data-field="tenantId">{result.tenantId}</dd>
            <dt>Status</dt>
            <dd data-field="status">
              <LiveStatus tenantId={result.tenantId} initial={result.status} />
            </dd>
            <dt>Job id</dt>
            <dd data-field="jobId">{result.jobId}</dd>
          </dl>
          <JobProgress jobId={result.jobId} />
        </div>
      )}
    </section>
  );
}

/** The tenant's status as it changes: `provisioning` until the saga opens it (staff read tenants in every status). */
function LiveStatus({ tenantId, initial }: { tenantId: string; initial: string }) {
  const [status, setStatus] = useState(initial);
  useEffect(
    () => onSnapshot(doc(firebase().db, 'tenants', tenantId), (snapshot) => snapshot.exists() && setStatus(String(snapshot.get('status'))), () => undefined),
    [tenantId],
  );
  return <>{formatStatus(status)}</>;
}

interface TenantRow {
  id: string;
  data: DocumentData;
}

function RecentTenants() {
  const [rows, setRows] = useState<TenantRow[] | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const recent = query(collection(firebase().db, 'tenants'), orderBy('createdAt', 'desc'), limit(20));
    return onSnapshot(
      recent,
      (snapshot) => setRows(snapshot.docs.map((tenant) => ({ id: tenant.id, data: tenant.data() }))),
      (failure) => setError(errorMessage(failure)),
    );
  }, []);

  return (
    <section className="card">
      <h2>Recent tenants</h2>
      {error ? (
        <p className="alert error" role="alert">{error}</p>
      ) : rows === undefined ? (
        <p className="muted">Loading…</p>
      ) : rows.length === 0 ? (
        <p className="muted">No tenants yet.</p>
      ) : (
        <div className="table-scroll">
          <table aria-label="Recent tenants">
            <thead>
              <tr>
                <th>Name</th>
                <th>Subdomain</th>
                <th>Plan</th>
                <th>Status</th>
                <th className="num">Seats</th>
                <th>Trial ends</th>
                <th>Source</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(({ id, data }) => (
                <tr key={id} data-tenant-id={id}>
                  <td>{data.name}</td>
                  <td>{data.slug}</td>
                  <td>{PLANS[data.plan as PlanId]?.label ?? data.plan}</td>
                  <td>
                    <span className={`badge status-${data.status}`}>{formatStatus(data.status)}</span>
                  </td>
                  <td className="num">{data.seatCap}</td>
                  <td>{formatDate(data.trialEndsAt)}</td>
                  <td>{data.source === 'self_serve' ? 'self-serve' : data.source}</td>
                  <td>{formatDateTime(data.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

import { lazy, Suspense, useRef, useState } from 'react';
import { Link } from 'react-router';
import { DEFAULT_DAYS_UNTIL_DUE, PLAN_IDS, PLANS, type PlanId } from '../../../functions/src/domain/plans';
import { formatStatus } from '../format';
import { useDocument } from '../provisioning/useDocument';
import { call } from '../functions';
import { Field, focusFirstInvalid } from '../ui/Field';
import { failureOf, type Failure } from '../ui/failure';
import { Loading } from '../ui/states';
import { useSubmitOnce } from '../useSubmitOnce';

const JobProgress = lazy(() => import('../provisioning/JobProgress'));

/** The input of the `provisionTenant` callable (SalesProvisioningSchema in functions/src/domain/signup.ts). */
interface ProvisionInput {
  idempotencyKey: string;
  companyName: string;
  plan: PlanId;
  seatCap?: number;
  goLiveAt?: string;
  daysUntilDue?: number;
  admin: { email: string; displayName: string };
  subdomain?: string;
}
interface ProvisioningResult {
  tenantId: string;
  status: string;
  jobId: string;
}

/** /admin/new: a sales-assisted tenant from contract values. */
export function Component() {
  const [key, setKey] = useState(() => crypto.randomUUID());
  const [companyName, setCompanyName] = useState('');
  const [plan, setPlan] = useState<PlanId>('team');
  const [seatCap, setSeatCap] = useState('');
  const [goLiveAt, setGoLiveAt] = useState('');
  const [daysUntilDue, setDaysUntilDue] = useState('');
  const [adminName, setAdminName] = useState('');
  const [adminEmail, setAdminEmail] = useState('');
  const [subdomain, setSubdomain] = useState('');
  const [failure, setFailure] = useState<Failure | null>(null);
  const [result, setResult] = useState<ProvisioningResult | null>(null);
  const { busy, submitWith } = useSubmitOnce();
  const form = useRef<HTMLFormElement>(null);

  function reset() {
    setKey(crypto.randomUUID());
    setCompanyName('');
    setPlan('team');
    setSeatCap('');
    setGoLiveAt('');
    setDaysUntilDue('');
    setAdminName('');
    setAdminEmail('');
    setSubdomain('');
    setFailure(null);
  }

  const submit = submitWith(async () => {
    setFailure(null);
    setResult(null);
    // The key stays until a success: a retry of this submission is replayed, never provisioned twice.
    const input: ProvisionInput = {
      idempotencyKey: key,
      companyName,
      plan,
      ...(seatCap.trim() ? { seatCap: Number(seatCap) } : {}),
      ...(goLiveAt ? { goLiveAt } : {}),
      ...(daysUntilDue.trim() ? { daysUntilDue: Number(daysUntilDue) } : {}),
      admin: { email: adminEmail.trim(), displayName: adminName },
      ...(subdomain.trim() ? { subdomain: subdomain.trim() } : {}),
    };
    try {
      setResult(await call<ProvisioningResult>('provisionTenant', input));
      reset();
    } catch (error) {
      setFailure(failureOf(error));
      focusFirstInvalid(form.current);
    }
  });

  const errors = failure?.fieldErrors ?? {};
  return (
    <section aria-labelledby="provision-title">
      <h1 id="provision-title">Provision a tenant</h1>
      <form ref={form} className="card grid-form" onSubmit={submit} aria-labelledby="provision-title" noValidate>
        <Field className="span-2" label="Company name" name="companyName" error={errors.companyName}>
          {(control) => <input {...control} required value={companyName} onChange={(e) => setCompanyName(e.target.value)} />}
        </Field>
        <Field label="Plan" name="plan" error={errors.plan}>
          {(control) => (
            <select {...control} value={plan} onChange={(e) => setPlan(e.target.value as PlanId)}>
              {PLAN_IDS.map((id) => (
                <option key={id} value={id}>
                  {PLANS[id].label} (default {PLANS[id].seatCap} seats)
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Seat cap" name="seatCap" optional error={errors.seatCap}>
          {(control) => (
            <input {...control} type="number" min={1} step={1} inputMode="numeric" placeholder={`plan default: ${PLANS[plan].seatCap}`} value={seatCap} onChange={(e) => setSeatCap(e.target.value)} />
          )}
        </Field>
        <Field label="Go-live date" name="goLiveAt" optional error={errors.goLiveAt} hint="Trial until this date, then active. Empty: active today.">
          {(control) => <input {...control} type="date" value={goLiveAt} onChange={(e) => setGoLiveAt(e.target.value)} />}
        </Field>
        <Field label="Payment terms" name="daysUntilDue" optional error={errors.daysUntilDue} hint="Days until each invoice is due. Billed by invoice, no card.">
          {(control) => (
            <input {...control} type="number" min={1} max={365} step={1} inputMode="numeric" placeholder={`${DEFAULT_DAYS_UNTIL_DUE} days`} value={daysUntilDue} onChange={(e) => setDaysUntilDue(e.target.value)} />
          )}
        </Field>
        <Field label="Subdomain" name="subdomain" optional error={errors.subdomain ?? errors.slug}>
          {(control) => (
            <input {...control} autoCapitalize="none" spellCheck={false} placeholder="derived from the company name" value={subdomain} onChange={(e) => setSubdomain(e.target.value)} />
          )}
        </Field>
        <Field label="Customer admin name" name="adminName" error={errors['admin.displayName']}>
          {(control) => <input {...control} required value={adminName} onChange={(e) => setAdminName(e.target.value)} />}
        </Field>
        <Field label="Customer admin email" name="adminEmail" error={errors['admin.email']}>
          {(control) => <input {...control} type="email" required value={adminEmail} onChange={(e) => setAdminEmail(e.target.value)} />}
        </Field>
        {failure && (
          <p className="alert error span-2" role="alert">
            {failure.message}
          </p>
        )}
        <div className="actions span-2">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Provisioning…' : 'Provision tenant'}
          </button>
          <button type="button" onClick={reset} disabled={busy}>
            Clear form
          </button>
          <span className="muted small request-key" title="Sent as the idempotency key: a retry of this submission never provisions twice">
            Request {key.slice(0, 8)}
          </span>
        </div>
      </form>
      {result && (
        <div className="card alert success" role="status" data-testid="provision-result">
          <strong>Tenant created.</strong>{' '}
          <Link to={`/admin/tenants/${result.tenantId}`}>Open it</Link>
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
          <Suspense fallback={<Loading />}>
            <JobProgress jobId={result.jobId} audience="operator" />
          </Suspense>
        </div>
      )}
    </section>
  );
}

/** The tenant's status as it changes: `provisioning` until the saga opens it (staff read tenants in every status). */
function LiveStatus({ tenantId, initial }: { tenantId: string; initial: string }) {
  const live = useDocument(`tenants/${tenantId}`);
  return <>{formatStatus(live.state === 'ready' ? String(live.data.status) : initial)}</>;
}

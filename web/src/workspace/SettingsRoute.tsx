import { doc, updateDoc } from 'firebase/firestore';
import { useRef, useState } from 'react';
import { PLANS, type PlanId } from '../../../functions/src/domain/plans';
import { firestore } from '../firestore';
import { formatDate } from '../format';
import { Field, focusFirstInvalid } from '../ui/Field';
import { isPermissionDenied } from '../ui/failure';
import { ErrorAlert } from '../ui/states';
import { useSubmitOnce } from '../useSubmitOnce';
import { blockReason } from './access';
import { useTenant } from './TenantLayout';

/** The rename the rules accept (firestore.rules, the tenant's `name`): 2 to 100 characters, no surrounding spaces. */
function nameError(name: string): string | null {
  const trimmed = name.trim();
  if (trimmed.length < 2) return 'At least 2 characters.';
  if (trimmed.length > 100) return `At most 100 characters (now ${trimmed.length}).`;
  return null;
}

/** /app/:tenant/settings: the organisation's name (owner and admin may change it) and its fixed facts. */
export function Component() {
  const { tenantId, tenant, member } = useTenant();
  const blocked = blockReason(member, 'tenant', 'update');
  const [name, setName] = useState(String(tenant.name));
  const [error, setError] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const { busy, submitWith } = useSubmitOnce();
  const form = useRef<HTMLFormElement>(null);

  const rename = submitWith(async () => {
    setFailure(null);
    setSaved(false);
    const problem = nameError(name);
    setError(problem);
    if (problem) return focusFirstInvalid(form.current);
    try {
      await updateDoc(doc(firestore(), 'tenants', tenantId), { name: name.trim() });
      setName(name.trim());
      setSaved(true);
    } catch (caught) {
      setFailure(isPermissionDenied(caught) ? `The server refused the rename. ${blocked ?? ''}` : String(caught));
    }
  });

  return (
    <section aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <form ref={form} className="card" onSubmit={rename} aria-label="Rename the organisation" noValidate>
        <fieldset disabled={Boolean(blocked) || busy}>
          <legend>Name</legend>
          <Field label="Organisation name" name="name" error={error ?? undefined} hint={blocked ?? 'Shown to everyone in the organisation and on invoices.'}>
            {(control) => <input {...control} value={name} maxLength={200} onChange={(e) => setName(e.target.value)} />}
          </Field>
          <button type="submit" className="primary">
            {busy ? 'Saving…' : 'Save name'}
          </button>
        </fieldset>
        {failure && <ErrorAlert>{failure}</ErrorAlert>}
        {saved && (
          <p className="alert success" role="status">
            Saved.
          </p>
        )}
      </form>
      <div className="card">
        <h3>About this organisation</h3>
        <dl className="facts">
          <Fact label="Subdomain" value={String(tenant.slug)} />
          <Fact label="Plan" value={PLANS[tenant.plan as PlanId]?.label ?? String(tenant.plan)} />
          <Fact label="Seats" value={String(tenant.seatCap)} />
          <Fact label="Created" value={formatDate(tenant.createdAt)} />
          <Fact label="Organisation id" value={tenantId} mono />
        </dl>
      </div>
    </section>
  );
}

function Fact({ label, value, mono }: { label: string; value: string; mono?: boolean }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd className={mono ? 'mono' : undefined}>{value}</dd>
    </div>
  );
}

import { collection, getCountFromServer, query, where, type DocumentData, type Timestamp } from 'firebase/firestore';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useSearchParams } from 'react-router';
import { CHECKOUT_STATUSES, formatMoney, PLAN_PRICES } from '../../../functions/src/domain/checkout';
import { MAX_SEAT_CAP, PLANS, SELF_SERVE_PLAN_IDS, type PlanId } from '../../../functions/src/domain/plans';
import type { TenantStatus } from '../../../functions/src/domain/status';
import { firestore } from '../firestore';
import { formatDate, formatStatus } from '../format';
import { call } from '../functions';
import { Field, focusFirstInvalid } from '../ui/Field';
import { failureOf, type Failure } from '../ui/failure';
import { ErrorAlert, Loading, StatusBadge } from '../ui/states';
import { useSubmitOnce } from '../useSubmitOnce';
import { daysLeft } from './LifecycleBanner';
import { useTenant } from './TenantLayout';

interface Seats {
  members: number;
  pendingInvites: number;
}

/**
 * /app/:tenant/billing: what the organisation pays for and what to do about it. Plan, seats used and
 * bought, status, trial days left, next invoice and card come from the tenant document, which only
 * the Stripe webhook writes (from Stripe's confirmed state), so the page follows every change live.
 * The owner and admins choose a plan (Stripe Checkout); the owner manages billing (Stripe's portal).
 */
export function Component() {
  const { tenantId, tenant, member, now } = useTenant();
  const [params] = useSearchParams();
  const status = tenant.status as TenantStatus;
  const owner = member.role === 'owner';
  const invoiceBilled = tenant.source === 'sales' || typeof tenant.daysUntilDue === 'number';
  const canPay = (CHECKOUT_STATUSES as readonly string[]).includes(status) && !invoiceBilled && tenant.staffHold !== true;
  const seats = useSeatsInUse(tenantId, tenant);

  return (
    <section aria-labelledby="billing-title">
      <h2 id="billing-title">Billing</h2>
      <ReturnNotice params={params} tenant={tenant} />
      <WhatToDo tenant={tenant} status={status} now={now} invoiceBilled={invoiceBilled} owner={owner} />
      <Summary tenant={tenant} status={status} now={now} seats={seats} />
      {canPay && <UpgradeForm tenantId={tenantId} tenant={tenant} status={status} seats={seats} />}
      {owner ? (
        <ManageBilling tenantId={tenantId} tenant={tenant} status={status} seats={seats} invoiceBilled={invoiceBilled} />
      ) : (
        <p className="muted small">Only the owner of {String(tenant.name)} can manage its billing (card, invoices, seats, cancelling).</p>
      )}
    </section>
  );
}

/** Members and pending invites: the seat ledger's counts when the tenant has one, else counted. */
function useSeatsInUse(tenantId: string, tenant: DocumentData): Seats | null | 'unknown' {
  const ledger = tenant.seats as Partial<Seats> | undefined;
  const fromLedger = ledger && typeof ledger.members === 'number' && typeof ledger.pendingInvites === 'number' ? { members: ledger.members, pendingInvites: ledger.pendingInvites } : null;
  const [counted, setCounted] = useState<Seats | null | 'unknown'>(null);
  useEffect(() => {
    if (fromLedger) return;
    let current = true;
    const members = collection(firestore(), 'tenants', tenantId, 'members');
    const invites = query(collection(firestore(), 'tenants', tenantId, 'invites'), where('status', '==', 'pending'));
    Promise.all([getCountFromServer(members), getCountFromServer(invites)]).then(
      ([m, i]) => current && setCounted({ members: m.data().count, pendingInvites: i.data().count }),
      // A suspended or cancelled tenant shows its owner the tenant document only.
      () => current && setCounted('unknown'),
    );
    return () => {
      current = false;
    };
  }, [tenantId, fromLedger === null, tenant.seatCap]);
  return fromLedger ?? counted;
}

const used = (seats: Seats) => seats.members + seats.pendingInvites;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const money = (amount: number, currency: string) => formatMoney(amount, currency);

/** Back from Stripe: what happened, following the tenant live until Stripe's confirmation arrives. */
function ReturnNotice({ params, tenant }: { params: URLSearchParams; tenant: DocumentData }) {
  const checkout = params.get('checkout');
  const session = params.get('session');
  const last = tenant.lastCheckout as { sessionId?: string; outcome?: string; message?: string; plan?: PlanId; seats?: number; card?: { last4?: string } | null } | undefined;
  if (checkout === 'cancelled') {
    return (
      <p className="alert info" role="status" data-testid="billing-notice">
        Checkout was cancelled: nothing was charged and your plan is unchanged.
      </p>
    );
  }
  if (checkout === 'complete' && session) {
    if (last?.sessionId !== session) return <Loading>Confirming your payment with Stripe…</Loading>;
    if (last.outcome === 'declined') {
      return (
        <ErrorAlert title="Payment declined.">
          <span data-testid="billing-notice">
            Your card{last.card?.last4 ? ` ending in ${last.card.last4}` : ''} was declined: {last.message ?? 'no reason given'} Nothing was charged and your plan is unchanged. Choose a plan
            again below to try another card.
          </span>
        </ErrorAlert>
      );
    }
    if (last.outcome === 'not_applied') {
      return (
        <p className="alert info" role="status" data-testid="billing-notice">
          Your choice of the {PLANS[last.plan as PlanId]?.label ?? last.plan} plan with {plural(Number(last.seats), 'seat')} was not applied: {last.message ?? 'no reason given'}
        </p>
      );
    }
    if (last.outcome !== 'converted') return null;
    return (
      <p className="alert success" role="status" data-testid="billing-notice">
        Payment confirmed: {String(tenant.name)} is on the {PLANS[last.plan as PlanId]?.label ?? last.plan} plan with {plural(Number(last.seats), 'seat')}.
      </p>
    );
  }
  if (params.get('portal') === 'seats') {
    return (
      <p className="alert info" role="status" data-testid="billing-notice">
        Your seat change was confirmed in Stripe. The seats below follow as soon as Stripe tells us (usually within seconds).
      </p>
    );
  }
  return null;
}

/** What this status asks of the organisation, in one sentence or two. */
function WhatToDo({ tenant, status, now, invoiceBilled, owner }: { tenant: DocumentData; status: TenantStatus; now: Date; invoiceBilled: boolean; owner: boolean }) {
  const name = String(tenant.name);
  const billing = tenant.billing as { openInvoice?: { amountDue: number; currency: string; url: string | null } | null } | undefined;
  const open = billing?.openInvoice;
  const owed = open ? ` of ${money(open.amountDue, open.currency)}` : '';
  const trialEnds = (tenant.trialEndsAt as Timestamp | null)?.toDate();
  let tone: 'info' | 'warning' | 'error' = 'info';
  let text: ReactNode = null;
  if (tenant.staffHold === true) {
    tone = 'error';
    text = `${name} is suspended by our staff. Contact support to restore it; payments do not lift this hold.`;
  } else if (invoiceBilled) {
    text = `${name} is billed by invoice under its contract. ${owner ? 'Its invoices are in Manage billing; ' : ''}ask your account manager to change its plan or seats.`;
  } else if (status === 'trial') {
    const left = trialEnds ? daysLeft(trialEnds, now) : null;
    tone = left !== null && left <= 3 ? 'warning' : 'info';
    text = `Your trial ends on ${formatDate(tenant.trialEndsAt)}${left !== null ? ` (${plural(left, 'day')} left)` : ''}. Choose a plan to keep working after it; you are charged from the day you choose.`;
  } else if (status === 'trial_expired') {
    tone = 'warning';
    text = 'Your trial has ended and the workspace is read-only. Choose a plan below to unlock it: everything you made is kept.';
  } else if (status === 'past_due') {
    tone = Number(tenant.failedPaymentRetries ?? 0) >= 1 ? 'error' : 'warning';
    text = `Your last payment failed. Save a new card below to pay the open invoice${owed} now${tone === 'error' ? ' and unlock the workspace' : '; if the automatic retry fails too, the workspace becomes read-only'}.`;
  } else if (status === 'suspended') {
    tone = 'error';
    text = `${name} is suspended after its payments failed. Save a new card below to pay the open invoice${owed} and restore access.`;
  } else if (status === 'cancelled') {
    tone = 'error';
    text = `${name} is cancelled and its data is locked. Choose a plan below to reactivate it.`;
  } else if (status === 'active' && tenant.cancelAt) {
    tone = 'warning';
    text = `Your plan is cancelled and ends on ${formatDate(tenant.cancelAt)}; after that the data is locked. ${owner ? 'Renew it in Manage billing to keep it.' : 'The owner can renew it.'}`;
  }
  if (!text) return null;
  return (
    <div className={`banner ${tone}`} data-testid="billing-todo" aria-label="What to do">
      <div>{text}</div>
    </div>
  );
}

function Summary({ tenant, status, now, seats }: { tenant: DocumentData; status: TenantStatus; now: Date; seats: Seats | null | 'unknown' }) {
  const billing = tenant.billing as
    | { price?: { unitAmount: number; currency: string; interval: string } | null; nextInvoice?: { at: Timestamp; amount: number; currency: string } | null; card?: { brand: string; last4: string } | null }
    | undefined;
  const trialEnds = (tenant.trialEndsAt as Timestamp | null)?.toDate();
  const seatCap = Number(tenant.seatCap);
  const next = billing?.nextInvoice;
  const nextText = next ? `${money(next.amount, next.currency)} on ${formatDate(next.at)}` : tenant.cancelAt ? `None: the plan ends on ${formatDate(tenant.cancelAt)}` : '—';
  const plan = PLANS[tenant.plan as PlanId];
  // Stripe's price once the webhook has read it; until then the catalog's.
  const price = billing?.price ?? (plan ? PLAN_PRICES[tenant.plan as PlanId] : null);
  return (
    <div className="card" data-testid="billing-summary">
      <dl className="facts">
        <Fact label="Plan" value={plan?.label ?? String(tenant.plan)} testId="billing-plan" />
        <div>
          <dt>Status</dt>
          <dd>
            <StatusBadge status={status} />
          </dd>
        </div>
        <Fact label="Seats used" value={seats === null ? '…' : seats === 'unknown' ? '—' : `${used(seats)} of ${seatCap}`} testId="billing-seats-used" />
        <Fact label="Seats bought" value={String(seatCap)} testId="billing-seats" />
        {status === 'trial' && trialEnds && <Fact label="Trial days left" value={String(daysLeft(trialEnds, now))} testId="billing-trial-left" />}
        <Fact label="Price" value={price ? `${money(price.unitAmount, price.currency)} per seat / ${price.interval}` : '—'} />
        <Fact label="Next invoice" value={nextText} testId="billing-next-invoice" />
        <Fact label="Card" value={billing?.card ? `${billing.card.brand} ending in ${billing.card.last4}` : 'None on file'} testId="billing-card" />
      </dl>
      {seats !== null && seats !== 'unknown' && (
        <p className="muted small">
          {plural(seats.members, 'member')} and {plural(seats.pendingInvites, 'pending invite')} hold seats.
        </p>
      )}
    </div>
  );
}

function Fact({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd data-testid={testId}>{value}</dd>
    </div>
  );
}

/** Choose a plan and seats, then pay in Stripe Checkout (it saves the card; the webhook converts the plan). */
function UpgradeForm({ tenantId, tenant, status, seats }: { tenantId: string; tenant: DocumentData; status: TenantStatus; seats: Seats | null | 'unknown' }) {
  const current = (SELF_SERVE_PLAN_IDS as string[]).includes(String(tenant.plan)) ? (tenant.plan as PlanId) : SELF_SERVE_PLAN_IDS[0];
  const floor = seats && seats !== 'unknown' ? used(seats) : 1;
  const [plan, setPlan] = useState<PlanId>(current);
  const [count, setCount] = useState(String(Math.max(Number(tenant.seatCap) || 1, floor)));
  const [failure, setFailure] = useState<Failure | null>(null);
  const { busy, submitWith, release } = useSubmitOnce();
  const form = useRef<HTMLFormElement>(null);
  const price = PLAN_PRICES[plan];
  const n = Number(count);
  const valid = Number.isInteger(n) && n >= 1;
  const action = status === 'past_due' || status === 'suspended' ? 'Pay with a new card' : status === 'cancelled' ? 'Reactivate' : 'Upgrade';

  const submit = submitWith(async () => {
    setFailure(null);
    try {
      const { url } = await call<{ url: string }>('startCheckout', { tenantId, plan, seats: n });
      window.location.assign(url);
      return 'hold'; // leaving for Stripe: the button stays busy
    } catch (error) {
      setFailure(failureOf(error));
      focusFirstInvalid(form.current);
      release();
    }
  });

  return (
    <form ref={form} className="card" onSubmit={submit} aria-label="Choose a plan" noValidate>
      <h3>{status === 'past_due' || status === 'suspended' ? 'Pay the open invoice' : 'Choose a plan'}</h3>
      <fieldset disabled={busy}>
        <legend className="sr-only">Plan</legend>
        <div className="plans" role="radiogroup" aria-label="Plan">
          {SELF_SERVE_PLAN_IDS.map((id) => (
            <label key={id} className={`plan${plan === id ? ' selected' : ''}`}>
              <input type="radio" name="plan" value={id} checked={plan === id} onChange={() => setPlan(id)} />
              <span className="plan-name">{PLANS[id].label}</span>
              <span className="plan-detail">
                {money(PLAN_PRICES[id].unitAmount, PLAN_PRICES[id].currency)} per seat / {PLAN_PRICES[id].interval}
              </span>
            </label>
          ))}
        </div>
        <Field
          label="Seats"
          name="seats"
          error={failure?.fieldErrors.seats}
          hint={seats && seats !== 'unknown' ? `At least ${floor}: the members and pending invites you have now.` : 'One seat per member or pending invite.'}
        >
          {(control) => <input {...control} type="number" inputMode="numeric" min={1} max={MAX_SEAT_CAP} value={count} onChange={(e) => setCount(e.target.value)} />}
        </Field>
        <p data-testid="billing-total">{valid ? `${money(price.unitAmount * n, price.currency)} per ${price.interval}` : 'Enter a whole number of seats.'}</p>
        {failure && !failure.fieldErrors.seats && <ErrorAlert>{failure.message}</ErrorAlert>}
        <button type="submit" className="primary">
          {busy ? 'Opening Stripe Checkout…' : action}
        </button>
        <p className="muted small">You enter your card on Stripe’s page; we never see it.</p>
      </fieldset>
    </form>
  );
}

/** The owner: Stripe's portal (card, invoices, plan, cancel), and seats through a confirmation there. */
function ManageBilling({ tenantId, tenant, status, seats, invoiceBilled }: { tenantId: string; tenant: DocumentData; status: TenantStatus; seats: Seats | null | 'unknown'; invoiceBilled: boolean }) {
  const [count, setCount] = useState(String(tenant.seatCap));
  const [failure, setFailure] = useState<Failure | null>(null);
  const { busy, submitWith, release } = useSubmitOnce();
  const seatsForm = useRef<HTMLFormElement>(null);
  useEffect(() => setCount(String(tenant.seatCap)), [tenant.seatCap]);
  if (!tenant.stripeCustomerId) return null;
  const canChangeSeats = !invoiceBilled && (status === 'trial' || status === 'active' || status === 'past_due') && tenant.staffHold !== true;
  const floor = seats && seats !== 'unknown' ? used(seats) : null;

  const open = (data: { tenantId: string; seats?: number }) =>
    submitWith(async () => {
      setFailure(null);
      try {
        const { url } = await call<{ url: string }>('openBillingPortal', data);
        window.location.assign(url);
        return 'hold';
      } catch (error) {
        setFailure(failureOf(error));
        focusFirstInvalid(seatsForm.current);
        release();
      }
    });

  return (
    <div className="card">
      <h3>Card, invoices and your plan in Stripe</h3>
      <form onSubmit={open({ tenantId })} aria-label="Manage billing">
        <p className="muted">Replace the card, see and pay invoices{invoiceBilled ? '' : ', change the plan or cancel at the end of the period'} in Stripe’s billing portal.</p>
        <button type="submit" disabled={busy}>
          {busy ? 'Opening the billing portal…' : 'Manage billing'}
        </button>
      </form>
      {canChangeSeats && (
        <form ref={seatsForm} onSubmit={open({ tenantId, seats: Number(count) })} aria-label="Change seats" noValidate className="seat-form">
          <Field label="Seats" name="seats" error={failure?.fieldErrors.seats} hint={`Now ${tenant.seatCap}${floor !== null ? `; at least ${floor} (members and pending invites)` : ''}. You confirm the change, prorated, in Stripe.`}>
            {(control) => <input {...control} type="number" inputMode="numeric" min={1} max={MAX_SEAT_CAP} value={count} onChange={(e) => setCount(e.target.value)} />}
          </Field>
          <button type="submit" disabled={busy}>
            Change seats
          </button>
        </form>
      )}
      {failure && !failure.fieldErrors.seats && <ErrorAlert>{failure.message}</ErrorAlert>}
      <p className="muted small">
        Status: {formatStatus(status)}. Changes you make in Stripe show here as soon as Stripe confirms them.
      </p>
    </div>
  );
}

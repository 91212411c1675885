import { PLANS, type PlanId } from '../../../functions/src/domain/plans';
import { formatDate, formatStatus } from '../format';
import { useTenant } from './TenantLayout';

/**
 * /app/:tenant/billing: the owner's billing view (the one thing a suspended or cancelled tenant still
 * shows its owner). Checkout and the payment method come with the billing page (issue 12), which
 * replaces this route module.
 */
export function Component() {
  const { tenant } = useTenant();
  return (
    <section aria-labelledby="billing-title">
      <h2 id="billing-title">Billing</h2>
      <div className="card">
        <dl className="facts">
          <div>
            <dt>Plan</dt>
            <dd>{PLANS[tenant.plan as PlanId]?.label ?? String(tenant.plan)}</dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd>{formatStatus(String(tenant.status))}</dd>
          </div>
          <div>
            <dt>Seats</dt>
            <dd>{String(tenant.seatCap)}</dd>
          </div>
          <div>
            <dt>Trial ends</dt>
            <dd>{formatDate(tenant.trialEndsAt)}</dd>
          </div>
          <div>
            <dt>Billing email</dt>
            <dd>{String(tenant.billingEmail ?? '—')}</dd>
          </div>
        </dl>
        <p className="muted small">Choosing a plan and updating the card are not available in this version yet.</p>
      </div>
    </section>
  );
}

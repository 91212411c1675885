import type { DocumentSnapshot, Firestore, Timestamp, Transaction } from 'firebase-admin/firestore';
import type Stripe from 'stripe';
import { retrieveSubscriptionState } from '../adapters/stripe';
import { deriveBilling, purchasedTerms, type BillingDecision, type CardOnFile, type StripeSubscriptionState, type TenantBillingView } from '../domain/billing';
import { isAllowed } from '../domain/lifecycle';
import { PLANS } from '../domain/plans';
import type { TenantStatus } from '../domain/status';
import { transitionInTransaction } from '../lifecycle/transition';

export interface SyncResult {
  /** `applied`: the status moved; `no_change`: it is where Stripe says; `not_applicable`: LIFECYCLE refuses the move. */
  outcome: 'applied' | 'no_change' | 'not_applicable';
  decision: BillingDecision;
  stripeStatus: string;
  transition?: { from: TenantStatus; to: TenantStatus };
}

export function billingViewOf(tenant: DocumentSnapshot): TenantBillingView {
  const trialEndsAt = tenant.get('trialEndsAt') as Timestamp | null | undefined;
  return {
    status: tenant.get('status') as TenantStatus,
    staffHold: tenant.get('staffHold') === true,
    staffGrant: tenant.get('staffGrant') === true,
    trialEndsAt: trialEndsAt ? trialEndsAt.toDate() : null,
    failedPaymentRetries: Number(tenant.get('failedPaymentRetries') ?? 0),
  };
}

/**
 * Re-reads the tenant's subscription (`subscriptionId`, its current one) from Stripe and writes what it means for the tenant, in `tx`
 * (the tenant already read in it; no Firestore reads follow). Stripe is read inside the transaction
 * on purpose: a transaction that commits after another one on this tenant has re-read Stripe after
 * it, so the last write always carries the newest state, whatever order the events came in.
 * `beforeWrites` runs after the Stripe read and before any write, for the caller's own reads.
 */
export async function syncTenantInTransaction(
  tx: Transaction,
  db: Firestore,
  stripe: Stripe,
  tenant: DocumentSnapshot,
  subscriptionId: string,
  options: { actor: string; now: Date; stripeEventId?: string; tenantFields?: Record<string, unknown>; beforeWrites?: (decision: BillingDecision, subscription: StripeSubscriptionState) => Promise<void> },
): Promise<SyncResult> {
  const subscription = await retrieveSubscriptionState(stripe, subscriptionId);
  const view = billingViewOf(tenant);
  const decision = deriveBilling(subscription, view);
  await options.beforeWrites?.(decision, subscription);
  const fields: Record<string, unknown> = { ...options.tenantFields, ...purchasedFields(tenant, subscription) };
  const storedCancelAt = (tenant.get('cancelAt') as Timestamp | null | undefined)?.toMillis() ?? null;
  if (storedCancelAt !== (decision.cancelAt?.getTime() ?? null)) fields.cancelAt = decision.cancelAt;
  // A staff grant covers the Stripe state staff activated over; once another row decides (paid, trialing, ended), it is spent.
  if (view.staffGrant && decision.rule !== 'staff_grant') fields.staffGrant = false;
  const base = { decision, stripeStatus: subscription.status };

  if (decision.event && isAllowed(view.status, decision.event, view.staffHold)) {
    const done = transitionInTransaction(tx, db, tenant, decision.event, {
      actor: options.actor,
      now: options.now,
      stripeEventId: options.stripeEventId,
      trialEndsAt: decision.trialEndsAt,
      failedPaymentRetries: decision.failedPaymentRetries,
      tenantFields: fields,
    });
    return { ...base, outcome: 'applied', transition: { from: done.from, to: done.to } };
  }
  if (Object.keys(fields).length) tx.update(tenant.ref, { ...fields, updatedAt: options.now });
  return { ...base, outcome: decision.event ? 'not_applicable' : 'no_change' };
}

/**
 * The tenant's plan and seat cap as Stripe's subscription has them (only from Stripe's confirmed
 * state, never from what a client asked for), and the summary the billing page shows; only the
 * fields that differ from what the tenant holds.
 */
function purchasedFields(tenant: DocumentSnapshot, subscription: StripeSubscriptionState & { card: CardOnFile | null }): Record<string, unknown> {
  const { plan, seatCap, summary } = purchasedTerms(subscription, subscription.card);
  const fields: Record<string, unknown> = {};
  if (plan && plan !== tenant.get('plan')) fields.plan = plan;
  // The pending-invite limit is the plan's: it follows an upgrade or a downgrade with the plan.
  if (plan && PLANS[plan].pendingInviteLimit !== tenant.get('pendingInviteLimit')) fields.pendingInviteLimit = PLANS[plan].pendingInviteLimit;
  if (seatCap && seatCap !== tenant.get('seatCap')) fields.seatCap = seatCap;
  if (canonical(summary) !== canonical(tenant.get('billing') ?? null)) fields.billing = summary;
  return fields;
}

/** Compares stored and new values alike: Firestore gives back Timestamps for Dates, and maps with their keys in its own order. */
function canonical(value: unknown): string {
  const normal = (v: unknown): unknown => {
    if (v instanceof Date) return v.getTime();
    if (v && typeof v === 'object' && typeof (v as Timestamp).toMillis === 'function') return (v as Timestamp).toMillis();
    if (Array.isArray(v)) return v.map(normal);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, normal((v as Record<string, unknown>)[k])]));
    return v;
  };
  return JSON.stringify(normal(value));
}

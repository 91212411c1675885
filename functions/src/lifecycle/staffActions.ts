import type { DocumentData, Firestore, Timestamp } from 'firebase-admin/firestore';
import type Stripe from 'stripe';
import { COLLECTIONS, refs } from '../adapters/firestore';
import { DomainError } from '../domain/errors';
import { checkTrialEnd, LIFECYCLE, requireStaffRole, StaffActionSchema, transition, type LifecycleEvent, type StaffAction, type StaffActionInput } from '../domain/lifecycle';
import type { TenantStatus } from '../domain/status';
import { parseOrThrow } from '../domain/validation';
import { applyTransition, isRefusal } from './transition';

const EVENT_OF: Record<StaffAction, LifecycleEvent> = {
  extend_trial: 'extend_trial',
  activate: 'activate',
  suspend: 'suspend',
  cancel: 'cancel',
};

export interface StaffActionResult {
  tenantId: string;
  from: TenantStatus;
  to: TenantStatus;
  /** The history entry of the change; absent when Stripe's own event had already made it (then it is Stripe's entry). */
  historyId?: string;
  /** For a cancel at period end: when Stripe will end the subscription (the tenant keeps its status until then). */
  cancelAt?: string | null;
  /** What was done in Stripe, for the admin page. */
  stripe: string;
}

/**
 * A platform staff member changes a tenant's status: validated, authorised by role for the action,
 * checked against the lifecycle, then done in Stripe FIRST (a cancel that Stripe refused must not
 * leave a tenant cancelled and still charged), then applied through the one transition path with
 * the staff uid as actor and the reason in history. Every action also leaves an audit entry.
 */
export async function changeTenantStatus(
  deps: { db: Firestore; stripe: () => Stripe },
  staff: { uid: string; platformRole: unknown },
  input: unknown,
  now: Date = new Date(),
): Promise<StaffActionResult> {
  const request = parseOrThrow(StaffActionSchema, input);
  requireStaffRole(staff.platformRole, request.action);
  if (request.trialEndsAt) checkTrialEnd(request.trialEndsAt, now);
  const { db } = deps;
  const before = await refs(db).tenant(request.tenantId).get();
  if (!before.exists) throw new DomainError('not-found', `Tenant ${request.tenantId} does not exist`);
  const from = before.get('status') as TenantStatus;
  const event = EVENT_OF[request.action];
  // The table's refusal, before anything is done in Stripe: a refused action changes nothing anywhere.
  transition(from, event, before.get('staffHold') === true);

  const subscriptionId = (before.get('stripeSubscriptionId') as string | null) ?? null;
  if (!subscriptionId && request.when === 'period_end') {
    throw new DomainError('failed-precondition', 'This tenant has no Stripe subscription, so no billing period to run out: cancel it now', {
      field: 'when',
    });
  }
  const { summary: inStripe, cancelAt } = subscriptionId
    ? await actInStripe(deps.stripe(), subscriptionId, request)
    : { summary: 'no Stripe subscription: nothing to change there', cancelAt: null };
  const audit = (tenantTo: TenantStatus, extra: Record<string, unknown> = {}) => ({
    type: `staff.${request.action}`,
    tenantId: request.tenantId,
    actor: staff.uid,
    reason: request.reason,
    at: now,
    from,
    to: tenantTo,
    stripe: inStripe,
    ...(request.when ? { when: request.when } : {}),
    ...(request.trialEndsAt ? { trialEndsAt: request.trialEndsAt } : {}),
    ...extra,
  });
  const auditRef = db.collection(COLLECTIONS.auditLog).doc();

  if (request.action === 'cancel' && request.when === 'period_end') {
    // Nothing changes for the tenant until Stripe ends the subscription (customer.subscription.deleted → cancelled).
    const batch = db.batch();
    batch.update(before.ref, { cancelAt, updatedAt: now });
    batch.create(auditRef, audit(from, { cancelAt }));
    await batch.commit();
    return { tenantId: request.tenantId, from, to: from, cancelAt: cancelAt?.toISOString() ?? null, stripe: inStripe };
  }

  try {
    const done = await applyTransition(db, request.tenantId, event, {
      actor: staff.uid,
      now,
      reason: request.reason,
      trialEndsAt: request.trialEndsAt,
      // Stripe's own event for this change may have been applied first: then there is nothing left to do.
      guard: (tenant) => (reachedBy(tenant, request) ? 'already changed by Stripe’s event' : null),
      ...(request.action === 'cancel' ? { tenantFields: { cancelAt: null } } : {}),
      alsoInTransaction: (tx) => void tx.create(auditRef, audit(LIFECYCLE[event].to)),
    });
    return { tenantId: done.tenantId, from, to: done.to, historyId: done.historyId, stripe: inStripe };
  } catch (error) {
    const after = await refs(db).tenant(request.tenantId).get();
    if (isRefusal(error) && reachedBy(after.data() ?? {}, request)) {
      await auditRef.create(audit(after.get('status'), { appliedBy: 'Stripe event' }));
      return { tenantId: request.tenantId, from, to: after.get('status'), stripe: inStripe };
    }
    throw error;
  }
}

/** Whether the tenant is already where the action takes it (a Stripe event applied it first). */
function reachedBy(tenant: DocumentData, request: StaffActionInput): boolean {
  if (request.action === 'cancel') return tenant.status === 'cancelled';
  if (request.action === 'extend_trial') {
    const ends = tenant.trialEndsAt as Timestamp | null | undefined;
    return tenant.status === 'trial' && Math.floor((ends?.toMillis() ?? 0) / 1000) === Math.floor(request.trialEndsAt!.getTime() / 1000);
  }
  return false;
}

/**
 * The action in Stripe; each is safe to repeat. Extend: the subscription's trial_end (a trial Stripe
 * paused at its end is resumed first, as Stripe requires). Cancel: now, or at the period's end.
 * Suspend is a hold on our side only; activate a grant on our side (the billing map's `staff_grant`),
 * refused over an ended subscription: what the customer owes is Stripe's to keep.
 */
async function actInStripe(stripe: Stripe, subscriptionId: string, request: StaffActionInput): Promise<{ summary: string; cancelAt: Date | null }> {
  const done = (summary: string, cancelAt: Date | null = null) => ({ summary: `${subscriptionId}: ${summary}`, cancelAt });
  switch (request.action) {
    case 'extend_trial': {
      const trialEnd = Math.floor(request.trialEndsAt!.getTime() / 1000);
      const subscription = await stripe.subscriptions.retrieve(subscriptionId);
      if (subscription.status === 'paused') {
        await stripe.subscriptions.resume(subscriptionId, { billing_cycle_anchor: { type: 'unchanged' }, proration_behavior: 'none' });
      }
      await stripe.subscriptions.update(subscriptionId, { trial_end: trialEnd, proration_behavior: 'none' });
      return done(`trial_end ${request.trialEndsAt!.toISOString()}`);
    }
    case 'cancel': {
      const subscription = await stripe.subscriptions.retrieve(subscriptionId);
      if (subscription.status === 'canceled' || subscription.status === 'incomplete_expired') return done(`already ${subscription.status}`);
      if (request.when === 'now') {
        await stripe.subscriptions.cancel(subscriptionId, { cancellation_details: { comment: request.reason } });
        return done('canceled now');
      }
      const updated = await stripe.subscriptions.update(subscriptionId, { cancel_at_period_end: true, cancellation_details: { comment: request.reason } });
      // Flexible billing mode sets cancel_at; classic mode ends at the period end, which lives on the items since basil.
      const end = new Date((updated.cancel_at ?? Math.min(...updated.items.data.map((item) => item.current_period_end))) * 1000);
      return done(`cancels at the period end, ${end.toISOString()}`, end);
    }
    case 'activate': {
      // Stripe cannot back a grant over an ended subscription: the next event would cancel the tenant again.
      const subscription = await stripe.subscriptions.retrieve(subscriptionId);
      if (subscription.status === 'canceled' || subscription.status === 'incomplete_expired') {
        throw new DomainError(
          'failed-precondition',
          `Stripe subscription ${subscriptionId} has ended (${subscription.status}): activating would not last. The owner subscribes again from the billing page.`,
          { reason: 'subscription-ended', stripeStatus: subscription.status },
        );
      }
      return done(`no change in Stripe (${subscription.status}); a staff grant the billing map honours until Stripe's own state decides`);
    }
    default:
      return { summary: 'no change in Stripe (a hold on our side)', cancelAt: null };
  }
}

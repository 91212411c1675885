import type { Firestore, Timestamp, Transaction } from 'firebase-admin/firestore';
import type Stripe from 'stripe';
import { COLLECTIONS, refs } from '../adapters/firestore';

/**
 * The outbox of the Stripe customer's email (`stripeCustomerEmails/{tenantId}`, server-only): written in
 * the transaction that moves the tenant's `billingEmail` (transferOwnership), delivered to
 * `customers.update(customerId, { email })` by syncStripeCustomerEmail, so Stripe's invoice mail follows the owner.
 */
export const customerEmailRef = (db: Firestore, tenantId: string) => db.collection(COLLECTIONS.stripeCustomerEmails).doc(tenantId);

/** One document per tenant: a later change replaces a pending one, so the newest address is the one delivered. */
export function queueCustomerEmailInTransaction(tx: Transaction, db: Firestore, tenantId: string, email: string, now: Date): void {
  tx.set(customerEmailRef(db, tenantId), { tenantId, email, state: 'pending', requestedAt: now, deliveredAt: null });
}

export type CustomerEmailDelivery = 'delivered' | 'nothing_pending' | 'no_customer';

/**
 * Delivers the pending change, if any. Idempotent: the Stripe request is keyed by the change, and the
 * outbox is marked delivered only if no newer change was queued meanwhile (that one is delivered next).
 * A Stripe failure throws, and the trigger is retried.
 */
export async function deliverCustomerEmail(deps: { db: Firestore; stripe: Stripe }, tenantId: string, now: Date): Promise<CustomerEmailDelivery> {
  const ref = customerEmailRef(deps.db, tenantId);
  const [outbox, tenant] = await deps.db.getAll(ref, refs(deps.db).tenant(tenantId));
  if (!outbox.exists || outbox.get('state') !== 'pending') return 'nothing_pending';
  const requestedAt = outbox.get('requestedAt') as Timestamp;
  const customerId = tenant.get('stripeCustomerId') as string | null | undefined;
  const settle = (state: 'delivered' | 'no_customer') =>
    deps.db.runTransaction(async (tx) => {
      const latest = await tx.get(ref);
      if ((latest.get('requestedAt') as Timestamp | undefined)?.isEqual(requestedAt)) tx.update(ref, { state, deliveredAt: now });
    });
  if (!customerId) {
    await settle('no_customer');
    return 'no_customer';
  }
  await deps.stripe.customers.update(customerId, { email: String(outbox.get('email')) }, { idempotencyKey: `customer-email:${tenantId}:${requestedAt.toMillis()}` });
  await settle('delivered');
  return 'delivered';
}

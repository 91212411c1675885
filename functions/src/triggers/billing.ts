import { logger } from 'firebase-functions';
import { onDocumentWritten } from 'firebase-functions/v2/firestore';
import { HttpsError, onCall } from 'firebase-functions/v2/https';
import { firebase } from '../adapters/firestore';
import { appUrl } from '../adapters/links';
import { stripeClient } from '../adapters/stripe';
import type { BillingCallableDeps } from '../billing/access';
import { startCheckout as checkout } from '../billing/checkout';
import { deliverCustomerEmail } from '../billing/customerEmail';
import { openBillingPortal as portal } from '../billing/portal';
import { toHttpsError } from './errors';
import { BROWSER_CALLABLE_WITH_STRIPE, WITH_STRIPE } from './options';

const billingDeps = (): BillingCallableDeps => ({ ...firebase(), stripe: () => stripeClient(), appUrl: appUrl() });

function requireUid(uid: string | undefined): string {
  if (!uid) throw new HttpsError('unauthenticated', 'Sign in first');
  return uid;
}

/** Owner or admin: `{ tenantId, plan, seats }` → `{ url }` of a Stripe Checkout that saves a card and converts the plan. */
export const startCheckout = onCall(BROWSER_CALLABLE_WITH_STRIPE, async (request) => {
  const uid = requireUid(request.auth?.uid);
  try {
    return await checkout(billingDeps(), { uid }, request.data);
  } catch (error) {
    throw toHttpsError(error, 'startCheckout');
  }
});

/** Owner: `{ tenantId, seats? }` → `{ url }` of the Stripe customer portal (with `seats`, straight to confirming them). */
export const openBillingPortal = onCall(BROWSER_CALLABLE_WITH_STRIPE, async (request) => {
  const uid = requireUid(request.auth?.uid);
  try {
    return await portal(billingDeps(), { uid }, request.data);
  } catch (error) {
    throw toHttpsError(error, 'openBillingPortal');
  }
});

/** The Stripe customer's email follows the tenant's billing email (the outbox transferOwnership writes); retried until Stripe takes it. */
export const syncStripeCustomerEmail = onDocumentWritten({ ...WITH_STRIPE, document: 'stripeCustomerEmails/{tenantId}', retry: true }, async (event) => {
  if (event.data?.after.get('state') !== 'pending') return;
  const outcome = await deliverCustomerEmail({ db: firebase().db, stripe: stripeClient() }, event.params.tenantId, new Date());
  logger.info('syncStripeCustomerEmail', { tenantId: event.params.tenantId, outcome });
});

import Stripe from 'stripe';
import { billingKeys, checkoutRefusal, checkoutTerms, checkSeatsCoverUse, PLAN_PRICES, StartCheckoutSchema } from '../domain/checkout';
import { DomainError } from '../domain/errors';
import { parseOrThrow } from '../domain/validation';
import { billingPageUrl, billingTenantOf, emailVerified, readTenantAndRole, seatsInUse, type BillingCallableDeps } from './access';

const KEY_IN_USE_RETRIES = 20;

/**
 * `startCheckout`: a Stripe Checkout (setup mode) for the tenant's own customer that saves a card; its
 * completion converts the tenant's one subscription to the chosen plan and seats (billing/conversion.ts,
 * through the webhook). Every check runs before anything is written, in Stripe or Firestore. The same
 * plan and seats asked again while the session is open get the same session; another choice expires it
 * and opens a new one, so a tenant has one open Checkout.
 */
export async function startCheckout(deps: BillingCallableDeps, caller: { uid: string }, input: unknown): Promise<{ url: string }> {
  const request = parseOrThrow(StartCheckoutSchema, input);
  const verified = await emailVerified(deps.auth, caller.uid);
  const { db } = deps;
  const { tenant, open } = await db.runTransaction(
    async (tx) => {
      const { tenant, role } = await readTenantAndRole(tx, db, request.tenantId, caller.uid);
      const view = billingTenantOf(tenant);
      const refusal = checkoutRefusal({ role, emailVerified: verified }, view);
      if (refusal) throw refusal;
      checkSeatsCoverUse(view.name, request.seats, await seatsInUse(tx, tenant));
      const open = await tx.get(checkoutRef(tenant.ref));
      return { tenant, open: open.exists ? (open.data() as OpenCheckout) : null };
    },
    { readOnly: true },
  );

  const stripe = deps.stripe();
  const choice = `${request.plan}:${request.seats}`;
  if (open && open.choice === choice) {
    const session = await stripe.checkout.sessions.retrieve(open.sessionId);
    // Stripe's state, not ours, says whether it is still open (it may have completed or expired since).
    if (session.status === 'open' && session.url) return { url: session.url };
  }
  if (open && open.choice !== choice) await expireQuietly(stripe, open.sessionId);

  const generation = (open?.generation ?? 0) + 1;
  const view = billingTenantOf(tenant);
  const customer = view.stripeCustomerId!;
  const metadata = { tenantId: tenant.id, plan: request.plan, seats: String(request.seats) };
  const session = await createOnce(() =>
    stripe.checkout.sessions.create(
      {
        mode: 'setup',
        customer,
        currency: PLAN_PRICES[request.plan].currency,
        client_reference_id: tenant.id,
        metadata,
        setup_intent_data: { metadata },
        custom_text: { submit: { message: checkoutTerms(request, view.status) } },
        success_url: billingPageUrl(deps.appUrl, tenant, '?checkout=complete&session={CHECKOUT_SESSION_ID}'),
        cancel_url: billingPageUrl(deps.appUrl, tenant, '?checkout=cancelled'),
      },
      { idempotencyKey: billingKeys.checkout(tenant.id, request.plan, request.seats, generation) },
    ),
  );
  // Compare-and-set: the session is the tenant's open one only if no other choice was recorded since the read above.
  const winner = await db.runTransaction(async (tx) => {
    const latest = await tx.get(checkoutRef(tenant.ref));
    const recorded = latest.exists ? (latest.data() as OpenCheckout) : null;
    if ((recorded?.generation ?? 0) !== (open?.generation ?? 0)) return recorded!;
    tx.set(checkoutRef(tenant.ref), {
      sessionId: session.id,
      choice,
      plan: request.plan,
      seats: request.seats,
      generation,
      expiresAt: new Date(session.expires_at * 1000),
      requestedBy: caller.uid,
      createdAt: new Date(),
    } satisfies OpenCheckout);
    return null;
  });
  // The same choice at the same moment is the same session (one idempotency key); another choice won: this session must not stay open.
  if (winner && winner.sessionId !== session.id) {
    await expireQuietly(stripe, session.id);
    throw new DomainError('aborted', `Another plan was chosen for ${view.name} at the same moment: choose again.`, { reason: 'concurrent-choice' });
  }
  return { url: session.url! };
}

interface OpenCheckout {
  sessionId: string;
  /** `plan:seats`: what the session buys. */
  choice: string;
  plan: string;
  seats: number;
  generation: number;
  expiresAt: Date;
  requestedBy: string;
  createdAt: Date;
}

/** The tenant's current Checkout (server-only: `tenants/{id}/billing/checkout`). */
const checkoutRef = (tenant: FirebaseFirestore.DocumentReference) => tenant.collection('billing').doc('checkout');

/** Two clicks at once send the same idempotency key: Stripe answers the second 409 until the first is done, then replays it. */
async function createOnce<T>(create: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await create();
    } catch (error) {
      const inUse = error instanceof Stripe.errors.StripeError && error.statusCode === 409;
      if (!inUse || attempt >= KEY_IN_USE_RETRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 + attempt * 50));
    }
  }
}

/** A session for another choice: expired so that it cannot be completed as well; one already closed is left alone. */
async function expireQuietly(stripe: Stripe, sessionId: string): Promise<void> {
  try {
    await stripe.checkout.sessions.expire(sessionId);
  } catch (error) {
    if (!(error instanceof Stripe.errors.StripeInvalidRequestError)) throw error;
  }
}

import type { DocumentReference, Firestore, Timestamp } from 'firebase-admin/firestore';
import { logger } from 'firebase-functions';
import Stripe from 'stripe';
import { COLLECTIONS, refs } from '../adapters/firestore';
import { isHandledEventType, subjectOf, type EventSubject } from '../domain/stripeEvents';
import type { TenantStatus } from '../domain/status';
import { queueReminderInTransaction, reminderRef } from '../lifecycle/reminders';
import { completeCheckout, type ConversionResult } from './conversion';
import { atPinnedVersion } from './eventVersion';
import { syncTenantInTransaction } from './sync';

export type WebhookOutcome =
  /** Stripe's state moved the tenant. */
  | 'applied'
  /** The tenant is already where Stripe's state puts it. */
  | 'no_change'
  /** Stripe's state means a move LIFECYCLE does not allow from the tenant's status. */
  | 'not_applicable'
  | 'duplicate'
  | 'reminder_queued'
  | 'unknown_tenant'
  /** About a subscription that is not the tenant's current one (an old one, a second one): recorded, no effect. */
  | 'other_subscription'
  /** A completed checkout whose customer is not the tenant's own: recorded, no effect. */
  | 'foreign_checkout'
  /** An invoice that bills no subscription, or a checkout for a tenant that has none. */
  | 'no_subscription'
  /** A completed Checkout whose card was declined when charged: nothing changed but the tenant's `lastCheckout`. */
  | 'checkout_declined'
  /** A completed Checkout this product did not make for this tenant (or not complete): recorded, no effect. */
  | 'checkout_unusable'
  /** About a customer that is not the tenant's own. */
  | 'other_customer'
  | 'ignored_type';

export interface EventResult {
  outcome: WebhookOutcome;
  tenantId?: string;
  detail?: string;
  transition?: { from: TenantStatus; to: TenantStatus };
}

export interface BillingDeps {
  db: Firestore;
  stripe: Stripe;
}

export interface WebhookDeps {
  db: Firestore;
  /** Built per request, so a missing STRIPE_SECRET_KEY is a 500 (Stripe retries) rather than a crash. */
  stripe: () => Stripe;
  /** Undefined when not configured: every request then fails with 500 until it is. */
  secret: string | undefined;
  /** Test seam: what applies a verified event (default handleStripeEvent). */
  apply?: (deps: BillingDeps, event: Stripe.Event, now: Date) => Promise<EventResult>;
  now?: () => Date;
}

/**
 * The endpoint's logic: 400 for a missing, bad or stale signature or a tampered body (nothing is
 * written); 200 once the event is applied, found a duplicate, or ignored; 500 when processing fails,
 * so that Stripe retries (the event record is in the failed transaction, so the retry applies it).
 */
export async function respondToStripeWebhook(
  deps: WebhookDeps,
  request: { rawBody: Buffer | undefined; signature: string | string[] | undefined },
): Promise<{ status: number; body: Record<string, unknown> }> {
  if (!deps.secret) {
    logger.error('stripeWebhook: STRIPE_WEBHOOK_SECRET is not set');
    return { status: 500, body: { error: 'webhook secret not configured' } };
  }
  if (!request.rawBody || typeof request.signature !== 'string') return { status: 400, body: { error: 'missing body or Stripe-Signature header' } };
  let event: Stripe.Event;
  try {
    event = Stripe.webhooks.constructEvent(request.rawBody, request.signature, deps.secret);
  } catch (error) {
    logger.warn('stripeWebhook: signature verification failed', { message: error instanceof Error ? error.message : String(error) });
    return { status: 400, body: { error: 'invalid signature' } };
  }
  try {
    const result = await (deps.apply ?? handleStripeEvent)({ db: deps.db, stripe: deps.stripe() }, event, deps.now?.() ?? new Date());
    logger.info('stripeWebhook: event handled', { eventId: event.id, type: event.type, ...result });
    return { status: 200, body: { received: true, ...result } };
  } catch (error) {
    logger.error('stripeWebhook: processing failed; Stripe will retry', {
      eventId: event.id,
      type: event.type,
      error: error instanceof Error ? error.stack : String(error),
    });
    return { status: 500, body: { error: 'processing failed; retry' } };
  }
}

const TENANT_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Applies one verified event, once per event id. The event is a notification: the tenant's current
 * subscription is re-read from Stripe and its state decides (domain/billing.ts), so delivery order
 * and duplicates do not change the outcome. Exported for tests and for replaying stored events.
 */
export async function handleStripeEvent({ db, stripe }: BillingDeps, event: Stripe.Event, now: Date): Promise<EventResult> {
  const { id, type, created, subject } = subjectOf(isHandledEventType(event.type) ? await atPinnedVersion(stripe, event) : event);
  if (subject.kind === 'ignored') return { outcome: 'ignored_type' };
  // One record per event id, written in the same transaction as the event's effect: the dedupe.
  const eventRef = db.collection(COLLECTIONS.stripeEvents).doc(id);
  const tenantId = await findTenantId(db, subject);
  const about = subject.kind === 'subscription' ? { subscriptionId: subject.subscriptionId } : subject.kind === 'checkout' ? { sessionId: subject.sessionId } : {};
  // A completed setup-mode Checkout (startCheckout's) converts the subscription in Stripe first, outside the
  // transaction: each of its requests is idempotent per session, so a retry of this event replays them.
  const conversion = subject.kind === 'checkout' && subject.mode === 'setup' && tenantId ? await convertOnce({ db, stripe }, eventRef, tenantId, subject) : undefined;

  return db.runTransaction(async (tx) => {
    const [seen, tenant] = await tx.getAll(eventRef, ...(tenantId ? [refs(db).tenant(tenantId)] : []));
    if (seen.exists) return { outcome: 'duplicate', tenantId: seen.get('tenantId') ?? undefined } satisfies EventResult;
    const record = (result: EventResult) => {
      tx.create(eventRef, { type, created, receivedAt: now, ...about, ...result });
      return result;
    };
    if (!tenantId || !tenant?.exists) {
      logger.warn('stripeWebhook: no tenant for event', { eventId: id, type, tenantId });
      return record({ outcome: 'unknown_tenant', ...(tenantId ? { tenantId } : {}) });
    }
    const current = tenant.get('stripeSubscriptionId') as string | null | undefined;
    const own = tenant.get('stripeCustomerId') as string | null | undefined;
    const ours = { tenantId: tenant.id };
    if (subject.kind === 'no_subscription') return record({ outcome: 'no_subscription', ...ours });

    let tenantFields: Record<string, unknown> | undefined;
    let subscriptionId = current ?? null;
    if (subject.kind === 'checkout') {
      // Only the tenant's own customer can complete a checkout for it; a session naming another tenant changes nothing.
      if (!own || subject.customerId !== own) {
        logger.warn('stripeWebhook: checkout for a tenant by another customer', { eventId: id, tenantId: tenant.id, customer: subject.customerId });
        return record({ outcome: 'foreign_checkout', ...ours, detail: `customer ${subject.customerId ?? 'none'} is not the tenant's (${own ?? 'none'})` });
      }
      if (subject.mode === 'setup') {
        // The pre-read found a duplicate the transaction does not see (or the tenant moved): read everything again.
        if (!conversion) throw new Error(`checkout ${subject.sessionId}: the conversion did not run; retrying`);
        if (conversion.outcome === 'unusable') return record({ outcome: 'checkout_unusable', ...ours, detail: conversion.reason });
        tenantFields = { lastCheckout: lastCheckoutOf(subject.sessionId, conversion, now) };
        if (conversion.outcome === 'converted' && conversion.subscriptionId !== current) {
          // Only 'subscribe' makes a new subscription, and only once the tenant's has ended: it replaces it.
          tenantFields.stripeSubscriptionId = conversion.subscriptionId;
          subscriptionId = conversion.subscriptionId;
        }
      } else if (!current && subject.subscriptionId) {
        // A webhook fills a missing subscription id, never replaces one: a second subscription is not adopted here.
        tenantFields = { stripeSubscriptionId: subject.subscriptionId };
        subscriptionId = subject.subscriptionId;
      } else if (subject.subscriptionId !== current) {
        return record({ outcome: 'other_subscription', ...ours, detail: `session subscription ${subject.subscriptionId}; the tenant's is ${current}` });
      }
    } else if (subject.kind === 'customer') {
      if (subject.customerId !== own) return record({ outcome: 'other_customer', ...ours, detail: `${subject.customerId} is not the tenant's customer (${own ?? 'none'})` });
    } else if (subject.subscriptionId !== current) {
      return record({ outcome: 'other_subscription', ...ours, detail: `${subject.subscriptionId} is not the tenant's current subscription (${current ?? 'none'})` });
    }
    if (!subscriptionId) {
      if (tenantFields) tx.update(tenant.ref, { ...tenantFields, updatedAt: now });
      return record({ outcome: conversion?.outcome === 'declined' ? 'checkout_declined' : 'no_subscription', ...ours });
    }

    let remind: (() => string) | undefined;
    const synced = await syncTenantInTransaction(tx, db, stripe, tenant, subscriptionId, {
      actor: `stripe:${id}`,
      now,
      stripeEventId: id,
      tenantFields,
      beforeWrites: async (decision, subscription) => {
        // Stripe's trial_will_end queues the same reminder as the remindEndingTrials sweep, while Stripe still trials to the tenant's end.
        if (type !== 'customer.subscription.trial_will_end' || decision.event || subscription.status !== 'trialing') return;
        const trialEndsAtMs = (tenant.get('trialEndsAt') as Timestamp | null)?.toMillis() ?? 0;
        const mail = await tx.get(reminderRef(db, tenant.id, trialEndsAtMs));
        remind = () => queueReminderInTransaction(tx, tenant, mail, trialEndsAtMs);
      },
    });
    const detail = `${synced.decision.rule} (Stripe ${synced.stripeStatus})`;
    if (remind) {
      const reminded = remind();
      if (reminded === 'queued') return record({ outcome: 'reminder_queued', ...ours, detail });
    }
    if (conversion?.outcome === 'declined') return record({ outcome: 'checkout_declined', ...ours, detail: `${conversion.step}: ${conversion.message}` });
    return record({ outcome: synced.outcome, ...ours, detail, ...(synced.transition ? { transition: synced.transition } : {}) });
  }, CONTENDED);
}

/** Deliveries for one tenant contend on its document; each retry re-reads Stripe, so more attempts only cost time. */
const CONTENDED = { maxAttempts: 20 };

/** Runs the conversion of a completed Checkout unless this event was applied already, and only for the tenant's own customer. */
async function convertOnce(
  { db, stripe }: BillingDeps,
  eventRef: DocumentReference,
  tenantId: string,
  subject: Extract<EventSubject, { kind: 'checkout' }>,
): Promise<ConversionResult | undefined> {
  const [seen, tenant] = await db.getAll(eventRef, refs(db).tenant(tenantId));
  if (seen.exists || !tenant.exists || !subject.customerId || tenant.get('stripeCustomerId') !== subject.customerId) return undefined;
  return completeCheckout(stripe, tenant, subject.sessionId);
}

/** What the billing page says about the last Checkout the tenant completed. */
function lastCheckoutOf(sessionId: string, conversion: Exclude<ConversionResult, { outcome: 'unusable' }>, now: Date) {
  return {
    sessionId,
    outcome: conversion.outcome,
    plan: conversion.choice.plan,
    seats: conversion.choice.seats,
    card: conversion.card,
    at: now,
    ...(conversion.outcome === 'declined' ? { message: conversion.message, declineCode: conversion.declineCode } : {}),
  };
}

/** The tenant named by the event (metadata set by the provisioning saga, or the checkout's reference), else the one holding the customer. */
async function findTenantId(db: Firestore, subject: Exclude<EventSubject, { kind: 'ignored' }>): Promise<string | undefined> {
  const hint = 'tenantHint' in subject ? subject.tenantHint : null;
  // Only ids this product makes: anything else (a path, say) is not ours.
  if (hint) return TENANT_ID.test(hint) ? hint : undefined;
  if (!subject.customerId) return undefined;
  const holders = await db.collection(COLLECTIONS.tenants).where('stripeCustomerId', '==', subject.customerId).limit(2).get();
  if (holders.size > 1) throw new Error(`Stripe customer ${subject.customerId} is linked to more than one tenant`);
  return holders.docs[0]?.id;
}

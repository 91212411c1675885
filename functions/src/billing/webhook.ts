import type { DocumentSnapshot, Firestore, Transaction } from 'firebase-admin/firestore';
import { logger } from 'firebase-functions';
import Stripe from 'stripe';
import { COLLECTIONS, refs } from '../adapters/firestore';
import { eventForFailedInvoice, eventForSubscriptionStatus, isAllowed, type LifecycleEvent } from '../domain/lifecycle';
import type { TenantStatus } from '../domain/status';
import { queueReminderInTransaction, reminderRef } from '../lifecycle/reminders';
import { transitionInTransaction } from '../lifecycle/transition';

/** The events this endpoint acts on; any other type is acknowledged and ignored. */
export const HANDLED_EVENT_TYPES = [
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.trial_will_end',
  'invoice.paid',
  'invoice.payment_failed',
  'checkout.session.completed',
] as const;
type HandledType = (typeof HANDLED_EVENT_TYPES)[number];

export type WebhookOutcome =
  | 'applied'
  | 'no_change'
  | 'not_applicable'
  | 'stale'
  | 'duplicate'
  | 'reminder_queued'
  | 'unknown_tenant'
  | 'ignored_type';

export interface EventResult {
  outcome: WebhookOutcome;
  tenantId?: string;
  detail?: string;
  transition?: { from: TenantStatus; to: TenantStatus };
}

export interface WebhookDeps {
  db: Firestore;
  /** Undefined when not configured: every request then fails with 500 until it is. */
  secret: string | undefined;
  /** Test seam: what applies a verified event (default handleStripeEvent). */
  apply?: (db: Firestore, event: Stripe.Event, now: Date) => Promise<EventResult>;
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
    const result = await (deps.apply ?? handleStripeEvent)(deps.db, event, deps.now?.() ?? new Date());
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

type Obj = Record<string, unknown>;
const TENANT_ID = /^[A-Za-z0-9_-]{1,128}$/;
const isHandled = (type: string): type is HandledType => (HANDLED_EVENT_TYPES as readonly string[]).includes(type);
const idOf = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : value && typeof value === 'object' && typeof (value as Obj).id === 'string' ? ((value as Obj).id as string) : undefined;
const metaTenant = (value: unknown): string | undefined => {
  const id = (value as { metadata?: Obj } | null | undefined)?.metadata?.tenantId;
  return typeof id === 'string' && id ? id : undefined;
};

/** Applies one verified event, once per event id. Exported for tests and for replaying stored events. */
export async function handleStripeEvent(db: Firestore, event: Stripe.Event, now: Date): Promise<EventResult> {
  if (!isHandled(event.type)) return { outcome: 'ignored_type' };
  const object = event.data.object as unknown as Obj;
  if (!object || typeof object !== 'object') throw new Error(`event ${event.id} (${event.type}) has no data.object`);
  // One record per event id, written in the same transaction as the event's effect: the dedupe.
  const eventRef = db.collection(COLLECTIONS.stripeEvents).doc(event.id);
  const tenantId = await findTenantId(db, event.type, object);
  const record = (tx: Transaction, result: EventResult) =>
    tx.create(eventRef, { type: event.type, created: event.created, receivedAt: now, ...result });

  return db.runTransaction(async (tx) => {
    const [seen, tenant] = await tx.getAll(eventRef, ...(tenantId ? [refs(db).tenant(tenantId)] : []));
    if (seen.exists) return { outcome: 'duplicate', tenantId: seen.get('tenantId') ?? undefined } satisfies EventResult;
    if (!tenantId || !tenant?.exists) {
      logger.warn('stripeWebhook: no tenant for event', { eventId: event.id, type: event.type, tenantId });
      const result: EventResult = { outcome: 'unknown_tenant', ...(tenantId ? { tenantId } : {}) };
      record(tx, result);
      return result;
    }
    const result = event.type === 'customer.subscription.trial_will_end' ? await remind(tx, tenant) : applyToTenant(tx, db, tenant, event, object, now);
    record(tx, result);
    return result;
  });
}

/** Stripe's trial_will_end queues the same reminder document as the remindEndingTrials sweep: one mail. */
async function remind(tx: Transaction, tenant: DocumentSnapshot): Promise<EventResult> {
  const trialEndsAt = tenant.get('trialEndsAt');
  const ms = typeof trialEndsAt?.toMillis === 'function' ? trialEndsAt.toMillis() : 0;
  const mail = await tx.get(reminderRef(tenant.ref.firestore, tenant.id, ms));
  const outcome = queueReminderInTransaction(tx, tenant, mail, ms);
  return outcome === 'queued' ? { outcome: 'reminder_queued', tenantId: tenant.id } : { outcome: 'no_change', tenantId: tenant.id, detail: outcome };
}

/** A billing-state event: dropped when older than what was applied last, else mapped to a lifecycle event. */
function applyToTenant(tx: Transaction, db: Firestore, tenant: DocumentSnapshot, event: Stripe.Event, object: Obj, now: Date): EventResult {
  const tenantId = tenant.id;
  const last = Number(tenant.get('lastStripeEventCreated') ?? 0);
  if (event.created < last) return { outcome: 'stale', tenantId, detail: `created ${event.created} < last applied ${last}` };
  const status = tenant.get('status') as TenantStatus;
  const { lifecycleEvent, trialEndsAt, links } = decide(event, object, tenant, now);
  const attempts = Number(object.attempt_count);
  const failedPaymentRetries = event.type === 'invoice.payment_failed' && attempts > 1 ? attempts - 1 : undefined;
  const tenantFields = { ...links, lastStripeEventCreated: event.created };
  if (lifecycleEvent && isAllowed(status, lifecycleEvent)) {
    const done = transitionInTransaction(tx, db, tenant, lifecycleEvent, {
      actor: `stripe:${event.id}`,
      now,
      stripeEventId: event.id,
      eventCreated: event.created,
      trialEndsAt,
      failedPaymentRetries,
      tenantFields,
    });
    return { outcome: 'applied', tenantId, transition: { from: done.from, to: done.to }, detail: lifecycleEvent };
  }
  // Still the newest word on this tenant's billing: older events arriving later are dropped.
  tx.update(tenant.ref, { ...tenantFields, updatedAt: now });
  return lifecycleEvent
    ? { outcome: 'not_applicable', tenantId, detail: `'${lifecycleEvent}' does not apply in status '${status}'` }
    : { outcome: 'no_change', tenantId };
}

function decide(event: Stripe.Event, object: Obj, tenant: DocumentSnapshot, now: Date): { lifecycleEvent?: LifecycleEvent; trialEndsAt?: Date; links?: Obj } {
  const status = tenant.get('status') as TenantStatus;
  switch (event.type) {
    case 'customer.subscription.deleted':
      return { lifecycleEvent: 'subscription_canceled' };
    case 'customer.subscription.created':
    case 'customer.subscription.updated': {
      const previous = (event.data.previous_attributes ?? {}) as Obj;
      // An update that changed neither status nor trial (metadata, quantity) must not undo a staff action.
      if (event.type === 'customer.subscription.updated' && !('status' in previous) && !('trial_end' in previous)) return {};
      if (object.status === 'trialing') return trialFromStripe(object, tenant, now);
      return { lifecycleEvent: eventForSubscriptionStatus(String(object.status), status) ?? undefined };
    }
    case 'invoice.paid':
      return { lifecycleEvent: 'payment_succeeded' };
    case 'invoice.payment_failed':
      return { lifecycleEvent: eventForFailedInvoice(Number(object.attempt_count ?? 1)) };
    case 'checkout.session.completed': {
      const links: Obj = {};
      const customer = idOf(object.customer);
      const subscription = idOf(object.subscription);
      if (customer) links.stripeCustomerId = customer;
      if (subscription) links.stripeSubscriptionId = subscription;
      if (object.payment_status !== 'paid') return { links };
      return { links, lifecycleEvent: status === 'cancelled' ? 'reactivated' : 'payment_succeeded' };
    }
    default:
      return {};
  }
}

/** A trialing subscription whose trial end differs from ours (extended in Stripe): extend ours to match. */
function trialFromStripe(subscription: Obj, tenant: DocumentSnapshot, now: Date): { lifecycleEvent?: LifecycleEvent; trialEndsAt?: Date } {
  const trialEnd = Number(subscription.trial_end ?? 0) * 1000;
  const ours = tenant.get('trialEndsAt');
  const oursSeconds = typeof ours?.toMillis === 'function' ? Math.floor(ours.toMillis() / 1000) * 1000 : null;
  if (!trialEnd || trialEnd <= now.getTime() || trialEnd === oursSeconds) return {};
  return { lifecycleEvent: 'extend_trial', trialEndsAt: new Date(trialEnd) };
}

/** The tenant id from Stripe's metadata (set by the provisioning saga), else the tenant holding the customer id. */
async function findTenantId(db: Firestore, type: HandledType, object: Obj): Promise<string | undefined> {
  let fromMetadata: string | undefined;
  if (type.startsWith('invoice.')) {
    const parent = object.parent as { subscription_details?: Obj } | null | undefined;
    fromMetadata =
      metaTenant(parent?.subscription_details) ??
      metaTenant(object.subscription_details) ??
      metaTenant((object.lines as { data?: Obj[] } | undefined)?.data?.[0]) ??
      metaTenant(object);
  } else if (type === 'checkout.session.completed') {
    fromMetadata = (typeof object.client_reference_id === 'string' && object.client_reference_id) || metaTenant(object);
  } else {
    fromMetadata = metaTenant(object);
  }
  // Only ids this product makes: anything else (a path, say) is not ours.
  if (fromMetadata) return TENANT_ID.test(fromMetadata) ? fromMetadata : undefined;
  const customer = idOf(object.customer);
  if (!customer) return undefined;
  const holders = await db.collection(COLLECTIONS.tenants).where('stripeCustomerId', '==', customer).limit(2).get();
  if (holders.size > 1) throw new Error(`Stripe customer ${customer} is linked to more than one tenant`);
  return holders.docs[0]?.id;
}

/**
 * The parts of a Stripe webhook event this product reads, parsed with zod. Pure: no firebase import.
 * An event is only a notification: what it says about a subscription is re-read from Stripe
 * (domain/billing.ts), so only ids and the tenant hint are taken from it.
 */
import { z } from 'zod';

const StripeId = z.string().min(1).max(255);
const StripeRef = z.union([StripeId, z.object({ id: StripeId })]).transform((ref) => (typeof ref === 'string' ? ref : ref.id));
const Metadata = z.record(z.string(), z.string()).nullish();

export const StripeEventEnvelopeSchema = z.object({
  id: StripeId,
  /** The version `data` was rendered at: the endpoint's (STRIPE.md §11). */
  api_version: z.string().nullish(),
  type: z.string().min(1),
  created: z.number().int().nonnegative(),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

const SubscriptionObjectSchema = z.object({ id: StripeId, customer: StripeRef, metadata: Metadata });

const InvoiceObjectSchema = z.object({
  customer: StripeRef.nullish(),
  // basil and later: the subscription an invoice bills is under parent.subscription_details.
  parent: z
    .object({ subscription_details: z.object({ subscription: StripeRef, metadata: Metadata }).nullish() })
    .nullish(),
  // Before basil (an endpoint on an older API version, STRIPE.md §0): at the top level.
  subscription: StripeRef.nullish(),
  subscription_details: z.object({ metadata: Metadata }).nullish(),
});

const CheckoutSessionObjectSchema = z.object({
  id: StripeId,
  mode: z.enum(['payment', 'setup', 'subscription']).nullish(),
  customer: StripeRef.nullish(),
  subscription: StripeRef.nullish(),
  client_reference_id: z.string().nullish(),
  metadata: Metadata,
});

/** What an event is about, for the webhook. */
export type EventSubject =
  | { kind: 'subscription'; subscriptionId: string; customerId: string | null; tenantHint: string | null }
  /** An invoice that bills no subscription (a one-off invoice): nothing for the tenant's status. */
  | { kind: 'no_subscription'; customerId: string | null }
  | { kind: 'checkout'; sessionId: string; mode: 'payment' | 'setup' | 'subscription' | null; customerId: string | null; subscriptionId: string | null; tenantHint: string | null }
  /** The customer changed (its default card, say): what the tenant shows of its billing is read again. */
  | { kind: 'customer'; customerId: string; tenantHint: string | null }
  | { kind: 'ignored' };

/** The event families that say something about a tenant's billing; every other type is acknowledged and ignored. */
export const HANDLED_EVENT_PREFIXES = ['customer.subscription.', 'invoice.'] as const;
export const CHECKOUT_COMPLETED = 'checkout.session.completed';
export const CUSTOMER_UPDATED = 'customer.updated';

export function isHandledEventType(type: string): boolean {
  return type === CHECKOUT_COMPLETED || type === CUSTOMER_UPDATED || HANDLED_EVENT_PREFIXES.some((prefix) => type.startsWith(prefix));
}

const CustomerObjectSchema = z.object({ id: StripeId, metadata: Metadata });

/** Parses the envelope and the fields used of `data.object`; throws a ZodError on a shape it cannot read. */
export function subjectOf(event: unknown): { id: string; type: string; created: number; subject: EventSubject } {
  const envelope = StripeEventEnvelopeSchema.parse(event);
  const { id, type, created } = envelope;
  const object = envelope.data.object;
  if (!isHandledEventType(type)) return { id, type, created, subject: { kind: 'ignored' } };
  if (type.startsWith('customer.subscription.')) {
    const sub = SubscriptionObjectSchema.parse(object);
    return { id, type, created, subject: { kind: 'subscription', subscriptionId: sub.id, customerId: sub.customer, tenantHint: sub.metadata?.tenantId ?? null } };
  }
  if (type.startsWith('invoice.')) {
    const invoice = InvoiceObjectSchema.parse(object);
    const details = invoice.parent?.subscription_details;
    const subscriptionId = details?.subscription ?? invoice.subscription ?? null;
    if (!subscriptionId) return { id, type, created, subject: { kind: 'no_subscription', customerId: invoice.customer ?? null } };
    const metadata = details ? details.metadata : invoice.subscription_details?.metadata;
    return {
      id,
      type,
      created,
      subject: { kind: 'subscription', subscriptionId, customerId: invoice.customer ?? null, tenantHint: metadata?.tenantId ?? null },
    };
  }
  if (type === CUSTOMER_UPDATED) {
    const customer = CustomerObjectSchema.parse(object);
    return { id, type, created, subject: { kind: 'customer', customerId: customer.id, tenantHint: customer.metadata?.tenantId ?? null } };
  }
  const session = CheckoutSessionObjectSchema.parse(object);
  return {
    id,
    type,
    created,
    subject: {
      kind: 'checkout',
      sessionId: session.id,
      mode: session.mode ?? null,
      customerId: session.customer ?? null,
      subscriptionId: session.subscription ?? null,
      tenantHint: session.client_reference_id || session.metadata?.tenantId || null,
    },
  };
}

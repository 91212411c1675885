import { logger } from 'firebase-functions';
import Stripe from 'stripe';
import { isMissing } from '../adapters/stripe';

/** The API version the pinned SDK speaks: the shapes every schema here reads (README, Deploying: the endpoint is created with it). */
export const PINNED_API_VERSION: string = Stripe.API_VERSION;

/**
 * An event rendered at another API version than the pinned one (an endpoint created on an older one,
 * or on the account's default) is read as the pinned SDK sees it: its invoice is retrieved again by
 * id, since an invoice's subscription moved between versions (STRIPE.md §0) and the webhook reads
 * nothing else of an object but ids. A mismatch is logged as an alert for operators to fix the
 * endpoint; an invoice that is gone (a deleted draft) keeps the event's own copy, which
 * domain/stripeEvents.ts also reads in the older shape.
 */
export async function atPinnedVersion(stripe: Stripe, event: Stripe.Event): Promise<Stripe.Event> {
  if (!event.api_version || event.api_version === PINNED_API_VERSION) return event;
  logger.warn('stripeWebhook: ALERT event rendered at another API version than the pinned one; create the endpoint with the pinned version (README, Deploying)', {
    alert: 'stripe-api-version-mismatch',
    eventId: event.id,
    type: event.type,
    apiVersion: event.api_version,
    pinned: PINNED_API_VERSION,
  });
  const object = event.data.object as { object?: unknown; id?: unknown };
  if (object.object !== 'invoice' || typeof object.id !== 'string') return event;
  try {
    const invoice = await stripe.invoices.retrieve(object.id);
    return { ...(event as object), data: { ...event.data, object: invoice } } as unknown as Stripe.Event;
  } catch (error) {
    if (isMissing(error)) return event;
    throw error;
  }
}

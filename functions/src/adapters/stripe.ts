import Stripe from 'stripe';
import { z } from 'zod';
import { StripeSubscriptionSchema, type CardOnFile, type StripeSubscriptionState } from '../domain/billing';

/**
 * One Stripe call's worst case, 2 tries of 20 s, stays below the saga's attempt budget (45 s) and so
 * below its 60 s lease: a call is never still running when another worker may take over its job.
 */
const TIMEOUT_MS = 20_000;

/**
 * The Stripe client. `STRIPE_API_BASE` (set only by the local launcher and the tests) points it at
 * the local fake Stripe; without it, the real Stripe API with `STRIPE_SECRET_KEY`.
 */
export function stripeClient(env: NodeJS.ProcessEnv = process.env): Stripe {
  const key = env.STRIPE_SECRET_KEY;
  if (!key) throw new Error('STRIPE_SECRET_KEY is not set (see README, Configuration)');
  if (!env.STRIPE_API_BASE) return new Stripe(key, { maxNetworkRetries: 1, timeout: TIMEOUT_MS });
  const base = new URL(env.STRIPE_API_BASE);
  return new Stripe(key, {
    host: base.hostname,
    port: Number(base.port),
    protocol: base.protocol === 'https:' ? 'https' : 'http',
    maxNetworkRetries: 0,
    timeout: TIMEOUT_MS,
    telemetry: false,
  });
}

/** The webhook signing secret: `functions/.env.local` on the emulators, a Firebase secret in production. */
export function stripeWebhookSecret(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.STRIPE_WEBHOOK_SECRET || undefined;
}

/** Stripe answers 404 resource_missing for what is already gone: an undo treats that as done. */
export function isMissing(error: unknown): boolean {
  return error instanceof Stripe.errors.StripeError && error.code === 'resource_missing';
}

/**
 * Stripe's truth about a subscription: re-read with its latest invoice and the card it will be
 * charged to (the customer's default), parsed to the fields the billing map and the billing page
 * read (domain/billing.ts). A shape it cannot read throws, so the caller fails and retries.
 */
export async function retrieveSubscriptionState(stripe: Stripe, subscriptionId: string): Promise<StripeSubscriptionState & { card: CardOnFile | null }> {
  const subscription = await stripe.subscriptions.retrieve(subscriptionId, { expand: ['latest_invoice', 'customer.invoice_settings.default_payment_method'] });
  return { ...StripeSubscriptionSchema.parse(subscription), card: CardSchema.parse(subscription.customer) };
}

/** The customer's default card, from the expanded customer (a deleted or unexpanded one has none to show). */
const CardSchema = z
  .unknown()
  .transform((customer): CardOnFile | null => {
    const pm = (customer as { invoice_settings?: { default_payment_method?: unknown } } | null)?.invoice_settings?.default_payment_method;
    const card = typeof pm === 'object' && pm !== null ? (pm as { card?: { brand?: unknown; last4?: unknown } }).card : undefined;
    return card && typeof card.brand === 'string' && typeof card.last4 === 'string' ? { brand: card.brand, last4: card.last4 } : null;
  });

import Stripe from 'stripe';
import { z } from 'zod';
import { STRIPE_API_BASE, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET } from '../config';
import { StripeSubscriptionSchema, type CardOnFile, type StripeSubscriptionState } from '../domain/billing';

/**
 * One Stripe call's worst case, 2 tries of 20 s, stays below the saga's attempt budget (45 s) and so
 * below its 60 s lease: a call is never still running when another worker may take over its job.
 */
const TIMEOUT_MS = 20_000;

/**
 * The Stripe client. `STRIPE_API_BASE` (set only by the local launcher and the tests) points it at
 * the local fake Stripe; without it, the real Stripe API with the `STRIPE_SECRET_KEY` secret, which
 * only a function that lists it in `secrets` can read.
 */
export function stripeClient(): Stripe {
  const key = STRIPE_SECRET_KEY.value();
  if (!key) throw new Error('STRIPE_SECRET_KEY is not bound to this function (add it to its `secrets`) or not set (README, Configuration)');
  const apiBase = STRIPE_API_BASE.value();
  if (!apiBase) return new Stripe(key, { maxNetworkRetries: 1, timeout: TIMEOUT_MS });
  const base = new URL(apiBase);
  return new Stripe(key, {
    host: base.hostname,
    port: Number(base.port),
    protocol: base.protocol === 'https:' ? 'https' : 'http',
    maxNetworkRetries: 0,
    timeout: TIMEOUT_MS,
    telemetry: false,
  });
}

/** The webhook signing secret: Secret Manager in production, `functions/.secret.local` on the emulators. */
export function stripeWebhookSecret(): string | undefined {
  return STRIPE_WEBHOOK_SECRET.value() || undefined;
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
/** The name the local Stripe simulator gives the clock every local customer joins (tools/fake-stripe/testClocks.ts). */
export const LOCAL_TEST_CLOCK_NAME = 'Local clock (every customer the app creates)';

/** The local Stripe test clock (the one named as the simulator names it), or null where there is none. */
export async function findLocalTestClock(stripe: Stripe): Promise<Stripe.TestHelpers.TestClock | null> {
  for await (const clock of stripe.testHelpers.testClocks.list({ limit: 100 })) {
    if (clock.name === LOCAL_TEST_CLOCK_NAME) return clock;
  }
  return null;
}

/** The local test clock's time (unix seconds) and creation, as the app's clock reads it (lifecycle/localClock.ts). */
export async function readLocalTestClock(stripe: Stripe): Promise<{ id: string; frozenTime: number; created: number } | null> {
  const clock = await findLocalTestClock(stripe);
  return clock && { id: clock.id, frozenTime: clock.frozen_time, created: clock.created };
}

/**
 * Moves the local Stripe test clock (the one named as the simulator names it; none: null) to `to`, in
 * the steps Stripe allows (at most two intervals of the shortest subscription on it at once), waiting
 * each time until Stripe has run everything due by then: renewals, trial ends, retries and their events.
 * A clock already at or past `to` stays where it is.
 */
export async function advanceLocalTestClock(stripe: Stripe, to: Date, waitMs = 60_000): Promise<{ testClockId: string } | null> {
  let clock = await findLocalTestClock(stripe);
  if (!clock) return null;
  const target = Math.floor(to.getTime() / 1000);
  let step = target - clock.frozen_time;
  while (clock.frozen_time < target) {
    try {
      await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: Math.min(target, clock.frozen_time + step) });
    } catch (error) {
      // Too far for one move: halve the step, down to a day.
      if (!(error instanceof Stripe.errors.StripeInvalidRequestError) || error.param !== 'frozen_time' || step <= DAY_SECONDS) throw error;
      step = Math.max(DAY_SECONDS, Math.floor(step / 2));
      continue;
    }
    clock = await readyClock(stripe, clock.id, waitMs);
  }
  return { testClockId: clock.id };
}

const DAY_SECONDS = 86_400;

async function readyClock(stripe: Stripe, id: string, waitMs: number): Promise<Stripe.TestHelpers.TestClock> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const clock = await stripe.testHelpers.testClocks.retrieve(id);
    if (clock.status === 'ready') return clock;
    if (clock.status === 'internal_failure') throw new Error(`Stripe test clock ${id} failed to advance`);
    if (Date.now() > deadline) throw new Error(`Stripe test clock ${id} is still advancing after ${waitMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

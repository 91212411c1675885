import Stripe from 'stripe';

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

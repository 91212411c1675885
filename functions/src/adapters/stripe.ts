import Stripe from 'stripe';

/**
 * The Stripe client. `STRIPE_API_BASE` (set only by the local launcher and the tests) points it at
 * the local fake Stripe; without it, the real Stripe API with `STRIPE_SECRET_KEY`.
 */
export function stripeClient(env: NodeJS.ProcessEnv = process.env): Stripe {
  const key = env.STRIPE_SECRET_KEY;
  if (!key) throw new Error('STRIPE_SECRET_KEY is not set (see README, Configuration)');
  if (!env.STRIPE_API_BASE) return new Stripe(key, { maxNetworkRetries: 2 });
  const base = new URL(env.STRIPE_API_BASE);
  return new Stripe(key, {
    host: base.hostname,
    port: Number(base.port),
    protocol: base.protocol === 'https:' ? 'https' : 'http',
    maxNetworkRetries: 0,
    telemetry: false,
  });
}

/** Stripe answers 404 resource_missing for what is already gone: an undo treats that as done. */
export function isMissing(error: unknown): boolean {
  return error instanceof Stripe.errors.StripeError && error.code === 'resource_missing';
}

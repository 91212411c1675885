import { onRequest } from 'firebase-functions/v2/https';
import { firebase } from '../adapters/firestore';
import { stripeClient, stripeWebhookSecret } from '../adapters/stripe';
import { respondToStripeWebhook } from '../billing/webhook';
import { appClock } from './deps';
import { WITH_STRIPE_WEBHOOK } from './options';

/** Stripe's events: verified on the raw body, applied once each; a failure answers 500 so Stripe retries. */
export const stripeWebhook = onRequest(WITH_STRIPE_WEBHOOK, async (req, res) => {
  if (req.method !== 'POST') {
    res.status(405).set('Allow', 'POST').json({ error: 'POST only' });
    return;
  }
  // The app's now (the local Stripe test clock on the emulators): pastDueSince is measured against it.
  const now = await appClock()();
  const { status, body } = await respondToStripeWebhook(
    { db: firebase().db, stripe: () => stripeClient(), secret: stripeWebhookSecret(), now: () => now },
    { rawBody: req.rawBody, signature: req.headers['stripe-signature'] },
  );
  res.status(status).json(body);
});

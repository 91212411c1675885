import { onRequest } from 'firebase-functions/v2/https';
import { firebase } from '../adapters/firestore';
import { stripeClient, stripeWebhookSecret } from '../adapters/stripe';
import { respondToStripeWebhook } from '../billing/webhook';
import { WITH_STRIPE_WEBHOOK } from './options';

/** Stripe's events: verified on the raw body, applied once each; a failure answers 500 so Stripe retries. */
export const stripeWebhook = onRequest(WITH_STRIPE_WEBHOOK, async (req, res) => {
  if (req.method !== 'POST') {
    res.status(405).set('Allow', 'POST').json({ error: 'POST only' });
    return;
  }
  const { status, body } = await respondToStripeWebhook(
    { db: firebase().db, stripe: () => stripeClient(), secret: stripeWebhookSecret() },
    { rawBody: req.rawBody, signature: req.headers['stripe-signature'] },
  );
  res.status(status).json(body);
});

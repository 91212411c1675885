// Checkout completed → tenant active, on the local stack: the Stripe simulator the launcher started
// (its hosted Checkout page, its signed deliveries), the real stripeWebhook on the Functions emulator,
// the Firestore emulator. Each round alternates, on one trial tenant, the floor (a customer update: a
// signed delivery, one Stripe re-read, one transaction that changes nothing) and the conversion (the
// good card typed on the hosted page; its checkout.session.completed converts the subscription in
// Stripe and makes the tenant active). Called from scripts/bench.ts; returns a markdown section.
import type { Auth } from 'firebase-admin/auth';
import type { Firestore } from 'firebase-admin/firestore';
import Stripe from 'stripe';
import { startCheckout } from '../functions/src/billing/checkout';
import { planPriceId } from '../functions/src/adapters/prices';
import { subscriptionTerms } from '../functions/src/domain/billing';
import { FakeStripeControl } from '../tools/fake-stripe/control';

const RUNS = Number(process.env.BENCH_CHECKOUT_RUNS ?? 30);
const WARMUP = 3;
const DAY = 86_400;
const T0 = Date.UTC(2027, 2, 1) / 1000;

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
const ms = (x: number) => x.toFixed(0);
const now = () => Number(process.hrtime.bigint()) / 1e6;

/** Resolves (with the time it saw it) once `query` has a document matching `ok`. */
function firstMatch(query: FirebaseFirestore.Query | FirebaseFirestore.DocumentReference, ok: (data: FirebaseFirestore.DocumentData) => boolean, limitMs = 60_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error('bench-checkout: timed out waiting for the webhook'));
    }, limitMs);
    const done = (at: number) => {
      clearTimeout(timer);
      stop();
      resolve(at);
    };
    const stop =
      query instanceof Object && 'where' in query
        ? (query as FirebaseFirestore.Query).onSnapshot((snap) => snap.docs.some((d) => ok(d.data())) && done(now()))
        : (query as FirebaseFirestore.DocumentReference).onSnapshot((snap) => snap.exists && ok(snap.data()!) && done(now()));
  });
}

export async function benchCheckout(db: Firestore, auth: Auth): Promise<string> {
  const base = process.env.STRIPE_API_BASE;
  const webhookUrl = process.env.STRIPE_WEBHOOK_URL;
  if (!base || !webhookUrl) return 'Skipped: no local Stripe simulator delivering to this run’s stripeWebhook (STRIPE_API_BASE, STRIPE_WEBHOOK_URL).';
  const url = new URL(base);
  const stripe = new Stripe(process.env.STRIPE_SECRET_KEY ?? 'sk_test_local_placeholder', { host: url.hostname, port: Number(url.port), protocol: 'http', maxNetworkRetries: 0, telemetry: false });
  const sim = new FakeStripeControl(base);
  const hook = await sim.addWebhook({ url: webhookUrl, secret: process.env.STRIPE_WEBHOOK_SECRET ?? 'whsec_local_placeholder', apiKey: process.env.STRIPE_SECRET_KEY ?? 'sk_test_local_placeholder' });
  const floor: number[] = [];
  const checkoutToActive: number[] = [];
  const cardToActive: number[] = [];
  try {
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const tenantId = `bench-checkout-${Date.now().toString(36)}-${i}`;
      const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0, name: tenantId });
      const customer = await stripe.customers.create({ email: `owner@${tenantId}.test`, name: tenantId, test_clock: clock.id, metadata: { tenantId } });
      const trialEndsAt = new Date((T0 + 14 * DAY) * 1000);
      const subscription = await stripe.subscriptions.create({
        ...subscriptionTerms({ plan: 'team', seatCap: 25, trialEndsAt, daysUntilDue: null }, await planPriceId(stripe, 'team')),
        customer: customer.id,
        metadata: { tenantId },
      } as Stripe.SubscriptionCreateParams);
      const owner = await auth.createUser({ email: `owner@${tenantId}.test`, password: 'bench-password', emailVerified: true });
      await db.doc(`tenants/${tenantId}`).set({
        name: `Bench ${i}`,
        slug: tenantId,
        status: 'trial',
        source: 'self_serve',
        plan: 'team',
        seatCap: 25,
        trialEndsAt,
        ownerUid: owner.uid,
        billingEmail: customer.email,
        failedPaymentRetries: 0,
        stripeCustomerId: customer.id,
        stripeSubscriptionId: subscription.id,
      });
      await db.doc(`tenants/${tenantId}/members/${owner.uid}`).set({ uid: owner.uid, role: 'owner', email: customer.email });
      const { url: checkoutUrl } = await startCheckout({ db, auth, stripe: () => stripe, appUrl: 'http://127.0.0.1:5000' }, { uid: owner.uid }, { tenantId, plan: 'starter', seats: 3 });
      await sim.flushWebhooks(60_000);

      // The floor: a customer update, from Stripe's answer to the webhook's record of its event.
      const recorded = firstMatch(db.collection('stripeEvents').where('tenantId', '==', tenantId), (e) => e.type === 'customer.updated');
      const f0 = now();
      await stripe.customers.update(customer.id, { metadata: { benchRound: String(i) } });
      const f1 = await recorded;

      // The conversion: the good card typed on the hosted page; the page answers once the session is complete.
      const active = firstMatch(db.doc(`tenants/${tenantId}`), (t) => t.status === 'active');
      const c0 = now();
      const answer = await fetch(checkoutUrl, { method: 'POST', body: new URLSearchParams({ card_number: '4242424242424242', expiry: '12 / 34', cvc: '123' }), redirect: 'manual' });
      const completed = now();
      if (answer.status !== 303) throw new Error(`bench-checkout: the hosted page answered ${answer.status}`);
      const c1 = await active;
      if (i >= WARMUP) {
        floor.push(f1 - f0);
        checkoutToActive.push(c1 - completed);
        cardToActive.push(c1 - c0);
      }
      await sim.flushWebhooks(60_000);
    }
  } finally {
    await sim.removeWebhook(hook);
  }
  const row = (label: string, xs: number[]) =>
    `| ${label} | ${ms(percentile(xs, 50))} | ${ms(percentile(xs, 95))} | ${(percentile(xs, 50) / percentile(floor, 50)).toFixed(1)} |`;
  return [
    `${RUNS} trial tenants (after ${WARMUP} warm-up rounds), each on a test clock of its own in the Stripe simulator the launcher started,`,
    'its signed events delivered to the real `stripeWebhook` on the Functions emulator. Per round, side by side: the floor',
    '(a customer update in Stripe until the webhook has recorded its event: delivery, one Stripe re-read, one transaction',
    'that changes nothing), then the conversion (the good card typed on the hosted Checkout page; the time from the page’s',
    'answer, when the session is complete and `checkout.session.completed` is queued, until the tenant document says `active`).',
    '',
    '| | p50 ms | p95 ms | p50 × floor |',
    '| --- | ---: | ---: | ---: |',
    row('floor: a customer update until its event is recorded', floor),
    row('**checkout completed → tenant active**', checkoutToActive),
    row('card typed → tenant active (the hosted page’s own work included)', cardToActive),
  ].join('\n');
}

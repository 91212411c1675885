// The Stripe webhook's handling (functions/src/billing/webhook.ts) on the Firestore emulator and the
// Stripe simulator: how many deliveries per second it takes when every event comes twice and in no
// order (the dedupe and the re-read of Stripe on each), and what one event costs next to the cheapest
// transaction there is, measured side by side. Called from scripts/bench.ts; returns a markdown section.
import type { Firestore } from 'firebase-admin/firestore';
import type Stripe from 'stripe';
import { handleStripeEvent, type EventResult } from '../functions/src/billing/webhook';
import { planPriceId } from '../functions/src/adapters/prices';
import { subscriptionTerms } from '../functions/src/domain/billing';
import { isHandledEventType } from '../functions/src/domain/stripeEvents';
import type { FakeStripe } from '../tools/fake-stripe/server';

const TENANTS = Number(process.env.BENCH_WEBHOOK_TENANTS ?? 30);
const CONCURRENCY = Number(process.env.BENCH_WEBHOOK_CONCURRENCY ?? 8);
const ROUNDS = Number(process.env.BENCH_WEBHOOK_ROUNDS ?? 100);
const WARMUP = 10;
const DAY = 86_400;
const T0 = Date.UTC(2027, 2, 1) / 1000;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(0.95 * xs.length) - 1)];
const ms = (x: number) => x.toFixed(1);

/** A seeded shuffle (mulberry32), so every run of the bench delivers in the same order. */
function shuffled<T>(items: T[], seed = 7): T[] {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

async function waitReady(stripe: Stripe, clockId: string) {
  while ((await stripe.testHelpers.testClocks.retrieve(clockId)).status !== 'ready') await new Promise((r) => setTimeout(r, 10));
}

/** Self-serve tenants whose trial ends with a card: each lives through a trial start, the trial's end and its first payment. */
async function seedTenants(db: Firestore, stripe: Stripe): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < TENANTS; i++) {
    const tenantId = `bench-webhook-${i}`;
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
    const customer = await stripe.customers.create({
      test_clock: clock.id,
      metadata: { tenantId },
      payment_method: 'pm_card_visa',
      invoice_settings: { default_payment_method: 'pm_card_visa' },
    });
    const trialEndsAt = new Date((T0 + 14 * DAY) * 1000);
    const subscription = await stripe.subscriptions.create({
      ...subscriptionTerms({ plan: 'team', seatCap: 25, trialEndsAt, daysUntilDue: null }, await planPriceId(stripe, 'team')),
      customer: customer.id,
      metadata: { tenantId },
    } as Stripe.SubscriptionCreateParams);
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: T0 + 14 * DAY + 2 * 3600 });
    await waitReady(stripe, clock.id);
    await db.doc(`tenants/${tenantId}`).set({
      name: `Bench ${i}`,
      status: 'trial',
      source: 'self_serve',
      plan: 'team',
      trialEndsAt,
      billingEmail: `owner-${i}@bench.test`,
      failedPaymentRetries: 0,
      stripeCustomerId: customer.id,
      stripeSubscriptionId: subscription.id,
    });
    ids.push(tenantId);
  }
  return ids;
}

export async function benchWebhook(db: Firestore, stripe: Stripe, fake: FakeStripe): Promise<string> {
  fake.reset();
  const tenantIds = await seedTenants(db, stripe);
  const events = (await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 10_000 })).filter((e) => isHandledEventType(e.type));
  const now = new Date();

  // Throughput: every event delivered twice, the whole lot shuffled; one at a time, then CONCURRENCY in flight.
  const deliveries = shuffled([...events, ...events]);
  const runs = [];
  const subscriptionOf = (e: Stripe.Event) => {
    const object = e.data.object as { id?: string; parent?: { subscription_details?: { subscription?: string } } | null };
    return object.parent?.subscription_details?.subscription ?? object.id ?? '';
  };
  for (const mode of [
    { label: '1', concurrency: 1, perTenant: false },
    { label: `${CONCURRENCY}`, concurrency: CONCURRENCY, perTenant: false },
    { label: `${CONCURRENCY}, one at a time per tenant`, concurrency: CONCURRENCY, perTenant: true },
  ]) {
    await db.recursiveDelete(db.collection('stripeEvents'));
    await Promise.all(tenantIds.map((id) => db.doc(`tenants/${id}`).update({ status: 'trial' })));
    const outcomes: Record<string, number> = {};
    const queues = new Map<string, Promise<unknown>>();
    let cursor = 0;
    const handle = async (event: Stripe.Event) => {
      const result: EventResult = await handleStripeEvent({ db, stripe }, event, now);
      outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
    };
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: mode.concurrency }, async () => {
        while (cursor < deliveries.length) {
          const event = deliveries[cursor++];
          if (!mode.perTenant) {
            await handle(event);
            continue;
          }
          // A per-tenant queue: this tenant's previous delivery finishes first; other tenants go on meanwhile.
          const key = subscriptionOf(event);
          const turn = (queues.get(key) ?? Promise.resolve()).then(() => handle(event));
          queues.set(key, turn);
          await turn;
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const statuses = await Promise.all(tenantIds.map(async (id) => (await db.doc(`tenants/${id}`).get()).get('status')));
    runs.push({ label: mode.label, perSecond: deliveries.length / seconds, outcomes, active: statuses.filter((st) => st === 'active').length });
  }

  // One event against the floor, alternated so noise falls on both: a fresh event (not seen before, tenant
  // already where Stripe says), a duplicate, Stripe's retrieve alone, and a bare read-then-write transaction.
  const sample = events.find((e) => e.type === 'invoice.paid')!;
  const subscriptionId = (await db.doc(`tenants/${tenantIds[0]}`).get()).get('stripeSubscriptionId') as string;
  const floor: number[] = [];
  const fresh: number[] = [];
  const duplicate: number[] = [];
  const retrieve: number[] = [];
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    const ref = db.collection('benchFloor').doc(`floor-${i}`);
    const copy = { ...sample, id: `evt_bench_copy_${i}` } as Stripe.Event;
    const f = await timed(() => db.runTransaction(async (tx) => void (await tx.get(ref), tx.set(ref, { at: new Date() }))));
    const h = await timed(() => handleStripeEvent({ db, stripe }, copy, now));
    const d = await timed(() => handleStripeEvent({ db, stripe }, copy, now));
    const r = await timed(() => stripe.subscriptions.retrieve(subscriptionId, { expand: ['latest_invoice'] }));
    if (i >= WARMUP) {
      floor.push(f);
      fresh.push(h);
      duplicate.push(d);
      retrieve.push(r);
    }
  }
  const ratio = (xs: number[]) => (median(xs) / median(floor)).toFixed(1);

  return [
    `${TENANTS} self-serve tenants, each through a trial start, its trial end with a card and the first payment on its own test`,
    `clock: ${events.length} events of the types the webhook handles. Each delivered twice, all ${deliveries.length} in one seeded`,
    `shuffle, to the handler the endpoint calls (signature checking aside), on the Firestore emulator and the in-process Stripe`,
    `simulator: one delivery at a time; ${CONCURRENCY} at a time; ${CONCURRENCY} at a time but one per tenant (the tenants reset between runs).`,
    '',
    '| deliveries in flight | deliveries handled per second (dedupe and Stripe re-read included) | outcomes | tenants active at the end |',
    '| ---: | ---: | --- | ---: |',
    ...runs.map(
      (r) => `| ${r.label} | **${r.perSecond.toFixed(0)}** | ${Object.entries(r.outcomes).sort().map(([k, v]) => `${k} ${v}`).join(', ')} | ${r.active} of ${TENANTS} |`,
    ),
    '',
    `One event, ${ROUNDS} rounds alternated with the floor (a transaction that reads one document and writes it):`,
    '',
    '| | median ms | p95 ms | × floor |',
    '| --- | ---: | ---: | ---: |',
    `| floor: bare read-then-write transaction | ${ms(median(floor))} | ${ms(p95(floor))} | 1.0 |`,
    `| an event seen for the first time (event + tenant read, Stripe re-read, record written) | ${ms(median(fresh))} | ${ms(p95(fresh))} | **${ratio(fresh)}** |`,
    `| the same event again (duplicate: one transaction read, nothing written) | ${ms(median(duplicate))} | ${ms(p95(duplicate))} | ${ratio(duplicate)} |`,
    `| of which: Stripe's subscriptions.retrieve with latest_invoice alone | ${ms(median(retrieve))} | ${ms(p95(retrieve))} | ${ratio(retrieve)} |`,
  ].join('\n');
}

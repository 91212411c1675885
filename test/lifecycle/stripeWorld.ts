// The billing tests' world: the Stripe simulator that `npm test` started (STRIPE_API_BASE; the same
// account the functions use), delivering signed events to the real stripeWebhook on the Functions
// emulator; a test clock per tenant; and what a tenant's state is, seen from Firestore, the security
// rules (as a member, through the client SDK), its mails and the simulator.
import { assertFails, assertSucceeds, type RulesTestEnvironment } from '@firebase/rules-unit-testing';
import { doc, serverTimestamp, setDoc, type Firestore as ClientFirestore } from 'firebase/firestore';
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { planPriceId } from '../../functions/src/adapters/prices';
import { subscriptionTerms } from '../../functions/src/domain/billing';
import { PLANS, type PlanId } from '../../functions/src/domain/plans';
import type { TenantStatus } from '../../functions/src/domain/status';
import { advanceClock, FakeStripeControl } from '../../tools/fake-stripe/control';
import type { DeliveryRecord } from '../../tools/fake-stripe/delivery';
import { clearEmulators, db, functionsOrigin, projectId } from '../helpers/emulators';
import { membership, rulesTestEnvironment } from '../helpers/rules';
import { seedTenant, sign, tenant, WEBHOOK_SECRET } from './fixtures';

export const DAY = 86_400;
export const HOUR = 3_600;
/** Test clocks start here (unix seconds): 2027-03-01, ahead of the wall clock, which staff checks use. */
export const T0 = Date.UTC(2027, 2, 1) / 1000;

const base = process.env.STRIPE_API_BASE;
if (!base) throw new Error('STRIPE_API_BASE is not set: run the tests with `npm test`, which starts the Stripe simulator');
/** The functions' own key (functions/.env.local): the simulator keeps one account per key. */
export const STRIPE_KEY = process.env.STRIPE_SECRET_KEY ?? 'sk_test_local_placeholder';
const url = new URL(base);
export const stripe = new Stripe(STRIPE_KEY, { host: url.hostname, port: Number(url.port), protocol: 'http', maxNetworkRetries: 0, telemetry: false });
export const sim = new FakeStripeControl(base);

/** As Stripe sends them; or each step's events held, then delivered shuffled with every one twice. */
export const DELIVERIES = ['as made', 'duplicated and shuffled'] as const;
export type Delivery = (typeof DELIVERIES)[number];

/** Points the simulator at the real stripeWebhook, signing with the functions' secret (its events rendered at `apiVersion`, default the pinned one); returns the undo. */
export async function connectWebhook(apiVersion?: string): Promise<() => Promise<unknown>> {
  const { host, port } = await functionsOrigin();
  // The launcher exports the run's endpoint and secret; they are the same as what the Functions emulator serves.
  const url = process.env.STRIPE_WEBHOOK_URL ?? `http://${host}:${port}/${projectId}/us-central1/stripeWebhook`;
  const id = await sim.addWebhook({ url, secret: process.env.STRIPE_WEBHOOK_SECRET ?? WEBHOOK_SECRET, apiKey: STRIPE_KEY, ...(apiVersion ? { apiVersion } : {}) });
  return () => sim.removeWebhook(id);
}

let env: RulesTestEnvironment | undefined;
/**
 * The hooks of a file of Stripe tests: the simulator delivers to the run's stripeWebhook for the file
 * (rendered at `apiVersion`, as an endpoint created on that version receives them, and the rules
 * environment expectState reads with is open), and each test starts from empty emulators
 * and a reset simulator.
 */
export function useStripeWorld(options: { apiVersion?: string } = {}): void {
  let disconnect: (() => Promise<unknown>) | undefined;
  beforeAll(async () => {
    env = await rulesTestEnvironment();
    disconnect = await connectWebhook(options.apiVersion);
  });
  afterAll(async () => {
    await disconnect?.();
    await env?.cleanup();
    env = undefined;
  });
  beforeEach(async () => {
    await clearEmulators();
    await sim.reset();
  });
}

let seed = 1;
/**
 * Runs `step` with the delivery mode, then waits until every delivery it caused (retries included) is
 * done, and goes back to delivering as made. `hold` keeps the events until the step is over even when delivered as made.
 */
export async function step<T>(delivery: Delivery, run: () => Promise<T>, options: { hold?: boolean } = {}): Promise<T> {
  const shuffled = delivery === 'duplicated and shuffled';
  await sim.setDeliveryMode({ hold: shuffled || Boolean(options.hold), shuffle: shuffled, duplicates: shuffled ? 1 : 0, seed: seed++ });
  const result = await run();
  await sim.flushWebhooks(60_000);
  // Between steps events go out as made, so a browser's actions on the hosted pages reach the webhook on their own.
  if (shuffled || options.hold) await sim.setDeliveryMode({ hold: false, shuffle: false, duplicates: 0, seed: null });
  return result;
}

export interface BilledTenant {
  tenantId: string;
  clockId: string;
  customerId: string;
  subscriptionId: string;
  /** Unix seconds on the tenant's test clock. */
  now: number;
  paymentMethodId: string | null;
  delivery: Delivery;
}

let tenantSeq = 0;

/**
 * A tenant as provisioning leaves it: its customer on a test clock of its own (a card if given), its
 * subscription with the terms the saga sends (domain/billing.ts subscriptionTerms), the tenant document
 * linked to both, and a member. Creation events are held until the tenant is linked, as they reach it
 * after the saga's last step.
 */
export async function openTenant(
  delivery: Delivery,
  options: { source?: 'self_serve' | 'sales'; card?: string; trialDays?: number | null; daysUntilDue?: number; plan?: PlanId } = {},
): Promise<BilledTenant> {
  const source = options.source ?? 'self_serve';
  const tenantId = `${source === 'sales' ? 'sales' : 'self'}-${++tenantSeq}-${Date.now().toString(36)}`;
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0, name: tenantId });
  const trialDays = options.trialDays === undefined ? 14 : options.trialDays;
  const trialEndsAt = trialDays === null ? null : new Date((T0 + trialDays * DAY) * 1000);
  const plan = options.plan ?? (source === 'sales' ? 'enterprise' : 'team');
  const daysUntilDue = source === 'sales' ? options.daysUntilDue ?? 30 : null;
  return step(
    delivery,
    async () => {
      const customer = await stripe.customers.create({
        email: `billing@${tenantId}.test`,
        name: tenantId,
        test_clock: clock.id,
        metadata: { tenantId },
        ...(options.card ? { payment_method: options.card, invoice_settings: { default_payment_method: options.card } } : {}),
      });
      const subscription = await stripe.subscriptions.create({
        ...subscriptionTerms({ plan, seatCap: PLANS[plan].seatCap, trialEndsAt, daysUntilDue }, await planPriceId(stripe, plan)),
        customer: customer.id,
        metadata: { tenantId },
      } as Stripe.SubscriptionCreateParams);
      await seedTenant(tenantId, {
        status: trialEndsAt ? 'trial' : 'active',
        plan,
        seatCap: PLANS[plan].seatCap,
        pendingInviteLimit: PLANS[plan].pendingInviteLimit,
        source,
        trialEndsAt,
        daysUntilDue,
        billingEmail: customer.email,
        stripeCustomerId: customer.id,
        stripeSubscriptionId: subscription.id,
      });
      await db.doc(`tenants/${tenantId}/members/u-member`).set(membership('u-member', 'member'));
      const paymentMethodId = (customer.invoice_settings?.default_payment_method as string | null) ?? null;
      return { tenantId, clockId: clock.id, customerId: customer.id, subscriptionId: subscription.id, now: T0, paymentMethodId, delivery };
    },
    { hold: true },
  );
}

/** Advances the tenant's test clock (as Stripe's scheduler would pass that time) and lets every event reach the webhook. */
export async function advance(t: BilledTenant, seconds: number): Promise<void> {
  const to = t.now + seconds;
  await step(t.delivery, () => advanceClock(stripe, t.clockId, to));
  t.now = to;
}

/** A Stripe API call whose events reach the webhook before the test goes on. */
export function inStripe<T>(t: BilledTenant, call: () => Promise<T>): Promise<T> {
  return step(t.delivery, call);
}

export interface ExpectedState {
  status: TenantStatus;
  /** Whether a member may write tenant data, per the rules. */
  writes: boolean;
  /** Mail kinds the tenant has been sent, in any order. */
  mails: Array<'trial-reminder' | 'trial-expired'>;
  /** The simulator's subscription status. */
  stripe: Stripe.Subscription.Status;
  failedPaymentRetries?: number;
}

let recordSeq = 0;

/** The tenant's status, write block, mails and Stripe subscription agree with `expected`; every delivery was (in the end) answered 200. */
export async function expectState(t: BilledTenant, expected: ExpectedState): Promise<void> {
  if (!env) throw new Error('expectState needs useStripeWorld() in the test file');
  const data = await tenant(t.tenantId);
  const mails = await db.collection('mail').where('tenantId', '==', t.tenantId).get();
  const subscription = await stripe.subscriptions.retrieve(t.subscriptionId);
  // Stripe retries a failed delivery: what counts is that each one's last attempt was answered 200.
  const last = new Map<string, DeliveryRecord>();
  for (const d of await sim.deliveries()) {
    const key = `${d.eventId} ${d.endpointId} ${d.duplicate}`;
    if ((last.get(key)?.attempt ?? 0) <= d.attempt) last.set(key, d);
  }
  const failed = [...last.values()].filter((d) => d.status !== 200);
  expect({
    status: data.status,
    mails: mails.docs.map((m) => m.id.replace(new RegExp(`-${t.tenantId}-\\d+$`), '')).sort(),
    stripe: subscription.status,
    ...(expected.failedPaymentRetries !== undefined ? { failedPaymentRetries: data.failedPaymentRetries } : {}),
    failedDeliveries: failed.map((d) => `${d.type} ${d.status ?? d.error}`),
  }).toEqual({
    status: expected.status,
    mails: [...expected.mails].sort(),
    stripe: expected.stripe,
    ...(expected.failedPaymentRetries !== undefined ? { failedPaymentRetries: expected.failedPaymentRetries } : {}),
    failedDeliveries: [],
  });
  const member = env.authenticatedContext('u-member').firestore() as unknown as ClientFirestore;
  const write = setDoc(doc(member, `tenants/${t.tenantId}/records/r-${++recordSeq}`), {
    title: 'written by a member',
    body: '',
    createdBy: 'u-member',
    createdAt: serverTimestamp(),
    updatedAt: serverTimestamp(),
  });
  if (expected.writes) await assertSucceeds(write);
  else await assertFails(write);
}

export { rulesTestEnvironment };

/** POSTs a body to the real stripeWebhook with this Stripe-Signature header (or none). */
export async function postToWebhook(payload: string, signature: string | null): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const { host, port } = await functionsOrigin();
  const response = await fetch(`http://${host}:${port}/${projectId}/us-central1/stripeWebhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature ? { 'stripe-signature': signature } : {}) },
    body: payload,
  });
  return { status: response.status, body: (await response.json().catch(() => null)) as Record<string, unknown> | null };
}

/** Delivers an event as Stripe would, signed with the functions' secret. */
export function deliverSigned(event: unknown) {
  const payload = JSON.stringify(event);
  return postToWebhook(payload, sign(payload));
}

/** The simulator's events about one subscription (its own, and its invoices'), oldest first. */
export async function eventsAbout(subscriptionId: string, type?: string): Promise<Stripe.Event[]> {
  const events = await stripe.events.list({ limit: 100, ...(type ? { type } : {}) });
  return events.data
    .filter((e) => {
      const object = e.data.object as { id?: string; parent?: { subscription_details?: { subscription?: string } } | null };
      return object.id === subscriptionId || object.parent?.subscription_details?.subscription === subscriptionId;
    })
    .reverse();
}

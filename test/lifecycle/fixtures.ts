// Shared by the lifecycle tests: tenants seeded straight into the Firestore emulator, their history, and Stripe events.
import Stripe from 'stripe';
import type { NewTenant } from '../../functions/src/domain/provisioning';
import { db } from '../helpers/emulators';
import { tenantFixture } from '../helpers/rules';

export const DAY = 86_400_000;
export const WEBHOOK_SECRET = 'whsec_local_placeholder';
/** A fixed clock for the sweeps: time is a parameter. */
export const NOW = new Date('2027-01-01T00:00:00Z');
export const daysFrom = (date: Date, days: number) => new Date(date.getTime() + days * DAY);

/** A tenant as provisioning writes it, plus the lifecycle's own fields (pastDueSince, Stripe ids, ...). */
export async function seedTenant(tenantId: string, overrides: { [K in keyof NewTenant]?: unknown } & Record<string, unknown> = {}) {
  await db.doc(`tenants/${tenantId}`).set({ ...tenantFixture(tenantId, { billingEmail: `billing@${tenantId}.test` }), ...overrides });
}

export async function tenant(tenantId: string) {
  return (await db.doc(`tenants/${tenantId}`).get()).data()!;
}

export async function history(tenantId: string) {
  const entries = await db.collection(`tenants/${tenantId}/history`).orderBy('at').get();
  return entries.docs.map((d) => d.data());
}

export async function mailIds(): Promise<string[]> {
  return (await db.collection('mail').listDocuments()).map((d) => d.id).sort();
}

/** A Stripe event as Stripe sends it (the fields this project reads, and the envelope). */
export function stripeEvent(
  id: string,
  type: string,
  object: Record<string, unknown>,
  created: number,
  previousAttributes?: Record<string, unknown>,
): Stripe.Event {
  return {
    id,
    object: 'event',
    api_version: '2025-11-17.clover',
    created,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object, ...(previousAttributes ? { previous_attributes: previousAttributes } : {}) },
  } as unknown as Stripe.Event;
}

export const subscription = (tenantId: string, status: string, extra: Record<string, unknown> = {}) => ({
  id: `sub_${tenantId}`,
  object: 'subscription',
  customer: `cus_${tenantId}`,
  status,
  trial_end: null,
  metadata: { tenantId },
  ...extra,
});

export const invoice = (tenantId: string, attemptCount: number, extra: Record<string, unknown> = {}) => ({
  id: `in_${tenantId}_${attemptCount}`,
  object: 'invoice',
  customer: `cus_${tenantId}`,
  attempt_count: attemptCount,
  parent: { type: 'subscription_details', subscription_details: { subscription: `sub_${tenantId}`, metadata: { tenantId } } },
  ...extra,
});

export function sign(payload: string, options: { secret?: string; timestamp?: number } = {}): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret: options.secret ?? WEBHOOK_SECRET, timestamp: options.timestamp });
}

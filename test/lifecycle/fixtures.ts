// Shared by the lifecycle tests: tenants seeded straight into the Firestore emulator, their history, and Stripe signatures.
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

export function sign(payload: string, options: { secret?: string; timestamp?: number } = {}): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret: options.secret ?? WEBHOOK_SECRET, timestamp: options.timestamp });
}
